//! JSON API: `/api/publish/…` mirrors the task page's publishing buttons; site checks and sync live under
//! `/api/sites/…` beside the sites' own routes.

use actix_web::{HttpResponse, web};

use super::service::{self, PublishInput};
use crate::auth::rbac::Perm;
use crate::error::AppResult;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::json_object::JsonObject;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/publish/tasks/{id}", web::get().to(status))
        .route("/api/publish/tasks/{id}", web::post().to(publish))
        .route("/api/publish/tasks/{id}/unpublish", web::post().to(unpublish))
        .route("/api/publish/sync", web::post().to(sync))
        .route("/api/sites/{id}/sync", web::post().to(sync_site));
}

async fn sync_site(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let job = service::enqueue_sync(&state, &ctx, Some(*id)).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "job_id": job })))
}

async fn status(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let p = service::get(&mut conn, ctx.tenant_id, *id).await?.ok_or(crate::error::AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(p))
}

async fn publish(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    body: JsonObject<PublishInput>,
) -> AppResult<HttpResponse> {
    let job = service::enqueue_publish(&state, &ctx, *id, &body).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "job_id": job })))
}

async fn unpublish(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let job = service::enqueue_unpublish(&state, &ctx, *id).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "job_id": job })))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct SyncBody {
    site_id: Option<i64>,
}

async fn sync(state: web::Data<AppState>, ctx: TenantCtx, body: Option<web::Json<SyncBody>>) -> AppResult<HttpResponse> {
    let site_id = body.and_then(|b| b.site_id);
    let job = service::enqueue_sync(&state, &ctx, site_id).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "job_id": job })))
}
