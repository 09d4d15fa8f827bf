//! The writer's JSON API under /api/writer — the same services as the pages.

use actix_web::{HttpResponse, web};

use super::generate;
use super::service::{self, ArticleInput, NewTask, TaskFilter};
use crate::auth::rbac::Perm;
use crate::error::{AppError, AppResult};
use crate::listing::{ListQuery, Pager};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::IdsBody;
use crate::web::json_object::JsonObject;

pub async fn list(state: web::Data<AppState>, ctx: TenantCtx, q: web::Query<ListQuery<TaskFilter>>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let conn = state.db.get().await?;
    let (rows, total) = service::list(&state, &conn, ctx.tenant_id, &q.filter, &q.page).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "tasks": rows, "pager": Pager::new(&q.page, total) })))
}

pub async fn get(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(service::get(&mut conn, ctx.tenant_id, *id).await?))
}

pub async fn create(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<NewTask>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Created().json(service::create(&state, &ctx, &body).await?))
}

pub async fn save(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    body: JsonObject<ArticleInput>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(service::save(&state, &ctx, *id, &body).await?))
}

pub async fn delete(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    match service::delete(&state, &ctx, &[*id]).await? {
        0 => Err(AppError::NotFound),
        _ => Ok(HttpResponse::NoContent().finish()),
    }
}

pub async fn generate(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<IdsBody>) -> AppResult<HttpResponse> {
    let jobs = generate::enqueue(&state, &ctx, &body.ids).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "job_ids": jobs, "credits_each": generate::CREDITS })))
}

pub async fn reparse(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<IdsBody>) -> AppResult<HttpResponse> {
    let jobs = super::reparse::enqueue(&state, &ctx, &body.ids).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "job_ids": jobs, "credits_each": super::reparse::CREDITS })))
}

pub async fn images(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<IdsBody>) -> AppResult<HttpResponse> {
    let jobs = super::image_jobs::enqueue_prompts(&state, &ctx, &body.ids).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "job_ids": jobs, "credits_per_image": super::image_jobs::CREDITS_PER_IMAGE })))
}

pub async fn image_list(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    q: web::Query<ListQuery<super::images::ImageFilter>>,
) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let (rows, total) = super::images::list(&mut conn, ctx.tenant_id, &q.filter, &q.page).await?;
    let rows: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|i| {
            let url = super::images::url(&state.config.secret_key, ctx.tenant_id, i.id);
            let mut v = serde_json::to_value(&i).unwrap_or_default();
            v["url"] = serde_json::json!(url);
            v
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "images": rows, "pager": Pager::new(&q.page, total) })))
}

pub async fn regenerate_image(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let job = super::image_jobs::regenerate(&state, &ctx, *id).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "job_id": job })))
}

pub async fn versions(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    service::get(&mut conn, ctx.tenant_id, *id).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "versions": service::versions(&mut conn, ctx.tenant_id, *id).await? })))
}

pub async fn version(state: web::Data<AppState>, ctx: TenantCtx, path: web::Path<(i64, i32)>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let (id, v) = path.into_inner();
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(service::version(&mut conn, ctx.tenant_id, id, v).await?))
}

pub async fn restore(state: web::Data<AppState>, ctx: TenantCtx, path: web::Path<(i64, i32)>) -> AppResult<HttpResponse> {
    let (id, version) = path.into_inner();
    Ok(HttpResponse::Ok().json(service::restore(&state, &ctx, id, version).await?))
}

pub async fn set_style(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    body: JsonObject<service::StyleInput>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(service::set_style(&state, &ctx, *id, &body).await?))
}
