//! Dashboard: the workspace at a glance — cards, the pipeline as a funnel (`funnel`), credits spent per day by
//! action (the billing page's chart, shorter), recent activity and automation notices.

mod funnel;

use actix_web::{HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::audit::{self, AuditEvent};
use crate::auth::rbac::Perm;
use crate::billing::plans::Plan;
use crate::db::schema::{memberships, tasks};
use crate::error::AppResult;
use crate::modules::automation::run::RunStatus;
use crate::modules::writer::status::TaskStatus;
use crate::state::AppState;
use crate::web::chart::StackedBars;
use crate::web::page::PageCtx;
use crate::web::render;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(|| async { crate::web::redirect_with("/dashboard", None) })).route("/dashboard", web::get().to(page));
}

#[derive(Template)]
#[template(path = "dashboard/index.html")]
struct DashboardPage {
    page: PageCtx,
    plan: Plan,
    members: i64,
    recent: Vec<AuditEvent>,
    pipeline: Pipeline,
    funnel: funnel::Funnel,
    /// Tasks per status, in the order of the task's life.
    tasks: Vec<(TaskStatus, i64)>,
    /// Credits spent per day and action, last 14 days.
    usage: StackedBars,
    /// Automation runs that failed or were skipped for credits, not yet acknowledged.
    notices: Vec<crate::modules::automation::history::Run>,
}

/// How far the workspace's content has come, stage by stage.
#[derive(QueryableByName)]
struct Pipeline {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    keywords: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    unclustered: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    clusters: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    ideas_new: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    articles: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    images: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    sites: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    ideas: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    tasks: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    published_month: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    scheduled_month: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    published: i64,
}

const PIPELINE_SQL: &str = "SELECT
    (SELECT count(*) FROM keywords WHERE tenant_id = $1) AS keywords,
    (SELECT count(*) FROM keywords WHERE tenant_id = $1 AND cluster_id IS NULL) AS unclustered,
    (SELECT count(*) FROM clusters WHERE tenant_id = $1) AS clusters,
    (SELECT count(*) FROM content_ideas WHERE tenant_id = $1 AND status = 'new') AS ideas_new,
    (SELECT count(*) FROM tasks WHERE tenant_id = $1 AND status IN ('draft', 'review', 'ready')) AS articles,
    (SELECT count(*) FROM images WHERE tenant_id = $1 AND status = 'ready') AS images,
    (SELECT count(*) FROM sites WHERE tenant_id = $1) AS sites,
    (SELECT count(*) FROM content_ideas WHERE tenant_id = $1) AS ideas,
    (SELECT count(*) FROM tasks WHERE tenant_id = $1) AS tasks,
    (SELECT count(*) FROM publications WHERE tenant_id = $1 AND state = 'done' AND post_status = 'publish'
        AND published_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS published_month,
    (SELECT count(*) FROM publications WHERE tenant_id = $1 AND state = 'done' AND post_status = 'future'
        AND scheduled_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
        AND scheduled_at < (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC') AS scheduled_month,
    (SELECT count(*) FROM tasks WHERE tenant_id = $1 AND status = 'published') AS published";

/// Days of spending the dashboard charts.
const USAGE_DAYS: i64 = 14;

async fn page(state: web::Data<AppState>, page: PageCtx) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let tenant_id = page.ctx.tenant_id;
    let plan = state.plan(&page.ctx.plan_code).await?;
    let members: i64 = memberships::table.filter(memberships::tenant_id.eq(tenant_id)).count().get_result(&mut conn).await?;
    let recent = if page.can(&Perm::ViewAudit) { audit::recent(&mut conn, tenant_id, 8).await? } else { vec![] };
    let pipeline: Pipeline = diesel::sql_query(PIPELINE_SQL).bind::<diesel::sql_types::BigInt, _>(tenant_id).get_result(&mut conn).await?;
    let counts: Vec<(TaskStatus, i64)> = tasks::table
        .filter(tasks::tenant_id.eq(tenant_id))
        .group_by(tasks::status)
        .select((tasks::status, diesel::dsl::count_star()))
        .load(&mut conn)
        .await?;
    let tasks = TaskStatus::ALL.iter().map(|s| (*s, counts.iter().find(|(c, _)| c == s).map(|(_, n)| *n).unwrap_or(0))).collect();
    let usage = crate::modules::billing_page::usage::chart(&mut conn, tenant_id, USAGE_DAYS).await?;
    let funnel = funnel::Funnel::new(&pipeline);
    let notices = crate::modules::automation::history::list(
        &mut conn,
        Some(tenant_id),
        None,
        crate::modules::automation::history::Which::Notices,
        5,
        0,
    )
    .await?;
    render(&DashboardPage { page, plan, members, recent, pipeline, funnel, tasks, usage, notices })
}
