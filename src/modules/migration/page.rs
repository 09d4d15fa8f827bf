//! Settings → Migration (owners and admins): the last imports from the WordPress plugin, one run's report
//! per table, and every row it skipped or repaired with the reason (paged, filterable by kind).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::report::{self, Issue, Report, Run};
use crate::auth::rbac::Perm;
use crate::error::AppResult;
use crate::listing::{PageParams, Pager};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::page::PageCtx;
use crate::web::{render, thousands, wants_fragment};

#[derive(Debug, Default, Deserialize)]
pub struct Query {
    #[serde(default)]
    run: Option<String>,
    #[serde(default)]
    kind: String,
    #[serde(flatten)]
    page: PageParams,
}

#[derive(Template)]
#[template(path = "settings/migration.html")]
struct MigrationPage {
    page: PageCtx,
    runs: Vec<Run>,
    run: Option<Run>,
    summary: Report,
    issues: Vec<Issue>,
    pager: Pager,
    kind: String,
}

#[derive(Template)]
#[template(path = "settings/migration.html", block = "issues")]
struct IssuesFragment {
    run: Option<Run>,
    issues: Vec<Issue>,
    pager: Pager,
    kind: String,
}

struct Loaded {
    runs: Vec<Run>,
    run: Option<Run>,
    issues: Vec<Issue>,
    pager: Pager,
    kind: String,
}

async fn load(state: &AppState, tenant_id: i64, q: &Query) -> AppResult<Loaded> {
    let mut conn = state.db.get().await?;
    let runs = report::runs(&mut conn, tenant_id, 20).await?;
    let chosen = q.run.as_deref().and_then(|r| r.trim().parse::<i64>().ok());
    let run = match chosen {
        Some(id) => Some(report::run(&mut conn, tenant_id, id).await?),
        None => runs.first().cloned(),
    };
    let kind = if matches!(q.kind.as_str(), "skipped" | "repaired") { q.kind.clone() } else { String::new() };
    let (issues, total) = match &run {
        Some(r) => report::issues(&mut conn, tenant_id, r.id, (!kind.is_empty()).then_some(kind.as_str()), &q.page).await?,
        None => (vec![], 0),
    };
    let href = match &run {
        Some(r) => format!("/settings/migration?run={}{}", r.id, if kind.is_empty() { String::new() } else { format!("&kind={kind}") }),
        None => "/settings/migration".into(),
    };
    Ok(Loaded { runs, run, issues, pager: Pager::new(&q.page, total).linked(href), kind })
}

pub async fn page(state: web::Data<AppState>, page: PageCtx, req: HttpRequest, q: web::Query<Query>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ManageSettings)?;
    let l = load(&state, page.ctx.tenant_id, &q).await?;
    if wants_fragment(&req) {
        return render(&IssuesFragment { run: l.run, issues: l.issues, pager: l.pager, kind: l.kind });
    }
    let report = l.run.as_ref().map(Run::parsed).unwrap_or_default();
    render(&MigrationPage { page, runs: l.runs, run: l.run, summary: report, issues: l.issues, pager: l.pager, kind: l.kind })
}

/// `GET /api/settings/migration?run=&kind=&page=`: the runs, one run's report and a page of its issue lines.
pub async fn api(state: web::Data<AppState>, ctx: TenantCtx, q: web::Query<Query>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ManageSettings)?;
    let l = load(&state, ctx.tenant_id, &q).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "runs": l.runs.iter().map(|r| serde_json::json!({ "id": r.id, "source": r.source, "status": r.status, "ok": r.ok, "error": r.error, "started_at": r.started_at })).collect::<Vec<_>>(),
        "run": l.run,
        "issues": l.issues,
        "pager": l.pager,
    })))
}

impl MigrationPage {
    /// "12,345" for the tables.
    fn fmt(&self, v: impl crate::web::Figure) -> String {
        thousands(v)
    }
}
