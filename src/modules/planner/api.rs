//! The planner's JSON API under /api/planner — the same services as the pages.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::clustering::{ai, semantic, service as clustering};
use super::clusters::service::{self as clusters, ClusterFilter};
use super::ideas::{generate, service as ideas};
use super::import::store;
use super::keywords::bulk::{self, BulkRequest};
use super::keywords::export::{self, ExportSpec};
use super::keywords::filter::KeywordFilter;
use super::keywords::service::{self as kw, KeywordInput, Selection};
use crate::auth::rbac::Perm;
use crate::error::{AppError, AppResult};
use crate::listing::{ListQuery, PageParams, Pager};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::IdsBody;
use crate::web::json_object::JsonObject;

pub async fn keywords(state: web::Data<AppState>, ctx: TenantCtx, q: web::Query<ListQuery<KeywordFilter>>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let conn = state.db.get().await?;
    let (rows, total) = kw::list(&state, &conn, ctx.tenant_id, &q.filter, &q.page).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "keywords": rows, "pager": Pager::new(&q.page, total) })))
}

pub async fn keyword(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(kw::get(&mut conn, ctx.tenant_id, *id).await?))
}

pub async fn create_keyword(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<KeywordInput>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Created().json(kw::create(&state, &ctx, &body).await?))
}

pub async fn update_keyword(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    body: JsonObject<KeywordInput>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(kw::update(&state, &ctx, *id, &body).await?))
}

pub async fn delete_keyword(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    kw::delete(&state, &ctx, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `{"action": "delete|set_status|move|cluster_local|cluster_semantic|cluster_ai", "ids": [..] | "all": true + "filter": {..}, ...}`
pub async fn keywords_bulk(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<BulkRequest>) -> AppResult<HttpResponse> {
    let outcome = bulk::run(&state, &ctx, &body).await?;
    let status = if matches!(outcome, bulk::BulkOutcome::Queued { .. } | bulk::BulkOutcome::QueuedSemantic { .. }) {
        actix_web::http::StatusCode::ACCEPTED
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(serde_json::json!({ "result": outcome, "message": outcome.message() })))
}

pub async fn keywords_export(state: web::Data<AppState>, ctx: TenantCtx, q: web::Query<KeywordFilter>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    Ok(export::response(state.db.clone(), ExportSpec { tenant_id: ctx.tenant_id, filter: q.into_inner(), ids: None }, "keywords.csv"))
}

#[derive(Deserialize)]
pub struct ClusterBody {
    /// local | semantic | ai
    #[serde(default)]
    mode: String,
    #[serde(default)]
    ids: Vec<i64>,
    #[serde(default)]
    all: bool,
    #[serde(default)]
    filter: KeywordFilter,
    threshold: Option<f64>,
    batch_size: Option<usize>,
}

/// Cluster keywords: locally (answers with the result), by meaning or with AI (both answer 202 with the job).
pub async fn cluster(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<ClusterBody>) -> AppResult<HttpResponse> {
    let sel = if body.all { Selection::Matching(Box::new(body.filter.clone())) } else { Selection::Ids(body.ids.clone()) };
    match body.mode.as_str() {
        "local" => Ok(HttpResponse::Ok().json(
            clustering::cluster_locally(&state, &ctx, &sel, body.threshold.unwrap_or(super::clustering::local::DEFAULT_THRESHOLD)).await?,
        )),
        "semantic" => {
            let (job_id, n) = semantic::job::enqueue(&state, &ctx, &sel, body.threshold).await?;
            Ok(HttpResponse::Accepted().json(serde_json::json!({ "job_id": job_id, "keywords": n, "credits": 0, "method": "semantic" })))
        }
        "ai" => {
            let (job_id, n) = ai::enqueue(&state, &ctx, &sel, body.batch_size).await?;
            Ok(HttpResponse::Accepted().json(serde_json::json!({ "job_id": job_id, "keywords": n, "credits": ai::price(n) })))
        }
        _ => Err(AppError::field("mode", "Mode is local, semantic or ai")),
    }
}

#[derive(Deserialize)]
pub struct ImportQuery {
    #[serde(default)]
    filename: String,
}

/// The CSV file is the request body (any content type); `?filename=` names it.
pub async fn create_import(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    q: web::Query<ImportQuery>,
    body: web::Payload,
) -> AppResult<HttpResponse> {
    let name = if q.filename.trim().is_empty() { "upload.csv" } else { q.filename.as_str() };
    let import = store::receive(&state, &ctx, name, body).await?;
    Ok(HttpResponse::Accepted().json(import))
}

pub async fn import(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>, q: web::Query<PageParams>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let import = store::get(&mut conn, ctx.tenant_id, *id).await?;
    let (rejects, total) = store::rejects(&mut conn, ctx.tenant_id, *id, &q).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "import": import, "rejects": rejects, "pager": Pager::new(&q, total) })))
}

