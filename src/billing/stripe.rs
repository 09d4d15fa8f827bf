//! Stripe's API for what a workspace starts from the Billing page: Checkout in subscription mode (subscribe),
//! the Customer Portal (cards, invoices, cancellation, and plan changes of an existing subscription through
//! its `subscription_update` flow), and Checkout in payment mode for a credit pack.
//!
//! These are a few form-encoded POSTs to Stripe's documented endpoints made with reqwest rather than the
//! async-stripe crates: three calls did not justify compiling a large generated client on this build machine,
//! and the wire format is the same. The base URL is configurable (`IGNY8_STRIPE_API_BASE`), so tests run
//! against a fake Stripe on loopback.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Deserialize;

use super::plans::Plan;
use crate::auth::rbac::Perm;
use crate::db::schema::{memberships, sites, tenants};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenancy::TenantCtx;

/// Stripe's answer for a checkout or portal session: the page to send the user to.
#[derive(Debug, Deserialize)]
pub struct Session {
    pub id: String,
    pub url: String,
}

#[derive(Deserialize)]
struct StripeError {
    error: StripeErrorBody,
}

#[derive(Deserialize)]
struct StripeErrorBody {
    #[serde(default)]
    message: String,
}

fn client() -> &'static reqwest::Client {
    // The base URL is the operator's setting, not user input, so no outbound address filter applies.
    static C: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("a plain HTTP client builds")
    })
}

async fn post(state: &AppState, path: &str, form: &[(String, String)]) -> AppResult<Session> {
    let key = state
        .config
        .stripe_secret_key
        .as_deref()
        .ok_or_else(|| AppError::Unavailable("Payments are not set up on this server (IGNY8_STRIPE_SECRET_KEY)".into()))?;
    let body = serde_urlencoded::to_string(form).map_err(AppError::internal)?;
    let res = client()
        .post(format!("{}{path}", state.config.stripe_api_base))
        .bearer_auth(key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| AppError::Unavailable(format!("Stripe could not be reached: {e}")))?;
    let status = res.status();
    let bytes = crate::outbound::read_limited(res, 1024 * 1024).await.map_err(|e| {
        let why = match e {
            crate::outbound::ReadError::TooLarge(m) => m,
            crate::outbound::ReadError::Transport(e) => e.to_string(),
        };
        AppError::Unavailable(format!("Stripe's answer could not be read: {why}"))
    })?;
    if !status.is_success() {
        let msg = serde_json::from_slice::<StripeError>(&bytes).map(|e| e.error.message).unwrap_or_default();
        tracing::warn!(%status, path, message = %msg, "stripe refused");
        return Err(AppError::Unavailable(format!("Stripe refused the request ({status}): {msg}")));
    }
    serde_json::from_slice(&bytes).map_err(|e| AppError::Unavailable(format!("Stripe's answer was not understood: {e}")))
}

fn kv(k: &str, v: impl ToString) -> (String, String) {
    (k.to_string(), v.to_string())
}

struct Billed {
    customer: Option<String>,
    subscription: Option<String>,
}

async fn billed(state: &AppState, tenant_id: i64) -> AppResult<Billed> {
    let mut conn = state.db.get().await?;
    let (customer, subscription) = tenants::table
        .find(tenant_id)
        .select((tenants::stripe_customer_id, tenants::stripe_subscription_id))
        .first::<(Option<String>, Option<String>)>(&mut conn)
        .await?;
    Ok(Billed { customer, subscription })
}

/// A plan smaller than what the workspace uses is refused with what to remove first.
pub async fn check_fits(state: &AppState, tenant_id: i64, plan: &Plan) -> AppResult<()> {
    let mut conn = state.db.get().await?;
    let users: i64 = memberships::table.filter(memberships::tenant_id.eq(tenant_id)).count().get_result(&mut conn).await?;
    let site_count: i64 = sites::table.filter(sites::tenant_id.eq(tenant_id)).count().get_result(&mut conn).await?;
    let mut over = vec![];
    if users > plan.max_users as i64 {
        over.push(format!(
            "remove {} member{} (the plan allows {}, the workspace has {users})",
            users - plan.max_users as i64,
            if users - plan.max_users as i64 == 1 { "" } else { "s" },
            plan.max_users
        ));
    }
    if site_count > plan.max_sites as i64 {
        let n = site_count - plan.max_sites as i64;
        over.push(format!(
            "remove {n} site{} (the plan allows {}, the workspace has {site_count})",
            if n == 1 { "" } else { "s" },
            plan.max_sites
        ));
    }
    if over.is_empty() { Ok(()) } else { Err(AppError::PlanLimit(format!("Before moving to {}, {}.", plan.name, over.join(" and ")))) }
}

