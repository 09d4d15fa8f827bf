//! Dashboard: the workspace at a glance.

use actix_web::{HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::audit::{self, AuditEvent};
use crate::auth::rbac::Perm;
use crate::billing::plans::Plan;
use crate::db::schema::memberships;
use crate::error::AppResult;
use crate::modules::automation::run::RunStatus;
use crate::state::AppState;
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
    tasks_waiting: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    articles: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    images: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    sites: i64,
}

const PIPELINE_SQL: &str = "SELECT
    (SELECT count(*) FROM keywords WHERE tenant_id = $1) AS keywords,
    (SELECT count(*) FROM keywords WHERE tenant_id = $1 AND cluster_id IS NULL) AS unclustered,
    (SELECT count(*) FROM clusters WHERE tenant_id = $1) AS clusters,
    (SELECT count(*) FROM content_ideas WHERE tenant_id = $1 AND status = 'new') AS ideas_new,
    (SELECT count(*) FROM tasks WHERE tenant_id = $1 AND status IN ('queued', 'failed')) AS tasks_waiting,
    (SELECT count(*) FROM tasks WHERE tenant_id = $1 AND status IN ('draft', 'review', 'ready')) AS articles,
    (SELECT count(*) FROM images WHERE tenant_id = $1 AND status = 'ready') AS images,
    (SELECT count(*) FROM sites WHERE tenant_id = $1) AS sites";

async fn page(state: web::Data<AppState>, page: PageCtx) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let tenant_id = page.ctx.tenant_id;
    let plan = state.plan(&page.ctx.plan_code).await?;
    let members: i64 = memberships::table.filter(memberships::tenant_id.eq(tenant_id)).count().get_result(&mut conn).await?;
    let recent = if page.can(&Perm::ViewAudit) { audit::recent(&mut conn, tenant_id, 8).await? } else { vec![] };
    let pipeline = diesel::sql_query(PIPELINE_SQL).bind::<diesel::sql_types::BigInt, _>(tenant_id).get_result(&mut conn).await?;
    let notices = crate::modules::automation::history::list(
        &mut conn,
        Some(tenant_id),
        None,
        crate::modules::automation::history::Which::Notices,
        5,
        0,
    )
    .await?;
    render(&DashboardPage { page, plan, members, recent, pipeline, notices })
}
