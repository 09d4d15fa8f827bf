//! `/webhooks/stripe`: a verified event is stored once by its id and handled in the same transaction, so a
//! replay (Stripe retries, or an attacker resending a captured body) changes nothing. Plan and status
//! follow only events not older than the last applied one; credits are posted once per invoice or
//! checkout session through the ledger, whatever the order.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use super::subscription::{self, Change, Standing};
use super::{ledger, signature};
use crate::db::schema::{stripe_events, tenants};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenancy::TenantStatus;

/// Ledger reasons of what billing grants.
pub const PLAN_CREDITS: &str = "plan_grant";
pub const CREDIT_PACK: &str = "credit_pack";

crate::text_enum! {
    /// `stripe_events.outcome`: what handling an event did.
    pub enum Outcome {
        Received = "received",
        Applied = "applied",
        /// Older than the state already applied: credits (if any) posted, plan and status left alone.
        Stale = "stale",
        Ignored = "ignored",
        NoWorkspace = "no_workspace",
    }
}

/// The answer for Stripe: what happened to the event.
#[derive(Debug, serde::Serialize, PartialEq, Eq)]
pub struct Receipt {
    pub id: String,
    pub duplicate: bool,
    pub outcome: Option<Outcome>,
}

/// The parts of an event we read; anything else in the body is kept in `stripe_events.payload`.
struct Event {
    id: String,
    kind: String,
    created: DateTime<Utc>,
    object: Value,
}

fn parse(body: &[u8]) -> AppResult<(Event, Value)> {
    let bad = || AppError::BadRequest("Malformed Stripe event".into());
    let v: Value = serde_json::from_slice(body).map_err(|_| bad())?;
    let id = v["id"].as_str().filter(|s| !s.is_empty() && s.len() <= 255).ok_or_else(bad)?.to_string();
    let kind = v["type"].as_str().filter(|s| !s.is_empty()).ok_or_else(bad)?.to_string();
    let created = v["created"].as_i64().and_then(|t| DateTime::from_timestamp(t, 0)).ok_or_else(bad)?;
    let object = v["data"]["object"].clone();
    if !object.is_object() {
        return Err(bad());
    }
    Ok((Event { id, kind, created, object }, v))
}

/// Verifies, stores and handles one delivery. Refusals (400) happen before anything is written.
pub async fn receive(state: &AppState, signature_header: Option<&str>, body: &[u8]) -> AppResult<Receipt> {
    let secret = state
        .config
        .stripe_webhook_secret
        .as_deref()
        .ok_or_else(|| AppError::Unavailable("Stripe webhooks are not configured (IGNY8_STRIPE_WEBHOOK_SECRET)".into()))?;
    signature::verify(signature_header, body, secret, Utc::now().timestamp()).map_err(|r| AppError::BadRequest(r.message().into()))?;
    let (event, payload) = parse(body)?;
    let grace_days = state.config.billing_grace_days;
    let cfg = state.config.clone();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let stored = diesel::insert_into(stripe_events::table)
            .values((
                stripe_events::id.eq(&event.id),
                stripe_events::type_.eq(&event.kind),
                stripe_events::created.eq(event.created),
                stripe_events::payload.eq(&payload),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if stored == 0 {
            return Ok(Receipt { id: event.id, duplicate: true, outcome: None });
        }
        let (tenant, outcome) = handle(conn, &cfg, grace_days, &event).await?;
        if let (Some(tenant_id), "invoice.payment_failed") = (tenant, event.kind.as_str())
            && subscription::read(conn, tenant_id).await?.status == TenantStatus::PastDue
        {
            // Once per invoice: Stripe reports every failed charge of the same invoice as another event.
            let invoice = event.object["id"].as_str().unwrap_or(&event.id);
            super::notify::payment_failed(conn, state, tenant_id, invoice).await?;
        }
        diesel::update(stripe_events::table.find(&event.id)).set(stripe_events::outcome.eq(outcome)).execute(conn).await?;
        tracing::info!(event = %event.id, kind = %event.kind, ?tenant, %outcome, "stripe event");
        Ok(Receipt { id: event.id, duplicate: false, outcome: Some(outcome) })
    })
    .await
}

