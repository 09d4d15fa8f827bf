//! System → AI providers: the platform's provider accounts and which model serves each purpose (system
//! administrators only). Pages and API call the same `ai::platform` services.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::ai::platform::{self, PURPOSES, PlatformView, ProviderInput, ProviderKind, RouteInput};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::json_object::JsonObject;
use crate::web::page::PageCtx;
use crate::web::{Toast, redirect_with, render_status};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/system/ai-providers", web::get().to(page))
        .route("/system/ai-providers", web::post().to(create))
        .route("/system/ai-providers/{id}", web::post().to(update))
        .route("/system/ai-providers/{id}/delete", web::post().to(delete))
        .route("/system/ai-routes", web::post().to(route))
        .route("/api/system/ai-providers", web::get().to(api_get))
        .route("/api/system/ai-providers", web::post().to(api_create))
        .route("/api/system/ai-providers/{id}", web::put().to(api_update))
        .route("/api/system/ai-providers/{id}", web::delete().to(api_delete))
        .route("/api/system/ai-routes", web::put().to(api_route));
}

#[derive(Template)]
#[template(path = "system/ai_providers.html")]
struct ProvidersPage {
    page: PageCtx,
    v: PlatformView,
    kinds: Vec<ProviderKind>,
    errors: FieldErrors,
    /// The form that failed (`new`, a provider id, or a purpose) and what was typed in it.
    failed: String,
    typed: ProviderInput,
}

async fn show(state: &AppState, page: PageCtx, errors: FieldErrors, failed: String, typed: ProviderInput) -> AppResult<HttpResponse> {
    let v = platform::view(state, &page.ctx).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let kinds = vec![ProviderKind::OpenAi, ProviderKind::OpenAiImages, ProviderKind::Runware];
    render_status(&ProvidersPage { page, v, kinds, errors, failed, typed }, status)
}

async fn page(state: web::Data<AppState>, page: PageCtx) -> AppResult<HttpResponse> {
    show(&state, page, FieldErrors::new(), String::new(), ProviderInput::default()).await
}

/// Saved → back to the page with a toast; invalid → the page again with the messages beside the form.
async fn after(state: &AppState, page: PageCtx, res: AppResult<String>, form: &str, typed: ProviderInput) -> AppResult<HttpResponse> {
    match res {
        Ok(msg) => Ok(redirect_with("/system/ai-providers", Some(Toast::success(msg)))),
        Err(AppError::Validation(errors)) => {
            show(state, page, errors, form.to_string(), ProviderInput { api_key: String::new(), ..typed }).await
        }
        Err(e) => Err(e),
    }
}

async fn create(state: web::Data<AppState>, page: PageCtx, form: web::Form<ProviderInput>) -> AppResult<HttpResponse> {
    let res = platform::save_provider(&state, &page.ctx, None, &form).await.map(|p| format!("Provider “{}” added", p.name));
    after(&state, page, res, "new", form.into_inner()).await
}

async fn update(state: web::Data<AppState>, page: PageCtx, id: web::Path<i64>, form: web::Form<ProviderInput>) -> AppResult<HttpResponse> {
    let res = platform::save_provider(&state, &page.ctx, Some(*id), &form).await.map(|p| format!("Provider “{}” saved", p.name));
    after(&state, page, res, &id.to_string(), form.into_inner()).await
}

async fn delete(state: web::Data<AppState>, page: PageCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    platform::delete_provider(&state, &page.ctx, *id).await?;
    Ok(redirect_with("/system/ai-providers", Some(Toast::success("Provider removed, with the purposes it served"))))
}

async fn route(state: web::Data<AppState>, page: PageCtx, form: web::Form<RouteInput>) -> AppResult<HttpResponse> {
    let label = PURPOSES.iter().find(|(p, _)| *p == form.purpose).map(|(_, l)| *l).unwrap_or("The purpose");
    let res = platform::save_route(&state, &page.ctx, &form).await.map(|_| format!("{label}: saved"));
    let purpose = form.purpose.clone();
    after(&state, page, res, &purpose, ProviderInput::default()).await
}

async fn api_get(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(platform::view(&state, &ctx).await?))
}

async fn api_create(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<ProviderInput>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Created().json(platform::save_provider(&state, &ctx, None, &body).await?))
}

async fn api_update(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    body: JsonObject<ProviderInput>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(platform::save_provider(&state, &ctx, Some(*id), &body).await?))
}

async fn api_delete(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    platform::delete_provider(&state, &ctx, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn api_route(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<RouteInput>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(platform::save_route(&state, &ctx, &body).await?))
}
