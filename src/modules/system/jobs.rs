//! System → Jobs and System → AI calls: filterable lists, job detail, retry, cancel, live counts.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::ai::calls::CallStatus;
use crate::ai::calls::{self, AiCall, DailyTotal, ModelRate, RateInput};
use crate::audit::Who;
use crate::auth::rbac::Perm;
use crate::error::AppResult;
use crate::jobs::Job;
use crate::jobs::JobStatus;
use crate::jobs::listing::{self, JobFilter, JobRow};
use crate::jobs::probe::Probe;
use crate::jobs::queue;
use crate::listing::Filter;
use crate::listing::{PageParams, Pager};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::json_object::JsonObject;
use crate::web::page::PageCtx;
use crate::web::{Toast, redirect_with, render};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/system/jobs", web::get().to(jobs_page))
        .route("/system/jobs/counts", web::get().to(counts_fragment))
        .route("/system/jobs/probe", web::post().to(run_probe))
        .route("/system/jobs/{id}", web::get().to(job_page))
        .route("/system/jobs/{id}/cancel", web::post().to(cancel))
        .route("/system/jobs/{id}/retry", web::post().to(retry))
        .route("/system/ai-calls", web::get().to(ai_calls_page))
        .route("/system/model-rates", web::post().to(set_rate))
        .route("/api/system/model-rates", web::get().to(api_rates))
        .route("/api/system/model-rates", web::put().to(api_set_rate))
        .route("/api/system/jobs", web::get().to(api_jobs))
        .route("/api/system/jobs/{id}", web::get().to(api_job))
        .route("/api/system/jobs/{id}/cancel", web::post().to(api_cancel))
        .route("/api/system/jobs/{id}/retry", web::post().to(api_retry))
        .route("/api/system/ai-calls", web::get().to(api_ai_calls));
}

#[derive(serde::Deserialize)]
struct JobsQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    tenant: String,
    #[serde(flatten)]
    page: PageParams,
}

#[derive(Template)]
#[template(path = "system/jobs.html")]
struct JobsPage {
    page: PageCtx,
    filter: JobFilter,
    statuses: Vec<&'static str>,
    kinds: Vec<&'static str>,
    counts: Vec<(JobStatus, i64)>,
    rows: Vec<JobRow>,
    pager: Pager,
}

#[derive(Template)]
#[template(path = "system/jobs.html", block = "counts")]
struct CountsFragment {
    counts: Vec<(JobStatus, i64)>,
}

async fn jobs_page(state: web::Data<AppState>, page: PageCtx, q: web::Query<JobsQuery>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewAudit)?;
    let q = q.into_inner();
    let filter = JobFilter { status: q.status, kind: q.kind, tenant: q.tenant };
    let scope = filter.scope(page.ctx.tenant_id, page.is_system_admin);
    let mut conn = state.db.get().await?;
    let (rows, total) = listing::list(&mut conn, scope, &filter, &q.page).await?;
    let counts = listing::counts(&mut conn, page.ctx.tenant_id).await?;
    let pager = Pager::new(&q.page, total).linked(format!("/system/jobs?{}", filter.to_query()));
    render(&JobsPage { page, filter, statuses: JobStatus::words(), kinds: state.jobs.kinds(), counts, rows, pager })
}

async fn counts_fragment(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewAudit)?;
    let mut conn = state.db.get().await?;
    render(&CountsFragment { counts: listing::counts(&mut conn, ctx.tenant_id).await? })
}

#[derive(Template)]
#[template(path = "system/job.html")]
struct JobPage {
    page: PageCtx,
    job: JobRow,
}

async fn job_page(state: web::Data<AppState>, page: PageCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewAudit)?;
    let mut conn = state.db.get().await?;
    let job = listing::get(&mut conn, page.ctx.tenant_id, *id).await?;
    render(&JobPage { page, job })
}

async fn run_probe(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    ctx.require(Perm::ManageSettings)?;
    let job = Probe::default().new_job(ctx.tenant_id).by(ctx.actor_label());
    let id = queue::enqueue(&state.db, job).await?;
    crate::jobs::worker::wake(&state).await;
    Ok(redirect_with(&format!("/system/jobs/{id}"), Some(Toast::success("Test job queued"))))
}

async fn cancel(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    ctx.require(Perm::EditContent)?;
    queue::cancel(&state.db, &state.jobs, &Who::from(&ctx), *id).await?;
    Ok(redirect_with(&format!("/system/jobs/{}", *id), Some(Toast::success("Job cancelled; its credits were refunded"))))
}

async fn retry(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    ctx.require(Perm::EditContent)?;
    let new_id = listing::retry(&state.db, &Who::from(&ctx), *id).await?;
    crate::jobs::worker::wake(&state).await;
    Ok(redirect_with(&format!("/system/jobs/{new_id}"), Some(Toast::success("Retry queued as a new job"))))
}

