//! Billing page: plan, credit balance and the ledger behind it. Stripe checkout arrives with the billing issue.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::app::AppState;
use crate::auth::rbac::Perm;
use crate::billing::ledger::{self, LedgerRow};
use crate::billing::plans::Plan;
use crate::error::AppResult;
use crate::web::page::PageCtx;
use crate::web::pagination::{PageParams, Pager};
use crate::web::render;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/billing", web::get().to(page)).route("/api/billing/ledger", web::get().to(api_ledger));
}

#[derive(Template)]
#[template(path = "billing/index.html")]
struct BillingPage {
    page: PageCtx,
    plan: Plan,
    plans: Vec<Plan>,
    rows: Vec<LedgerRow>,
    pager: Pager,
}

async fn page(state: web::Data<AppState>, page: PageCtx, q: web::Query<PageParams>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewBilling)?;
    let mut conn = state.db.get().await?;
    let plan = state.plan(&page.ctx.plan_code).await?;
    let all = state.plans.all(&state.db).await?.to_vec();
    let (rows, total) = ledger::list(&mut conn, page.ctx.tenant_id, &q).await?;
    render(&BillingPage { page, plan, plans: all, rows, pager: Pager::new(&q, total).linked("/billing") })
}

async fn api_ledger(state: web::Data<AppState>, ctx: crate::tenancy::TenantCtx, q: web::Query<PageParams>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewBilling)?;
    let mut conn = state.db.get().await?;
    let (rows, total) = ledger::list(&mut conn, ctx.tenant_id, &q).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "balance": ctx.credits_balance,
        "entries": rows,
        "pagination": Pager::new(&q, total),
    })))
}