/// Subscribe (Checkout, subscription mode) or, with a subscription already, change plan in the portal.
pub async fn checkout(state: &AppState, ctx: &TenantCtx, plan_code: &str) -> AppResult<Session> {
    ctx.require(Perm::ManageBilling)?;
    crate::auth::verify::require_verified(state, ctx).await?; // unverified users work but do not buy
    let plan = state.plan(plan_code).await.map_err(|_| AppError::field("plan", "Choose one of the plans shown"))?;
    let price =
        state.config.stripe_price(&plan.code).ok_or_else(|| AppError::field("plan", "This plan cannot be bought online; contact us"))?;
    check_fits(state, ctx.tenant_id, &plan).await?;
    let base = &state.config.base_url;
    let b = billed(state, ctx.tenant_id).await?;
    if let (Some(customer), Some(sub)) = (&b.customer, &b.subscription) {
        return post(
            state,
            "/v1/billing_portal/sessions",
            &[
                kv("customer", customer),
                kv("return_url", format!("{base}/billing")),
                kv("flow_data[type]", "subscription_update"),
                kv("flow_data[subscription_update][subscription]", sub),
            ],
        )
        .await;
    }
    let tid = ctx.tenant_id.to_string();
    let mut form = vec![
        kv("mode", "subscription"),
        kv("line_items[0][price]", price),
        kv("line_items[0][quantity]", 1),
        kv("success_url", format!("{base}/billing?checkout=done")),
        kv("cancel_url", format!("{base}/billing")),
        kv("client_reference_id", &tid),
        kv("metadata[tenant_id]", &tid),
        kv("metadata[plan]", &plan.code),
        // So events about the subscription find the workspace even before checkout.session.completed.
        kv("subscription_data[metadata][tenant_id]", &tid),
    ];
    form.push(match &b.customer {
        Some(c) => kv("customer", c),
        None => kv("customer_email", owner_email(ctx)),
    });
    post(state, "/v1/checkout/sessions", &form).await
}

fn owner_email(ctx: &TenantCtx) -> String {
    match &ctx.actor {
        crate::tenancy::Actor::User { email, .. } => email.clone(),
        _ => String::new(),
    }
}

/// The Customer Portal: cards, invoices, cancellation.
pub async fn portal(state: &AppState, ctx: &TenantCtx) -> AppResult<Session> {
    ctx.require(Perm::ManageBilling)?;
    let customer = billed(state, ctx.tenant_id)
        .await?
        .customer
        .ok_or_else(|| AppError::Conflict("There is no payment account yet: subscribe to a plan or buy a credit pack first".into()))?;
    post(state, "/v1/billing_portal/sessions", &[kv("customer", customer), kv("return_url", format!("{}/billing", state.config.base_url))])
        .await
}

/// A one-time credit pack (Checkout, payment mode); the credits arrive with checkout.session.completed.
pub async fn credit_pack(state: &AppState, ctx: &TenantCtx) -> AppResult<Session> {
    ctx.require(Perm::ManageBilling)?;
    crate::auth::verify::require_verified(state, ctx).await?;
    let price = state
        .config
        .stripe_pack_price
        .as_deref()
        .ok_or_else(|| AppError::Unavailable("Credit packs are not set up on this server (IGNY8_STRIPE_PACK_PRICE)".into()))?;
    let base = &state.config.base_url;
    let tid = ctx.tenant_id.to_string();
    let mut form = vec![
        kv("mode", "payment"),
        kv("line_items[0][price]", price),
        kv("line_items[0][quantity]", 1),
        kv("success_url", format!("{base}/billing?pack=done")),
        kv("cancel_url", format!("{base}/billing")),
        kv("client_reference_id", &tid),
        kv("metadata[tenant_id]", &tid),
        kv("metadata[kind]", "credit_pack"),
        kv("metadata[credits]", state.config.credit_pack_credits),
    ];
    form.push(match billed(state, ctx.tenant_id).await?.customer {
        Some(c) => kv("customer", c),
        None => kv("customer_email", owner_email(ctx)),
    });
    post(state, "/v1/checkout/sessions", &form).await
}
