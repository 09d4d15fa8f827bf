//! What system administrators do to any workspace (System → Workspaces): the overview, credit adjustments
//! with a reason (a ledger row and an audit event in the workspace's trail), plan changes, suspend and
//! reinstate. Each change is one transaction.

use chrono::{Datelike, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::Serialize;

use crate::audit::{self, Who};
use crate::db::schema::{credit_ledger, plans, tenants};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenancy::{Actor, TenantCtx, TenantStatus};

/// Ledger reason of an operator's adjustment.
pub const ADJUSTMENT: &str = "adjustment";

pub fn require_system_admin(ctx: &TenantCtx) -> AppResult<()> {
    if matches!(ctx.actor, Actor::User { is_system_admin: true, .. }) {
        Ok(())
    } else {
        Err(AppError::Forbidden("System administrators only".into()))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkspaceRow {
    pub id: i64,
    pub name: String,
    pub plan_code: String,
    pub status: TenantStatus,
    /// Suspended by an operator (payments do not lift it).
    pub operator_hold: bool,
    pub credits_balance: i64,
    /// Credits spent by AI work since the start of this month (UTC).
    pub spent_this_month: i64,
}

pub async fn list(state: &AppState, ctx: &TenantCtx) -> AppResult<Vec<WorkspaceRow>> {
    require_system_admin(ctx)?;
    let month_start = Utc::now().date_naive().with_day(1).expect("day 1").and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let mut conn = state.db.get().await?;
    // Net of job reservations, settlements and refunds this month, per workspace (the same sum as the cap's).
    let spent: std::collections::HashMap<i64, i64> = credit_ledger::table
        .filter(credit_ledger::reason.eq_any([crate::jobs::queue::RESERVE, crate::jobs::queue::SETTLE, crate::jobs::queue::REFUND]))
        .filter(credit_ledger::created_at.ge(month_start))
        .group_by(credit_ledger::tenant_id)
        .select((credit_ledger::tenant_id, diesel::dsl::sql::<diesel::sql_types::BigInt>("coalesce(sum(delta), 0)::bigint")))
        .load::<(i64, i64)>(&mut conn)
        .await?
        .into_iter()
        .collect();
    let rows: Vec<(i64, String, String, TenantStatus, bool, i64)> = tenants::table
        .select((tenants::id, tenants::name, tenants::plan_code, tenants::status, tenants::operator_hold, tenants::credits_balance))
        .order(tenants::id.asc())
        .limit(500)
        .load(&mut conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, plan_code, status, operator_hold, credits_balance)| WorkspaceRow {
            spent_this_month: -spent.get(&id).copied().unwrap_or(0),
            id,
            name,
            plan_code,
            status,
            operator_hold,
            credits_balance,
        })
        .collect())
}

fn who(ctx: &TenantCtx, tenant_id: i64) -> Who {
    Who { tenant_id, ..Who::from(ctx) }
}

/// Grants (delta > 0) or deducts credits with a reason the workspace sees in its audit trail.
pub async fn adjust_credits(state: &AppState, ctx: &TenantCtx, tenant_id: i64, delta: i64, reason: &str) -> AppResult<i64> {
    require_system_admin(ctx)?;
    let reason = reason.trim().to_string();
    let mut check = crate::validate::Check::new();
    if delta == 0 || delta.abs() > 1_000_000 {
        check.fail("delta", "Enter a whole number of credits from -1,000,000 to 1,000,000, not 0");
    }
    if reason.is_empty() || reason.chars().count() > 200 {
        check.fail("reason", "Say why, in at most 200 characters");
    }
    check.finish()?;
    let who = who(ctx, tenant_id);
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let reference = format!("op:{}", crate::crypto::secrets::random_token(12));
        let balance = match crate::billing::ledger::post_in_tx(conn, tenant_id, delta, ADJUSTMENT, &reference).await? {
            crate::billing::ledger::Posted::New(b) | crate::billing::ledger::Posted::AlreadyPosted(b) => b,
        };
        audit::record(
            conn,
            &who,
            "billing.credits_adjusted",
            ("tenant", tenant_id.to_string()),
            serde_json::json!({ "delta": delta, "reason": reason, "reference": reference, "balance": balance }),
        )
        .await?;
        Ok(balance)
    })
    .await
}

pub async fn set_plan(state: &AppState, ctx: &TenantCtx, tenant_id: i64, plan: &str) -> AppResult<()> {
    require_system_admin(ctx)?;
    let who = who(ctx, tenant_id);
    let plan = plan.to_string();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let before = crate::billing::subscription::lock(conn, tenant_id).await?;
        let known: i64 = plans::table.filter(plans::code.eq(&plan)).count().get_result(conn).await?;
        if known == 0 {
            return Err(AppError::field("plan", "Choose one of the plans"));
        }
        diesel::update(tenants::table.find(tenant_id))
            .set((tenants::plan_code.eq(&plan), tenants::updated_at.eq(diesel::dsl::now)))
            .execute(conn)
            .await?;
        audit::record(
            conn,
            &who,
            "billing.plan_set",
            ("tenant", tenant_id.to_string()),
            serde_json::json!({ "from": before.plan_code, "to": plan }),
        )
        .await
    })
    .await
}

/// Suspend (reads and billing only) or reinstate (active, no grace running).
pub async fn set_suspended(state: &AppState, ctx: &TenantCtx, tenant_id: i64, suspended: bool) -> AppResult<()> {
    require_system_admin(ctx)?;
    let who = who(ctx, tenant_id);
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let before = crate::billing::subscription::lock(conn, tenant_id).await?;
        let status = if suspended { TenantStatus::Suspended } else { TenantStatus::Active };
        diesel::update(tenants::table.find(tenant_id))
            .set((
                tenants::status.eq(status),
                tenants::operator_hold.eq(suspended),
                tenants::grace_ends_at.eq(None::<chrono::DateTime<Utc>>),
                tenants::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        let action = if suspended { "billing.suspended" } else { "billing.reinstated" };
        audit::record(conn, &who, action, ("tenant", tenant_id.to_string()), serde_json::json!({ "from": before.status, "to": status }))
            .await
    })
    .await
}
