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
    #[serde(deserialize_with = "crate::validate::optional_id")]
    site_id: Option<i64>,
}

/// No body (or `{}`) syncs every site. A body that cannot be read is refused rather than taken as "every site",
/// so `{"site_id": "7"}` names site 7 and another workspace's id is a 404, never a 202 for the wrong sync.
async fn sync(state: web::Data<AppState>, ctx: TenantCtx, body: web::Bytes) -> AppResult<HttpResponse> {
    let site_id = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<SyncBody>(&body)
            .map_err(|e| crate::error::AppError::BadRequest(format!("The JSON body is not valid: {e}")))?
            .site_id
    };
    let job = service::enqueue_sync(&state, &ctx, site_id).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "job_id": job })))
}
