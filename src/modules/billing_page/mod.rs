//! Billing page: plan, status, credit balance and the ledger behind it; the buttons that start Stripe
//! Checkout, the Customer Portal and credit packs (`pay`); the Stripe webhook's thin handler.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::rbac::Perm;
use crate::billing::ledger;
use crate::billing::ledger_list::{self, LedgerFilter, LedgerRow};
use crate::billing::plans::Plan;
use crate::state::AppState;
use crate::web::json_object::JsonObject;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::db::schema::tenants;
use crate::error::{AppError, AppResult};
use crate::listing::{Filter, ListQuery, Pager};
use crate::web::chart::StackedBars;
use crate::web::page::PageCtx;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/billing", web::get().to(page))
        .route("/billing/cap", web::post().to(set_cap))
        .route("/billing/ledger.csv", web::get().to(ledger_csv))
        .route("/api/billing/ledger", web::get().to(api_ledger))
        .route("/api/billing/ledger.csv", web::get().to(ledger_csv))
        .route("/api/billing/usage", web::get().to(api_usage))
        .route("/api/billing/cap", web::put().to(api_set_cap))
        .route("/billing/checkout", web::post().to(pay::checkout))
        .route("/billing/portal", web::post().to(pay::portal))
        .route("/billing/packs", web::post().to(pay::pack))
        .route("/api/billing/checkout", web::post().to(pay::api_checkout))
        .route("/api/billing/portal", web::post().to(pay::api_portal))
        .route("/api/billing/packs", web::post().to(pay::api_pack))
        .route("/webhooks/stripe", web::post().to(stripe_webhook));
}

mod pay;
pub mod usage;

/// Stripe's deliveries: the raw body is what the signature covers, so it is read as bytes.
async fn stripe_webhook(state: web::Data<AppState>, req: actix_web::HttpRequest, body: web::Bytes) -> AppResult<HttpResponse> {
    let sig = req.headers().get("stripe-signature").and_then(|v| v.to_str().ok());
    let receipt = crate::billing::webhook::receive(&state, sig, &body).await?;
    Ok(HttpResponse::Ok().json(receipt))
}

#[derive(Template)]
#[template(path = "billing/index.html")]
struct BillingPage {
    page: PageCtx,
    plan: Plan,
    plans: Vec<Plan>,
    rows: Vec<LedgerRow>,
    pager: Pager,
    filter: LedgerFilter,
    /// The ledger's query string (for the CSV link).
    query: String,
    /// Credits spent per day and action, last 30 days.
    usage: StackedBars,
    cap: Option<i64>,
    spent: i64,
    cap_error: Option<String>,
    sub: crate::billing::subscription::Standing,
    /// Plans with a Stripe price configured (the ones the buttons may offer).
    buyable: Vec<String>,
    /// Credits in one pack, when packs are set up.
    pack_credits: Option<u32>,
}

/// Days of spending the billing page charts.
const USAGE_DAYS: i64 = 30;

impl BillingPage {
    fn buyable(&self, code: &str) -> bool {
        self.buyable.iter().any(|c| c == code)
    }
    fn reasons(&self) -> &'static [(&'static str, &'static str)] {
        &ledger_list::REASONS
    }
    fn reason_label(&self, reason: &str) -> &'static str {
        ledger_list::REASONS.iter().find(|(r, _)| *r == reason).map(|(_, l)| *l).unwrap_or("Other")
    }
    fn action_label(&self, action: &Option<String>) -> &'static str {
        action.as_deref().map(usage::action_label).unwrap_or("")
    }
}

async fn page(state: web::Data<AppState>, page: PageCtx, q: web::Query<ListQuery<LedgerFilter>>) -> AppResult<HttpResponse> {
    show(&state, page, q.into_inner(), None).await
}