#[derive(serde::Deserialize)]
struct CallsQuery {
    #[serde(default)]
    status: String,
    #[serde(flatten)]
    page: PageParams,
}

#[derive(Template)]
#[template(path = "system/ai_calls.html")]
struct AiCallsPage {
    page: PageCtx,
    status: String,
    rows: Vec<AiCall>,
    totals: Vec<DailyTotal>,
    pager: Pager,
    rates: Vec<ModelRate>,
    rate_errors: crate::error::FieldErrors,
    /// System administrators: provider spend per workspace, purpose and model beside the credits sold.
    margins: Vec<calls::Margin>,
}

async fn ai_calls_page(state: web::Data<AppState>, page: PageCtx, q: web::Query<CallsQuery>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewAudit)?;
    let q = q.into_inner();
    let mut conn = state.db.get().await?;
    let (rows, total) = calls::list(&mut conn, page.ctx.tenant_id, &q.status, &q.page).await?;
    let totals = calls::daily_totals(&mut conn, page.ctx.tenant_id).await?;
    let rates = calls::rates(&mut conn).await?;
    let margins = if page.is_system_admin { calls::margins(&mut conn).await? } else { vec![] };
    let href = format!("/system/ai-calls?{}", crate::listing::query_string(&[("status", &q.status)]));
    render(&AiCallsPage {
        page,
        status: q.status,
        rows,
        totals,
        pager: Pager::new(&q.page, total).linked(href),
        rates,
        rate_errors: Default::default(),
        margins,
    })
}

async fn set_rate(state: web::Data<AppState>, page: PageCtx, form: web::Form<RateInput>) -> AppResult<HttpResponse> {
    match calls::set_rate(&state, &page.ctx, &form).await {
        Ok(r) => Ok(redirect_with("/system/ai-calls", Some(Toast::success(format!("Price of {}/{} saved", r.provider, r.model))))),
        Err(crate::error::AppError::Validation(errors)) => {
            let mut conn = state.db.get().await?;
            let (rows, total) = calls::list(&mut conn, page.ctx.tenant_id, "", &PageParams::default()).await?;
            let totals = calls::daily_totals(&mut conn, page.ctx.tenant_id).await?;
            let rates = calls::rates(&mut conn).await?;
            let pager = Pager::new(&PageParams::default(), total).linked("/system/ai-calls");
            let p = AiCallsPage { page, status: String::new(), rows, totals, pager, rates, rate_errors: errors, margins: vec![] };
            crate::web::render_status(&p, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

async fn api_rates(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewAudit)?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "rates": calls::rates(&mut conn).await? })))
}

async fn api_set_rate(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<RateInput>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(calls::set_rate(&state, &ctx, &body).await?))
}

async fn api_jobs(state: web::Data<AppState>, ctx: TenantCtx, q: web::Query<JobsQuery>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewAudit)?;
    let q = q.into_inner();
    let filter = JobFilter { status: q.status, kind: q.kind, tenant: q.tenant };
    let is_admin = matches!(ctx.actor, crate::tenancy::Actor::User { is_system_admin: true, .. });
    let mut conn = state.db.get().await?;
    let (rows, total) = listing::list(&mut conn, filter.scope(ctx.tenant_id, is_admin), &filter, &q.page).await?;
    let counts: serde_json::Map<String, serde_json::Value> =
        listing::counts(&mut conn, ctx.tenant_id).await?.into_iter().map(|(s, n)| (s.to_string(), n.into())).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "jobs": rows, "counts": counts, "pagination": Pager::new(&q.page, total) })))
}

async fn api_job(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewAudit)?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(listing::get(&mut conn, ctx.tenant_id, *id).await?))
}

async fn api_cancel(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    ctx.require(Perm::EditContent)?;
    queue::cancel(&state.db, &state.jobs, &Who::from(&ctx), *id).await?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(listing::get(&mut conn, ctx.tenant_id, *id).await?))
}

async fn api_retry(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    ctx.require(Perm::EditContent)?;
    let new_id = listing::retry(&state.db, &Who::from(&ctx), *id).await?;
    crate::jobs::worker::wake(&state).await;
    Ok(HttpResponse::Created().json(serde_json::json!({ "job_id": new_id })))
}

async fn api_ai_calls(state: web::Data<AppState>, ctx: TenantCtx, q: web::Query<CallsQuery>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewAudit)?;
    let q = q.into_inner();
    let mut conn = state.db.get().await?;
    let (rows, total) = calls::list(&mut conn, ctx.tenant_id, &q.status, &q.page).await?;
    let totals = calls::daily_totals(&mut conn, ctx.tenant_id).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "calls": rows, "daily_totals": totals, "pagination": Pager::new(&q.page, total) })))
}
