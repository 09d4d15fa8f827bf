//! The Thinker's JSON API under /api/thinker — the same services as the pages.

use actix_web::{HttpResponse, web};

use super::service;
use crate::auth::rbac::Perm;
use crate::error::AppResult;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::json_object::JsonObject;

pub async fn list(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let prompts: Vec<serde_json::Value> = service::overview(&state.prompts, &mut conn, ctx.tenant_id)
        .await?
        .into_iter()
        .map(|(b, r)| serde_json::json!({ "key": b.key, "label": b.label, "placeholders": b.placeholders, "required": b.required, "in_use": r }))
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "prompts": prompts })))
}

pub async fn get(state: web::Data<AppState>, ctx: TenantCtx, key: web::Path<String>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let current = service::resolve(&state.prompts, &mut conn, ctx.tenant_id, &key).await?;
    let versions = service::versions(&state.prompts, &mut conn, ctx.tenant_id, &key).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "in_use": current, "versions": versions })))
}

pub async fn save(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    key: web::Path<String>,
    body: JsonObject<service::PromptInput>,
) -> AppResult<HttpResponse> {
    let version = service::save(&state, &ctx, &key, &body).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "key": key.as_str(), "version": version })))
}

pub async fn reset(state: web::Data<AppState>, ctx: TenantCtx, key: web::Path<String>) -> AppResult<HttpResponse> {
    let version = service::reset(&state, &ctx, &key).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "key": key.as_str(), "version": version, "in_use": "built-in" })))
}
