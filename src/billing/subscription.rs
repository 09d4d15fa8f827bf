//! A workspace's subscription state (plan, status, renewal, grace) and the rule that keeps it right when
//! Stripe's events arrive late or out of order: a change is applied only when its event is not older than
//! the newest one already applied (`tenants.billing_event_at`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::schema::tenants;
use crate::error::AppResult;
use crate::tenancy::TenantStatus;

/// What the stored row says, read under the row lock.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tenants)]
pub struct Standing {
    pub id: i64,
    pub plan_code: String,
    pub status: TenantStatus,
    pub stripe_customer_id: Option<String>,
    pub stripe_subscription_id: Option<String>,
    pub current_period_end: Option<DateTime<Utc>>,
    pub grace_ends_at: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
    pub billing_event_at: Option<DateTime<Utc>>,
    /// Suspended by an operator: only an operator's reinstatement lifts it.
    pub operator_hold: bool,
}

/// Locks the workspace row for this transaction (before any ledger post, which locks it too) and reads it.
pub async fn lock(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<Standing> {
    Ok(tenants::table.find(tenant_id).select(Standing::as_select()).for_update().first(conn).await?)
}

/// The same, without a lock (for pages).
pub async fn read(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<Standing> {
    Ok(tenants::table.find(tenant_id).select(Standing::as_select()).first(conn).await?)
}

/// Columns to change; `None` leaves a column as it is.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = tenants)]
pub struct Change {
    pub plan_code: Option<String>,
    pub status: Option<TenantStatus>,
    pub current_period_end: Option<Option<DateTime<Utc>>>,
    pub grace_ends_at: Option<Option<DateTime<Utc>>>,
    pub cancel_at_period_end: Option<bool>,
    pub billing_event_at: Option<DateTime<Utc>>,
    pub stripe_customer_id: Option<Option<String>>,
    pub stripe_subscription_id: Option<Option<String>>,
}

impl Change {
    /// Paid: active again, no grace running.
    pub fn paid() -> Change {
        Change { status: Some(TenantStatus::Active), grace_ends_at: Some(None), ..Change::default() }
    }

    /// A failed payment: past due with the grace period starting at `at` — unless the workspace is already
    /// suspended (a later failure never lifts that) or already running a grace period (it is not extended).
    pub fn payment_failed(now: &Standing, at: DateTime<Utc>, grace_days: u32) -> Change {
        match now.status {
            TenantStatus::Suspended | TenantStatus::Cancelled => Change::default(),
            TenantStatus::PastDue if now.grace_ends_at.is_some() => Change::default(),
            _ => Change {
                status: Some(TenantStatus::PastDue),
                grace_ends_at: Some(Some(at + chrono::Duration::days(grace_days as i64))),
                ..Change::default()
            },
        }
    }
}

/// Whether an event created at `at` may change plan and status (it is not older than the last applied).
pub fn is_current(now: &Standing, at: DateTime<Utc>) -> bool {
    now.billing_event_at.is_none_or(|last| at >= last)
}

/// Writes a change that billing events asked for. While an operator's hold is on, the workspace stays suspended
/// whatever Stripe says (payments and plan facts are still recorded); reinstating is the operator's call.
pub async fn write(conn: &mut AsyncPgConnection, now: &Standing, change: &Change) -> AppResult<()> {
    let held;
    let change = if now.operator_hold && change.status.is_some() {
        held = Change { status: None, grace_ends_at: None, ..change.clone() };
        &held
    } else {
        change
    };
    let tenant_id = now.id;
    diesel::update(tenants::table.find(tenant_id)).set((change, tenants::updated_at.eq(diesel::dsl::now))).execute(conn).await?;
    Ok(())
}

/// Past-due workspaces whose grace period has ended become suspended. One idempotent statement, run by the
/// scheduler's every beat on whichever replica beats, so any number of replicas agree.
pub async fn suspend_overdue(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> AppResult<usize> {
    let n = diesel::update(tenants::table)
        .filter(tenants::status.eq(TenantStatus::PastDue))
        .filter(tenants::grace_ends_at.le(now))
        .set((tenants::status.eq(TenantStatus::Suspended), tenants::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await?;
    if n > 0 {
        tracing::info!(workspaces = n, "past-due workspaces suspended after their grace period");
    }
    Ok(n)
}