pub async fn confirm_import(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    body: JsonObject<store::ConfirmInput>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Accepted().json(store::confirm(&state, &ctx, *id, &body).await?))
}

/// DELETE: drops a file waiting for the go-ahead; 409 while a step runs or after it was imported.
pub async fn discard_import(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    store::discard(&state, &ctx, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `{"keyword": 0, "volume": 2, ...}`: column indexes per field; the file is analysed again with them.
pub async fn import_columns(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    body: JsonObject<std::collections::BTreeMap<String, serde_json::Value>>,
) -> AppResult<HttpResponse> {
    let choice = body
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().map(|n| n.to_string()).or_else(|| v.as_str().map(String::from)).unwrap_or_default()))
        .collect();
    Ok(HttpResponse::Accepted().json(store::choose_columns(&state, &ctx, *id, &choice).await?))
}

pub async fn clusters_list(state: web::Data<AppState>, ctx: TenantCtx, q: web::Query<ListQuery<ClusterFilter>>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let (rows, total) = clusters::list(&mut conn, ctx.tenant_id, &q.filter, &q.page).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "clusters": rows, "pager": Pager::new(&q.page, total) })))
}

pub async fn cluster_get(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(clusters::get(&mut conn, ctx.tenant_id, *id).await?))
}

pub async fn cluster_create(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    body: JsonObject<clusters::ClusterInput>,
) -> AppResult<HttpResponse> {
    let id = clusters::create(&state, &ctx, &body.name, &body.description).await?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Created().json(clusters::get(&mut conn, ctx.tenant_id, id).await?))
}

pub async fn cluster_update(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    body: JsonObject<clusters::ClusterInput>,
) -> AppResult<HttpResponse> {
    clusters::update(&state, &ctx, *id, &body).await?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(clusters::get(&mut conn, ctx.tenant_id, *id).await?))
}

pub async fn cluster_delete(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    match clusters::delete(&state, &ctx, &[*id]).await? {
        0 => Err(AppError::NotFound),
        _ => Ok(HttpResponse::NoContent().finish()),
    }
}

pub async fn cluster_merge(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    body: JsonObject<clusters::MergeInput>,
) -> AppResult<HttpResponse> {
    let (into, moved) = clusters::merge(&state, &ctx, *id, &body).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "into": into, "keywords_moved": moved })))
}

#[derive(Deserialize)]
pub struct IdeasBody {
    cluster_ids: Vec<i64>,
    count: Option<i64>,
}

pub async fn generate_ideas(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<IdeasBody>) -> AppResult<HttpResponse> {
    let jobs = generate::enqueue(&state, &ctx, &body.cluster_ids, body.count.unwrap_or(5)).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "job_ids": jobs })))
}

pub async fn ideas_list(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    q: web::Query<ListQuery<ideas::IdeaFilter>>,
) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let (rows, total) = ideas::list(&mut conn, ctx.tenant_id, &q.filter, &q.page).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "ideas": rows, "pager": Pager::new(&q.page, total) })))
}

pub async fn idea_get(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(ideas::get(&mut conn, ctx.tenant_id, *id).await?))
}

pub async fn idea_update(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    body: JsonObject<ideas::IdeaInput>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(ideas::update(&state, &ctx, *id, &body).await?))
}

pub async fn idea_delete(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    match ideas::delete(&state, &ctx, &[*id]).await? {
        0 => Err(AppError::NotFound),
        _ => Ok(HttpResponse::NoContent().finish()),
    }
}

pub async fn send_to_writer(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<IdsBody>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Created().json(ideas::send_to_writer(&state, &ctx, &body.ids).await?))
}
