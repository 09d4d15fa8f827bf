//! Mail to the workspace's owners and admins when an automation run fails or is skipped for something only they
//! can fix (credits, the daily budget) — each of them once per step, kind and day, however often the scheduler
//! meets the same problem, and only to those who left "Automation problems" on in their notification settings.

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::run::{Outcome, RunStatus};
use crate::auth::rbac::Role;
use crate::db::schema::{memberships, notifications_sent, tenants, users};
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
        let first = diesel::insert_into(notifications_sent::table)
            .values((
                notifications_sent::tenant_id.eq(tenant_id),
                notifications_sent::user_id.eq(user_id),
                notifications_sent::key.eq(&key),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if first == 0 {
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
