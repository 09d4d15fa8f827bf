//! What the billing tests share: an app configured for Stripe, signed deliveries, the workspace's state.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use hmac::{Hmac, Mac};
use igny8::db::schema::tenants;
use sha2::Sha256;

use crate::harness::{TestApp, redis_url};

pub const WHSEC: &str = "whsec_test_0123456789";
pub const PRICE_STARTER: &str = "price_starter_test";
pub const PRICE_PRO: &str = "price_pro_test";
pub const PRICE_AGENCY: &str = "price_agency_test";

pub async fn app_with(extra: &[(&'static str, String)]) -> TestApp {
    let mut env: HashMap<&str, String> = HashMap::from([
        ("IGNY8_STRIPE_WEBHOOK_SECRET", WHSEC.to_string()),
        ("IGNY8_STRIPE_PRICE_STARTER", PRICE_STARTER.to_string()),
        ("IGNY8_STRIPE_PRICE_PRO", PRICE_PRO.to_string()),
        ("IGNY8_STRIPE_PRICE_AGENCY", PRICE_AGENCY.to_string()),
        ("IGNY8_BILLING_GRACE_DAYS", "3".to_string()),
    ]);
    env.extend(extra.iter().cloned());
    TestApp::spawn_with(&redis_url(), env).await
}

pub async fn app() -> TestApp {
    app_with(&[]).await
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Stripe's scheme, computed here independently of the app: v1 = HMAC-SHA256("{t}.{body}").
pub fn sign(body: &str, secret: &str, t: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

pub fn event(id: &str, kind: &str, created: i64, object: serde_json::Value) -> String {
    serde_json::json!({
        "id": id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": created,
        "livemode": false,
        "type": kind,
        "data": { "object": object },
    })
    .to_string()
}

pub async fn deliver_raw(app: &TestApp, body: &str, signature: Option<String>) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{}/webhooks/stripe", app.base))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(s) = signature {
        req = req.header("Stripe-Signature", s);
    }
    req.send().await.unwrap()
}

/// A correctly signed delivery; answers the status and the JSON receipt.
pub async fn deliver(app: &TestApp, body: &str) -> (u16, serde_json::Value) {
    let r = deliver_raw(app, body, Some(sign(body, WHSEC, now()))).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or_default())
}

/// An invoice in the newer API shape (price under pricing, the subscription's metadata under parent).
pub fn invoice(id: &str, tenant_id: i64, customer: &str, price: &str, period_end: i64) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "object": "invoice",
        "customer": customer,
        "status": "paid",
        "billing_reason": "subscription_cycle",
        "amount_paid": 8900,
        "parent": { "type": "subscription_details", "subscription_details": { "subscription": "sub_1", "metadata": { "tenant_id": tenant_id.to_string() } } },
        "lines": { "object": "list", "data": [ {
            "id": "il_1", "object": "line_item",
            "period": { "start": period_end - 30 * 86400, "end": period_end },
            "pricing": { "type": "price_details", "price_details": { "price": price, "product": "prod_1" } }
        } ] },
    })
}

pub fn subscription(id: &str, tenant_id: i64, customer: &str, price: &str, status: &str, period_end: i64) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "cancel_at_period_end": false,
        "metadata": { "tenant_id": tenant_id.to_string() },
        "items": { "object": "list", "data": [ { "id": "si_1", "object": "subscription_item", "current_period_end": period_end, "price": { "id": price, "object": "price" } } ] },
    })
}

#[derive(Debug, Queryable)]
pub struct Row {
    pub plan: String,
    pub status: String,
    pub balance: i64,
    pub customer: Option<String>,
    pub grace_ends_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub async fn workspace(app: &TestApp, tenant_id: i64) -> Row {
    let mut conn = app.db().await;
    tenants::table
        .find(tenant_id)
        .select((tenants::plan_code, tenants::status, tenants::credits_balance, tenants::stripe_customer_id, tenants::grace_ends_at))
        .first(&mut conn)
        .await
        .unwrap()
}

pub async fn ledger_sum(app: &TestApp, tenant_id: i64) -> i64 {
    let mut conn = app.db().await;
    igny8::billing::ledger::sum(&mut conn, tenant_id).await.unwrap()
}
