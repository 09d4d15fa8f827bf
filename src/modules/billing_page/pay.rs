//! The buttons of the Billing page and their API twins: each asks `billing::stripe` for a session and sends
//! the browser to Stripe's page (303) or answers its URL.

use actix_web::{HttpResponse, web};

use crate::billing::stripe::{self, Session};
use crate::error::AppResult;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::json_object::JsonObject;

#[derive(serde::Deserialize)]
pub struct PlanBody {
    #[serde(default)]
    plan: String,
}

fn to_stripe(s: Session) -> HttpResponse {
    HttpResponse::SeeOther().insert_header(("Location", s.url)).finish()
}

fn as_json(s: Session) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "id": s.id, "url": s.url }))
}

pub async fn checkout(state: web::Data<AppState>, ctx: TenantCtx, form: web::Form<PlanBody>) -> AppResult<HttpResponse> {
    Ok(to_stripe(stripe::checkout(&state, &ctx, &form.plan).await?))
}

pub async fn portal(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    Ok(to_stripe(stripe::portal(&state, &ctx).await?))
}

pub async fn pack(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    Ok(to_stripe(stripe::credit_pack(&state, &ctx).await?))
}

pub async fn api_checkout(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<PlanBody>) -> AppResult<HttpResponse> {
    Ok(as_json(stripe::checkout(&state, &ctx, &body.plan).await?))
}

pub async fn api_portal(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    Ok(as_json(stripe::portal(&state, &ctx).await?))
}

pub async fn api_pack(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    Ok(as_json(stripe::credit_pack(&state, &ctx).await?))
}
