//! Mail to the workspace's owners and admins when an automation run fails or is skipped for something only they
//! can fix (credits, the daily budget) — each of them once per step, kind and day, however often the scheduler
//! meets the same problem, and only to those who left "Automation problems" on in their notification settings.

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::run::{Outcome, RunStatus};
use crate::auth::rbac::Role;
use crate::db::schema::{memberships, tenants, users};
use crate::error::AppResult;
use crate::mail::{self, Letter};
use crate::state::AppState;

/// Queues the notice mails for a run that needs attention; returns how many were queued.
pub async fn run_needs_attention(conn: &mut AsyncPgConnection, state: &AppState, tenant_id: i64, out: &Outcome) -> AppResult<usize> {
    if !out.notice || !mail::enabled(state) {
        return Ok(0);
    }
    let recipients: Vec<(i64, String, String)> = memberships::table
        .inner_join(users::table)
        .filter(memberships::tenant_id.eq(tenant_id))
        .filter(memberships::role.eq_any([Role::Owner.as_str(), Role::Admin.as_str()]))
        .filter(users::notify_automation.eq(true))
        .select((users::id, users::email, users::name))
        .load(conn)
        .await?;
    if recipients.is_empty() {
        return Ok(0);
    }
    let workspace: String = tenants::table.find(tenant_id).select(tenants::name).first(conn).await?;
    let what = if out.status == RunStatus::Failed { "failed" } else { "was skipped" };
    let key = format!("automation:{}:{}:{}", out.step, out.status, Utc::now().date_naive());
    let mut sent = 0;
    for (user_id, email, name) in recipients {
        if !crate::auth::notifications::first_time(conn, tenant_id, user_id, &key).await? {
            continue;
        }
        let letter = Letter::new(format!("Automation {what} in {workspace}: {}", out.step), format!("Hello {name},"))
            .para(format!("The automation step \"{}\" of the workspace \"{workspace}\" {what}.", out.step))
            .para(format!("Why: {}", out.reason))
            .action("Open automation", format!("{}/automation", state.config.base_url))
            .note("You get this at most once a day per step. Turn these mails off under Account → Notifications.");
        mail::queue(conn, state, tenant_id, &email, &letter).await?;
        sent += 1;
    }
    Ok(sent)
}

#[derive(diesel::QueryableByName)]
struct LowRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    balance: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    monthly: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    refill: i64,
}

/// Mails the owners and admins of every workspace whose balance is below 10 % of its plan's monthly credits —
/// once per refill (the key names the workspace's latest credit grant), to those with "Credits running low" on.
/// Runs after each scheduled workspace step, so a drop is noticed within one cadence.
pub async fn credits_low(state: &AppState) -> AppResult<usize> {
    if !mail::enabled(state) {
        return Ok(0);
    }
    let mut conn = state.db.get().await?;
    let low: Vec<LowRow> = diesel::sql_query(
        "SELECT t.id, t.name, t.credits_balance AS balance, p.monthly_credits AS monthly,
                COALESCE((SELECT max(l.id) FROM credit_ledger l WHERE l.tenant_id = t.id AND l.delta > 0), 0) AS refill
           FROM tenants t JOIN plans p ON p.code = t.plan_code
          WHERE t.credits_balance * 10 < p.monthly_credits",
    )
    .load(&mut conn)
    .await?;
    let mut sent = 0;
    for t in low {
        let recipients: Vec<(i64, String, String)> = memberships::table
            .inner_join(users::table)
            .filter(memberships::tenant_id.eq(t.id))
            .filter(memberships::role.eq_any([Role::Owner.as_str(), Role::Admin.as_str()]))
            .filter(users::notify_credits.eq(true))
            .select((users::id, users::email, users::name))
            .load(&mut conn)
            .await?;
        let key = format!("credits_low:{}", t.refill);
        for (user_id, email, name) in recipients {
            if !crate::auth::notifications::first_time(&mut conn, t.id, user_id, &key).await? {
                continue;
            }
            let letter = Letter::new(format!("Credits running low in {}", t.name), format!("Hello {name},"))
                .para(format!(
                    "The workspace \"{}\" has {} credit{} left, less than 10 % of its plan's {} a month. \
                     AI work and automation stop when they run out.",
                    t.name,
                    t.balance,
                    if t.balance == 1 { "" } else { "s" },
                    t.monthly
                ))
                .action("See credits", format!("{}/billing", state.config.base_url))
                .note("You get this once each time the balance drops this low. Turn it off under Account → Notifications.");
            mail::queue(&mut conn, state, t.id, &email, &letter).await?;
            sent += 1;
        }
    }
    Ok(sent)
}
