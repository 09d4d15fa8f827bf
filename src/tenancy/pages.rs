//! Thin handlers for a workspace's life: create another (also the page for someone with none left), leave,
//! export and delete — each the page form and its JSON API twin calling the same service function.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::TenantCtx;
use super::delete::{self, DeleteInput};
use super::export;
use super::service::{self, CreateInput};
use crate::auth::resolve::SessionUser;
use crate::auth::service::{self as auth_service, session_cookie};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::state::AppState;
use crate::web::json_object::JsonObject;
use crate::web::page::PublicPage;
use crate::web::{Toast, redirect_with, render, render_status};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/workspaces/new", web::get().to(new_page))
        .route("/tenants/create", web::post().to(create))
        .route("/tenants/leave", web::post().to(leave))
        .route("/tenants/export", web::get().to(export_zip))
        .route("/tenants/delete", web::post().to(delete_workspace))
        .route("/api/workspaces", web::post().to(api_create))
        .route("/api/workspace/leave", web::post().to(api_leave))
        .route("/api/workspace/export", web::get().to(export_zip))
        .route("/api/workspace", web::delete().to(api_delete));
}

/// Where the profile page's workspace sections are.
const BACK: &str = "/account/profile#workspace";

#[derive(Template)]
#[template(path = "tenancy/new.html")]
struct NewPage {
    page: PublicPage,
    email: String,
    name: String,
    has_workspace: bool,
    errors: FieldErrors,
}

async fn show_new(state: &AppState, req: &HttpRequest, user: &SessionUser, name: String, errors: FieldErrors) -> AppResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let has_workspace = crate::auth::links::home_tenant(&mut conn, user.id).await?.is_some();
    let page = NewPage { page: PublicPage::from_req(req), email: user.email.clone(), name, has_workspace, errors };
    if page.errors.is_empty() { render(&page) } else { render_status(&page, StatusCode::UNPROCESSABLE_ENTITY) }
}

/// GET /workspaces/new — needs a signed-in user, not a workspace (where someone with none left lands).
async fn new_page(state: web::Data<AppState>, req: HttpRequest, user: SessionUser) -> AppResult<HttpResponse> {
    show_new(&state, &req, &user, String::new(), FieldErrors::new()).await
}

/// A redirect to `to` with the session switched to `tenant` (or, with none left, to the create page).
async fn land(state: &AppState, user_id: i64, sid: &str, tenant: Option<i64>, toast: Toast) -> AppResult<HttpResponse> {
    let Some(tenant) = tenant else {
        return Ok(redirect_with(crate::web::middleware::NO_WORKSPACE_PAGE, Some(toast)));
    };
    let token = auth_service::session_token_for(state, user_id, sid, tenant).await?;
    let mut res = redirect_with("/dashboard", Some(toast));
    res.add_cookie(&session_cookie(state, token)).map_err(AppError::internal)?;
    Ok(res)
}

async fn create(state: web::Data<AppState>, req: HttpRequest, user: SessionUser, form: web::Form<CreateInput>) -> AppResult<HttpResponse> {
    match service::create_another(&state, &user, &form).await {
        Ok(id) => {
            let toast = Toast::success(format!("Workspace \"{}\" created. It starts with 0 credits on the Free plan.", form.name.trim()));
            land(&state, user.id, &user.session_id, Some(id), toast).await
        }
        Err(AppError::Validation(errors)) => show_new(&state, &req, &user, form.into_inner().name, errors).await,
        Err(e) => Err(e),
    }
}

async fn leave(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    match service::leave(&state, &ctx).await {
        Ok(next) => {
            let (user_id, sid) = ctx.require_user()?;
            land(&state, user_id, sid, next, Toast::success(format!("You left \"{}\"", ctx.tenant_name))).await
        }
        Err(e) if e.is_for_the_user() => Ok(redirect_with(BACK, Some(Toast::error(e.summary())))),
        Err(e) => Err(e),
    }
}

/// GET /tenants/export and /api/workspace/export — the zip as a download.
async fn export_zip(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    let e = export::export(&state, &ctx).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", e.filename)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(e.bytes))
}

async fn delete_workspace(state: web::Data<AppState>, ctx: TenantCtx, form: web::Form<DeleteInput>) -> AppResult<HttpResponse> {
    match delete::delete(&state, &ctx, &form).await {
        Ok(next) => {
            let (user_id, sid) = ctx.require_user()?;
            land(&state, user_id, sid, next, Toast::success(format!("Workspace \"{}\" was deleted", ctx.tenant_name))).await
        }
        Err(e) if e.is_for_the_user() => Ok(redirect_with(BACK, Some(Toast::error(e.summary())))),
        Err(e) => Err(e),
    }
}

async fn api_create(state: web::Data<AppState>, user: SessionUser, body: JsonObject<CreateInput>) -> AppResult<HttpResponse> {
    let id = service::create_another(&state, &user, &body).await?;
    Ok(HttpResponse::Created().json(serde_json::json!({
        "id": id,
        "name": body.name.trim(),
        "plan": crate::billing::plans::SIGNUP_PLAN,
        "credits_balance": 0,
    })))
}

async fn api_leave(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    let next = service::leave(&state, &ctx).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "left": ctx.tenant_id, "next_workspace": next })))
}

async fn api_delete(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<DeleteInput>) -> AppResult<HttpResponse> {
    let next = delete::delete(&state, &ctx, &body).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "deleted": ctx.tenant_id, "next_workspace": next })))
}

/// What the profile page's workspace sections show.
pub struct Overview {
    /// The user is the only owner: they cannot leave (the page says what to do instead).
    pub last_owner: bool,
    /// Owners only: export and delete.
    pub owner: bool,
    pub last_export: Option<chrono::DateTime<chrono::Utc>>,
    /// Why deletion is refused now (owners only).
    pub delete_blocked: Option<String>,
}

pub async fn overview(state: &AppState, ctx: &TenantCtx) -> AppResult<Overview> {
    let owner = ctx.role.allows(crate::auth::rbac::Perm::ManageOwners);
    let last_owner = service::is_last_owner(state, ctx).await?;
    let (last_export, delete_blocked) = if owner {
        // One connection at a time: `delete::check` takes its own, and holding this one meanwhile starves the pool
        // when several of these pages render at once.
        let last_export = export::last_export(&mut *state.db.get().await?, ctx.tenant_id).await?;
        (last_export, delete::check(state, ctx).await?)
    } else {
        (None, None)
    };
    Ok(Overview { last_owner, owner, last_export, delete_blocked })
}