async fn handle(
    conn: &mut AsyncPgConnection,
    cfg: &crate::config::Config,
    grace_days: u32,
    e: &Event,
) -> AppResult<(Option<i64>, Outcome)> {
    let handled = matches!(
        e.kind.as_str(),
        "checkout.session.completed"
            | "invoice.paid"
            | "invoice.payment_failed"
            | "customer.subscription.updated"
            | "customer.subscription.deleted"
    );
    if !handled {
        return Ok((None, Outcome::Ignored));
    }
    let Some(tenant_id) = find_tenant(conn, &e.object).await? else {
        tracing::warn!(event = %e.id, kind = %e.kind, "stripe event for no known workspace");
        return Ok((None, Outcome::NoWorkspace));
    };
    // The row lock first: the ledger post below locks the same row, and other writers lock it first too.
    let now = subscription::lock(conn, tenant_id).await?;
    let current = subscription::is_current(&now, e.created);
    let o = &e.object;
    let mut change = Change::default();
    match e.kind.as_str() {
        "checkout.session.completed" => {
            fill_ids(&mut change, &now, o);
            if o["mode"].as_str() == Some("payment") {
                // A credit pack: posted once per checkout session, whenever it arrives.
                let credits = meta(o, "credits").and_then(|c| c.parse::<i64>().ok()).filter(|c| *c > 0);
                if let (Some(credits), Some("paid")) = (credits, o["payment_status"].as_str()) {
                    let session = o["id"].as_str().unwrap_or(&e.id);
                    ledger::post_in_tx(conn, tenant_id, credits, CREDIT_PACK, session).await?;
                }
            } else if current {
                change.status = Some(TenantStatus::Active);
                change.grace_ends_at = Some(None);
                change.plan_code = meta(o, "plan").filter(|p| cfg.stripe_price(p).is_some()).map(str::to_string);
            }
        }
        "invoice.paid" => {
            // The plan the invoice is for (its price), else the workspace's plan.
            let plan_code = invoice_price(o).and_then(|p| cfg.plan_for_price(p)).unwrap_or(&now.plan_code).to_string();
            let monthly: Option<i64> = crate::db::schema::plans::table
                .find(&plan_code)
                .select(crate::db::schema::plans::monthly_credits)
                .first(conn)
                .await
                .optional()?;
            if let (Some(credits), Some(invoice)) = (monthly.filter(|c| *c > 0), o["id"].as_str()) {
                ledger::post_in_tx(conn, tenant_id, credits, PLAN_CREDITS, invoice).await?;
            }
            if current {
                change = Change { plan_code: invoice_price(o).and_then(|p| cfg.plan_for_price(p)).map(str::to_string), ..Change::paid() };
                if let Some(end) = invoice_period_end(o) {
                    change.current_period_end = Some(Some(end));
                }
            }
        }
        "invoice.payment_failed" if current => change = Change::payment_failed(&now, e.created, grace_days),
        "customer.subscription.updated" if current => {
            change.stripe_subscription_id = o["id"].as_str().map(|s| Some(s.to_string()));
            change.plan_code = subscription_price(o).and_then(|p| cfg.plan_for_price(p)).map(str::to_string);
            change.cancel_at_period_end = o["cancel_at_period_end"].as_bool();
            change.current_period_end = subscription_period_end(o).map(Some);
            match o["status"].as_str() {
                Some("active" | "trialing") => {
                    change.status = Some(TenantStatus::Active);
                    change.grace_ends_at = Some(None);
                }
                Some("past_due") => {
                    let f = Change::payment_failed(&now, e.created, grace_days);
                    (change.status, change.grace_ends_at) = (f.status, f.grace_ends_at);
                }
                Some("unpaid") => change.status = Some(TenantStatus::Suspended),
                Some("canceled") => change.status = Some(TenantStatus::Cancelled),
                _ => {}
            }
        }
        "customer.subscription.deleted" if current => {
            change = Change {
                plan_code: Some(super::plans::SIGNUP_PLAN.to_string()),
                status: Some(TenantStatus::Cancelled),
                cancel_at_period_end: Some(false),
                grace_ends_at: Some(None),
                stripe_subscription_id: Some(None),
                ..Change::default()
            };
        }
        _ => {}
    }
    let outcome = if current {
        change.billing_event_at = Some(e.created);
        Outcome::Applied
    } else {
        Outcome::Stale
    };
    subscription::write(conn, &now, &change).await?;
    Ok((Some(tenant_id), outcome))
}

