//! Settings: for now the AI providers of the workspace (owner/admin only — keys live here).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::ai::access::{self, PurposeUse};
use crate::ai::settings::{self, AiSettingsInput, AiSettingsView, ConnectionTest, IMAGE_PROVIDERS, TEXT_PROVIDERS};
use crate::auth::rbac::Perm;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::json_object::JsonObject;
use crate::web::page::PageCtx;
use crate::web::shown_form::ShownForm;
use crate::web::{Toast, redirect_with, render_status};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(page))
        .route("/settings/ai", web::post().to(save))
        .route("/settings/ai/test", web::post().to(test))
        .route("/api/settings/ai", web::get().to(api_get))
        .route("/api/settings/ai", web::put().to(api_put))
        .route("/api/settings/ai/test", web::post().to(api_test));
}

#[derive(Template)]
#[template(path = "settings/ai.html")]
struct SettingsPage {
    page: PageCtx,
    s: AiSettingsView,
    /// Fresh, or re-shown with the errors (the typed text fields are laid over `s`; the count is kept as typed).
    form: ShownForm,
    test: Option<ConnectionTest>,
    text_providers: [&'static str; 3],
    image_providers: [&'static str; 4],
    /// What serves each purpose now, and who pays the provider.
    uses: Vec<PurposeUse>,
    dev_offered: bool,
}

async fn current(state: &AppState, tenant_id: i64) -> AppResult<AiSettingsView> {
    let mut conn = state.db.get().await?;
    Ok(settings::load(&mut conn, tenant_id).await?.view(&state.vault))
}

async fn show(
    state: &AppState,
    page: PageCtx,
    s: AiSettingsView,
    form: ShownForm,
    test: Option<ConnectionTest>,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let uses = access::overview(state, page.ctx.tenant_id).await;
    let dev_offered = state.config.ai_dev_provider;
    render_status(
        &SettingsPage { page, s, form, test, text_providers: TEXT_PROVIDERS, image_providers: IMAGE_PROVIDERS, uses, dev_offered },
        status,
    )
}

async fn page(state: web::Data<AppState>, page: PageCtx) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ManageSettings)?;
    let s = current(&state, page.ctx.tenant_id).await?;
    show(&state, page, s, ShownForm::fresh(), None, StatusCode::OK).await
}

async fn save(state: web::Data<AppState>, page: PageCtx, form: web::Form<AiSettingsInput>) -> AppResult<HttpResponse> {
    match settings::save(&state, &page.ctx, &form).await {
        Ok(_) => Ok(redirect_with("/settings", Some(Toast::success("AI settings saved")))),
        Err(AppError::Validation(errors)) => {
            // Re-show what was typed (never the key), with the messages.
            let mut s = current(&state, page.ctx.tenant_id).await?;
            s.text_provider = form.text_provider.clone();
            s.text_base_url = form.text_base_url.clone();
            s.text_model = form.text_model.clone();
            s.fallback_model = form.fallback_model.clone();
            s.image_provider = form.image_provider.clone();
            s.image_base_url = form.image_base_url.clone();
            s.image_model = form.image_model.clone();
            let typed = vec![("images_per_article".to_string(), form.images_per_article.clone())];
            show(&state, page, s, ShownForm::refused(typed, errors), None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e),
    }
}

async fn test(state: web::Data<AppState>, page: PageCtx) -> AppResult<HttpResponse> {
    let result = settings::test_connection(&state, &page.ctx).await?;
    let s = current(&state, page.ctx.tenant_id).await?;
    show(&state, page, s, ShownForm::fresh(), Some(result), StatusCode::OK).await
}

async fn api_get(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    ctx.require(Perm::ManageSettings)?;
    let mut v = serde_json::to_value(current(&state, ctx.tenant_id).await?).map_err(anyhow::Error::from)?;
    v["uses"] = serde_json::to_value(access::overview(&state, ctx.tenant_id).await).map_err(anyhow::Error::from)?;
    Ok(HttpResponse::Ok().json(v))
}

async fn api_put(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<AiSettingsInput>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(settings::save(&state, &ctx, &body).await?))
}

async fn api_test(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(settings::test_connection(&state, &ctx).await?))
}
