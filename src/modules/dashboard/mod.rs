//! Dashboard: the workspace at a glance.

use actix_web::{HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::app::AppState;
use crate::audit::{self, AuditEvent};
use crate::auth::rbac::Perm;
use crate::billing::plans::Plan;
use crate::db::schema::memberships;
use crate::error::AppResult;
use crate::web::page::PageCtx;
use crate::web::render;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(|| async { crate::web::redirect_with("/dashboard", None) }))
        .route("/dashboard", web::get().to(page));
}

#[derive(Template)]
#[template(path = "dashboard/index.html")]
struct DashboardPage {
    page: PageCtx,
    plan: Plan,
    members: i64,
    recent: Vec<AuditEvent>,
}

async fn page(state: web::Data<AppState>, page: PageCtx) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let tenant_id = page.ctx.tenant_id;
    let plan = state.plan(&page.ctx.plan_code).await?;
    let members: i64 = memberships::table.filter(memberships::tenant_id.eq(tenant_id)).count().get_result(&mut conn).await?;
    let recent = if page.can(&Perm::ViewAudit) {
        audit::recent(&mut conn, tenant_id, 8).await?
    } else {
        vec![]
    };
    render(&DashboardPage { page, plan, members, recent })
}
