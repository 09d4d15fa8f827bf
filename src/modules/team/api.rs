//! JSON API of the team module; the same services as the pages.

use actix_web::{HttpResponse, web};

use super::service::{self, InviteInput, RoleInput, TokenInput};
use super::tokens;
use crate::auth::rbac::Perm;
use crate::error::AppResult;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::json_object::JsonObject;

pub async fn members(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "members": service::members(&mut conn, ctx.tenant_id).await? })))
}

pub async fn member(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(service::member(&mut conn, ctx.tenant_id, *id).await?))
}

pub async fn change_role(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    body: JsonObject<RoleInput>,
) -> AppResult<HttpResponse> {
    let m = service::change_role(&state, &ctx, *id, &body.role).await?;
    Ok(HttpResponse::Ok().json(m))
}

pub async fn remove_member(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    service::remove_member(&state, &ctx, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn invites(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    ctx.require(Perm::ManageTeam)?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "invites": service::pending_invites(&mut conn, ctx.tenant_id).await? })))
}

pub async fn invite(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ManageTeam)?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(service::invite(&mut conn, ctx.tenant_id, *id).await?))
}

pub async fn create_invite(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<InviteInput>) -> AppResult<HttpResponse> {
    let created = service::create_invite(&state, &ctx, &body.email, &body.role).await?;
    Ok(HttpResponse::Created().json(serde_json::json!({
        "invite": created.invite,
        "accept_url": format!("{}/invite/{}", state.config.base_url, created.token),
    })))
}

pub async fn revoke_invite(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    service::revoke_invite(&state, &ctx, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn tokens(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    ctx.require(Perm::ManageTokens)?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "tokens": tokens::list(&mut conn, ctx.tenant_id).await? })))
}

pub async fn token(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ManageTokens)?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(tokens::get(&mut conn, ctx.tenant_id, *id).await?))
}

pub async fn create_token(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<TokenInput>) -> AppResult<HttpResponse> {
    let (token, secret) = tokens::create(&state, &ctx, &body.name).await?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "token": token, "secret": secret })))
}

pub async fn revoke_token(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    tokens::revoke(&state, &ctx, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