/// Customer and subscription ids are facts, not state: filled in whenever still missing.
fn fill_ids(change: &mut Change, now: &Standing, o: &Value) {
    if now.stripe_customer_id.is_none() {
        change.stripe_customer_id = o["customer"].as_str().map(|s| Some(s.to_string()));
    }
    if now.stripe_subscription_id.is_none() {
        change.stripe_subscription_id = o["subscription"].as_str().map(|s| Some(s.to_string()));
    }
}

fn meta<'a>(o: &'a Value, key: &str) -> Option<&'a str> {
    o["metadata"][key].as_str()
}

/// The workspace an object belongs to: the Stripe customer we stored, else the workspace id we put in the
/// object's metadata (or `client_reference_id`) when creating it — needed when an event about a new
/// subscription arrives before its checkout session completed.
async fn find_tenant(conn: &mut AsyncPgConnection, o: &Value) -> AppResult<Option<i64>> {
    if let Some(customer) = o["customer"].as_str() {
        let t: Option<i64> =
            tenants::table.filter(tenants::stripe_customer_id.eq(customer)).select(tenants::id).first(conn).await.optional()?;
        if t.is_some() {
            return Ok(t);
        }
    }
    let claimed = [
        meta(o, "tenant_id"),
        o["client_reference_id"].as_str(),
        o["subscription_details"]["metadata"]["tenant_id"].as_str(),
        o["parent"]["subscription_details"]["metadata"]["tenant_id"].as_str(),
    ]
    .into_iter()
    .flatten()
    .find_map(|s| s.parse::<i64>().ok());
    let Some(id) = claimed else { return Ok(None) };
    Ok(tenants::table.find(id).select(tenants::id).first(conn).await.optional()?)
}

/// The price of an invoice's first line: `lines.data[0].price.id` (older API versions) or
/// `lines.data[0].pricing.price_details.price` (newer ones).
fn invoice_price(o: &Value) -> Option<&str> {
    let line = &o["lines"]["data"][0];
    line["price"]["id"].as_str().or_else(|| line["pricing"]["price_details"]["price"].as_str())
}

fn invoice_period_end(o: &Value) -> Option<DateTime<Utc>> {
    o["lines"]["data"][0]["period"]["end"].as_i64().or_else(|| o["period_end"].as_i64()).and_then(|t| DateTime::from_timestamp(t, 0))
}

fn subscription_price(o: &Value) -> Option<&str> {
    o["items"]["data"][0]["price"]["id"].as_str()
}

/// `current_period_end` moved from the subscription to its items in newer API versions; both are read.
fn subscription_period_end(o: &Value) -> Option<DateTime<Utc>> {
    o["items"]["data"][0]["current_period_end"]
        .as_i64()
        .or_else(|| o["current_period_end"].as_i64())
        .and_then(|t| DateTime::from_timestamp(t, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_events_are_refused() {
        for body in [
            &b"not json"[..],
            br#"{"type":"invoice.paid","created":1,"data":{"object":{}}}"#,
            br#"{"id":"evt_1","type":"x","created":"soon","data":{"object":{}}}"#,
            br#"{"id":"evt_1","type":"x","created":1,"data":{}}"#,
        ] {
            assert!(matches!(parse(body), Err(AppError::BadRequest(_))), "{}", String::from_utf8_lossy(body));
        }
        assert!(parse(br#"{"id":"evt_1","type":"x","created":1,"data":{"object":{}}}"#).is_ok());
    }

    #[test]
    fn prices_and_periods_in_both_api_shapes() {
        let old = serde_json::json!({"lines": {"data": [{"price": {"id": "price_a"}, "period": {"end": 100}}]}});
        let new = serde_json::json!({"lines": {"data": [{"pricing": {"price_details": {"price": "price_b"}}}]}, "period_end": 200});
        assert_eq!(invoice_price(&old), Some("price_a"));
        assert_eq!(invoice_price(&new), Some("price_b"));
        assert_eq!(invoice_period_end(&old).unwrap().timestamp(), 100);
        assert_eq!(invoice_period_end(&new).unwrap().timestamp(), 200);
    }
}