async fn show(state: &AppState, page: PageCtx, q: ListQuery<LedgerFilter>, cap_error: Option<String>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewBilling)?;
    let mut conn = state.db.get().await?;
    let plan = state.plan(&page.ctx.plan_code).await?;
    let all = state.plans.all(&state.db).await?.to_vec();
    let (rows, total) = ledger_list::list(&mut conn, page.ctx.tenant_id, &q.filter, &q.page).await?;
    let usage = usage::chart(&mut conn, page.ctx.tenant_id, USAGE_DAYS).await?;
    let query = q.filter.to_query();
    let cap: Option<i64> = tenants::table.find(page.ctx.tenant_id).select(tenants::monthly_credit_cap).first(&mut conn).await?;
    let spent = ledger::spent_this_month(&mut conn, page.ctx.tenant_id).await?;
    let status = if cap_error.is_some() { actix_web::http::StatusCode::UNPROCESSABLE_ENTITY } else { actix_web::http::StatusCode::OK };
    let sub = crate::billing::subscription::read(&mut conn, page.ctx.tenant_id).await?;
    let buyable = state.config.stripe_prices.keys().cloned().collect();
    let pack_credits = state.config.stripe_pack_price.as_ref().map(|_| state.config.credit_pack_credits);
    let p = BillingPage {
        page,
        plan,
        plans: all,
        rows,
        pager: Pager::new(&q.page, total).linked(if query.is_empty() { "/billing".to_string() } else { format!("/billing?{query}") }),
        filter: q.filter,
        query,
        usage,
        cap,
        spent,
        cap_error,
        sub,
        buyable,
        pack_credits,
    };
    crate::web::render_status(&p, status)
}

#[derive(serde::Deserialize)]
struct CapForm {
    #[serde(default)]
    monthly_credit_cap: String,
}

/// Empty = no cap; otherwise a whole number.
fn parse_cap(raw: &str) -> Result<Option<i64>, AppError> {
    match raw.trim() {
        "" => Ok(None),
        t => t
            .parse()
            .map(Some)
            .map_err(|_| AppError::field("monthly_credit_cap", "Enter a whole number of credits, or leave it empty for no cap")),
    }
}

async fn set_cap(state: web::Data<AppState>, page: PageCtx, form: web::Form<CapForm>) -> AppResult<HttpResponse> {
    let result = match parse_cap(&form.monthly_credit_cap) {
        Ok(cap) => ledger::set_monthly_cap(&state, &page.ctx, cap).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(crate::web::redirect_with("/billing", Some(crate::web::Toast::success("Monthly cap saved")))),
        Err(AppError::Validation(f)) => {
            let msg = f.into_values().next();
            show(&state, page, ListQuery::default(), msg).await
        }
        Err(e) => Err(e),
    }
}

#[derive(serde::Deserialize)]
struct CapBody {
    monthly_credit_cap: Option<i64>,
}

async fn api_set_cap(state: web::Data<AppState>, ctx: crate::tenancy::TenantCtx, body: JsonObject<CapBody>) -> AppResult<HttpResponse> {
    ledger::set_monthly_cap(&state, &ctx, body.monthly_credit_cap).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "monthly_credit_cap": body.monthly_credit_cap })))
}

async fn api_ledger(
    state: web::Data<AppState>,
    ctx: crate::tenancy::TenantCtx,
    q: web::Query<ListQuery<LedgerFilter>>,
) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewBilling)?;
    let mut conn = state.db.get().await?;
    let (rows, total) = ledger_list::list(&mut conn, ctx.tenant_id, &q.filter, &q.page).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "balance": ctx.credits_balance,
        "entries": rows,
        "pagination": Pager::new(&q.page, total),
    })))
}

/// The ledger with the page's filters as CSV (the page's "Download CSV" and the API alike).
async fn ledger_csv(state: web::Data<AppState>, ctx: crate::tenancy::TenantCtx, q: web::Query<LedgerFilter>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewBilling)?;
    Ok(ledger_list::csv(state.db.clone(), ctx.tenant_id, q.into_inner()))
}

#[derive(serde::Deserialize)]
struct UsageQuery {
    #[serde(default, deserialize_with = "crate::listing::pagination::lenient_i64")]
    days: Option<i64>,
}

/// Credits spent per day and action (the chart's figures), for the last `days` days (1–365, 30 by default).
async fn api_usage(state: web::Data<AppState>, ctx: crate::tenancy::TenantCtx, q: web::Query<UsageQuery>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewBilling)?;
    let days = q.days.unwrap_or(USAGE_DAYS).clamp(1, 365);
    let from = usage::window_start(days);
    let mut conn = state.db.get().await?;
    let rows = usage::by_day(&mut conn, ctx.tenant_id, from).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "from": from, "days": days, "usage": rows })))
}
