//! System page: the audit trail with filters (jobs, cron runs, logs and AI calls join it later),
//! and the probes /healthz, /readyz, /metrics.

mod ai_providers;
mod jobs;
mod metrics;
mod workspaces;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel_async::RunQueryDsl;

use crate::audit::{self, AuditEvent, AuditFilter};
use crate::auth::rbac::Perm;
use crate::error::AppResult;
use crate::kv;
use crate::listing::Filter;
use crate::listing::{ListQuery, Pager};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::page::PageCtx;
use crate::web::{render, wants_fragment};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics::metrics))
        .route("/system", web::get().to(page))
        .route("/api/system/audit", web::get().to(api_list))
        .route("/api/system/audit/{id}", web::get().to(api_get));
    jobs::routes(cfg);
    ai_providers::routes(cfg);
    workspaces::routes(cfg);
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// 200 when Postgres and Redis answer; 503 naming each one that does not, or while the process drains before it
/// stops (SIGTERM), so a load balancer sends new work elsewhere. `?redis=optional` is for a load balancer: pages
/// work without Redis, so a Redis outage must not take every replica out of rotation (Redis is still reported,
/// just not failed on).
async fn readyz(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if state.is_draining() {
        return HttpResponse::ServiceUnavailable().json(serde_json::json!({ "draining": true }));
    }
    let redis_optional = req.query_string().split('&').any(|p| p == "redis=optional");
    let pg = async {
        let mut conn = state.db.get().await.map_err(|e| e.to_string())?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await.map_err(|e| e.to_string())?;
        Ok::<_, String>(())
    };
    let pg = match tokio::time::timeout(std::time::Duration::from_secs(3), pg).await {
        Ok(r) => r,
        Err(_) => Err("timed out".into()),
    };
    let redis = kv::ping(&state.redis).await;
    let status = |r: &Result<(), String>| match r {
        Ok(()) => serde_json::json!({ "ok": true }),
        Err(e) => serde_json::json!({ "ok": false, "error": e }),
    };
    let body = serde_json::json!({
        "postgres": status(&pg),
        "redis": status(&redis),
        "rate_limits": crate::web::rate_limit::readiness_note(&redis),
    });
    let failed: Vec<&str> = [("postgres", &pg), ("redis", &redis)]
        .iter()
        .filter(|(n, r)| r.is_err() && !(*n == "redis" && redis_optional))
        .map(|(n, _)| *n)
        .collect();
    if failed.is_empty() {
        HttpResponse::Ok().json(body)
    } else {
        let mut body = body;
        body["failed"] = serde_json::json!(failed);
        HttpResponse::ServiceUnavailable().json(body)
    }
}

#[derive(Template)]
#[template(path = "system/index.html")]
struct SystemPage {
    page: PageCtx,
    filter: AuditFilter,
    actions: Vec<String>,
    rows: Vec<AuditEvent>,
    pager: Pager,
}

#[derive(Template)]
#[template(path = "system/index.html", block = "audit_table")]
struct AuditTable {
    rows: Vec<AuditEvent>,
    pager: Pager,
}

/// Filters as a query string without the page number, for pager links.
fn filter_query(f: &AuditFilter, per_page: i64) -> String {
    let per_page = per_page.to_string();
    let mut fields = f.fields();
    fields.push(("per_page", &per_page));
    crate::listing::query_string(&fields)
}

async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    page: PageCtx,
    q: web::Query<ListQuery<AuditFilter>>,
) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewAudit)?;
    let q = q.into_inner();
    let mut conn = state.db.get().await?;
    let (rows, total) = audit::list(&mut conn, page.ctx.tenant_id, &q.filter, &q.page).await?;
    let query = filter_query(&q.filter, q.page.per_page());
    let pager = Pager::new(&q.page, total).linked(format!("/system?{query}"));
    if wants_fragment(&req) {
        return render(&AuditTable { rows, pager });
    }
    let actions = audit::actions(&mut conn, page.ctx.tenant_id).await?;
    render(&SystemPage { page, filter: q.filter, actions, rows, pager })
}

async fn api_list(state: web::Data<AppState>, ctx: TenantCtx, q: web::Query<ListQuery<AuditFilter>>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewAudit)?;
    let mut conn = state.db.get().await?;
    let (rows, total) = audit::list(&mut conn, ctx.tenant_id, &q.filter, &q.page).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "events": rows, "pagination": Pager::new(&q.page, total) })))
}

async fn api_get(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewAudit)?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(audit::get(&mut conn, ctx.tenant_id, *id).await?))
}
