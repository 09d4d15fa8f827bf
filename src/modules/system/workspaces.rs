//! System → Workspaces (system administrators): every workspace with plan, status, balance and this month's
//! spend; adjust credits, change plan, suspend or reinstate. Pages and API call `billing::operator`.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::billing::operator::{self, WorkspaceRow};
use crate::billing::plans::Plan;
use crate::error::AppResult;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::json_object::JsonObject;
use crate::web::page::PageCtx;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/system/workspaces", web::get().to(page))
        .route("/system/workspaces/{id}/credits", web::post().to(credits))
        .route("/system/workspaces/{id}/plan", web::post().to(plan))
        .route("/system/workspaces/{id}/status", web::post().to(status))
        .route("/api/system/workspaces", web::get().to(api_list))
        .route("/api/system/workspaces/{id}/credits", web::post().to(api_credits))
        .route("/api/system/workspaces/{id}/plan", web::post().to(api_plan))
        .route("/api/system/workspaces/{id}/status", web::post().to(api_status));
}

#[derive(Template)]
#[template(path = "system/workspaces.html")]
struct WorkspacesPage {
    page: PageCtx,
    rows: Vec<WorkspaceRow>,
    plans: Vec<Plan>,
}

async fn page(state: web::Data<AppState>, page: PageCtx) -> AppResult<HttpResponse> {
    let rows = operator::list(&state, &page.ctx).await?;
    let plans = state.plans.all(&state.db).await?.to_vec();
    crate::web::render(&WorkspacesPage { page, rows, plans })
}

#[derive(serde::Deserialize)]
pub struct CreditsBody {
    #[serde(deserialize_with = "crate::validate::text_or_number")]
    delta: String,
    #[serde(default)]
    reason: String,
}

#[derive(serde::Deserialize)]
pub struct PlanBody {
    #[serde(default)]
    plan: String,
}

#[derive(serde::Deserialize)]
pub struct StatusBody {
    /// "suspend" or "reinstate"
    #[serde(default)]
    action: String,
}

fn parse_delta(raw: &str) -> AppResult<i64> {
    raw.trim().parse().map_err(|_| crate::error::AppError::field("delta", "Enter a whole number of credits (negative to deduct)"))
}

fn suspend(action: &str) -> AppResult<bool> {
    match action {
        "suspend" => Ok(true),
        "reinstate" => Ok(false),
        _ => Err(crate::error::AppError::field("action", "Choose suspend or reinstate")),
    }
}

fn back(msg: &str) -> HttpResponse {
    crate::web::redirect_with("/system/workspaces", Some(crate::web::Toast::success(msg)))
}

async fn credits(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>, form: web::Form<CreditsBody>) -> AppResult<HttpResponse> {
    operator::adjust_credits(&state, &ctx, *id, parse_delta(&form.delta)?, &form.reason).await?;
    Ok(back("Credits adjusted"))
}

async fn plan(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>, form: web::Form<PlanBody>) -> AppResult<HttpResponse> {
    operator::set_plan(&state, &ctx, *id, &form.plan).await?;
    Ok(back("Plan changed"))
}

async fn status(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>, form: web::Form<StatusBody>) -> AppResult<HttpResponse> {
    operator::set_suspended(&state, &ctx, *id, suspend(&form.action)?).await?;
    Ok(back("Status changed"))
}

async fn api_list(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(serde_json::json!({ "workspaces": operator::list(&state, &ctx).await? })))
}

async fn api_credits(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    body: JsonObject<CreditsBody>,
) -> AppResult<HttpResponse> {
    let balance = operator::adjust_credits(&state, &ctx, *id, parse_delta(&body.delta)?, &body.reason).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "balance": balance })))
}

async fn api_plan(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>, body: JsonObject<PlanBody>) -> AppResult<HttpResponse> {
    operator::set_plan(&state, &ctx, *id, &body.plan).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn api_status(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    body: JsonObject<StatusBody>,
) -> AppResult<HttpResponse> {
    operator::set_suspended(&state, &ctx, *id, suspend(&body.action)?).await?;
    Ok(HttpResponse::NoContent().finish())
}
