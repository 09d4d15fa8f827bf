//! JSON API of automation: settings, "Run now", dry run, history, notices; System → Automation for system
//! administrators.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::history;
use super::settings::{self, SettingsInput};
use crate::auth::rbac::Perm;
use crate::error::AppResult;
use crate::listing::{PageParams, Pager};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::json_object::JsonObject;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/automation", web::get().to(get))
        .route("/api/automation", web::put().to(put))
        .route("/api/automation/runs", web::get().to(runs))
        .route("/api/automation/runs/{id}/ack", web::post().to(ack))
        .route("/api/automation/{step}/run", web::post().to(run_now))
        .route("/api/automation/{step}/dry-run", web::get().to(dry_run))
        .route("/api/system/automation", web::get().to(system_get))
        .route("/api/system/automation", web::put().to(system_put));
}

async fn get(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let s = settings::load(&mut conn, ctx.tenant_id).await?;
    let steps = history::overview(&mut conn, ctx.tenant_id, &s).await?;
    let spent_today = super::run::spent_today(&mut conn, ctx.tenant_id).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "settings": s, "steps": steps, "spent_today": spent_today })))
}

async fn put(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<SettingsInput>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(settings::save(&state, &ctx, &body).await?))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RunsQuery {
    step: Option<String>,
    notices: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

async fn runs(state: web::Data<AppState>, ctx: TenantCtx, q: web::Query<RunsQuery>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let which = if q.notices.as_deref().is_some_and(|v| !v.is_empty() && v != "0") { history::Which::Notices } else { history::Which::All };
    let list = history::list(&mut conn, Some(ctx.tenant_id), q.step.as_deref(), which, q.page.per_page(), q.page.offset()).await?;
    let total = history::count(&mut conn, Some(ctx.tenant_id), q.step.as_deref(), which).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "runs": list, "pagination": Pager::new(&q.page, total) })))
}

async fn ack(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    history::acknowledge(&state, &ctx, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn run_now(state: web::Data<AppState>, ctx: TenantCtx, step: web::Path<String>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(super::run_now(&state, &ctx, &step, false).await?))
}

async fn dry_run(state: web::Data<AppState>, ctx: TenantCtx, step: web::Path<String>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(super::run_now(&state, &ctx, &step, true).await?))
}

async fn system_get(state: web::Data<AppState>, ctx: TenantCtx, q: web::Query<PageParams>) -> AppResult<HttpResponse> {
    ctx.require_system_admin()?;
    let mut conn = state.db.get().await?;
    let values = super::cadence::all(&mut conn).await?;
    let runs = history::list(&mut conn, None, None, history::Which::All, q.per_page(), q.offset()).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "settings": values, "runs": runs })))
}

async fn system_put(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<BTreeMap<String, String>>) -> AppResult<HttpResponse> {
    ctx.require_system_admin()?;
    let mut conn = state.db.get().await?;
    super::cadence::save(&mut conn, &body).await?;
    crate::audit::record(
        &mut conn,
        &crate::audit::Who::from(&ctx),
        "system.scheduler_settings_changed",
        ("system", "scheduler".into()),
        serde_json::json!(*body),
    )
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "settings": super::cadence::all(&mut conn).await? })))
}
