//! The in-process scheduler. tokio-cron-scheduler beats once a minute; each beat looks at every step's
//! cadence (system settings, 5-field cron in UTC) and runs the slot that has come due. Exactly once across
//! replicas: a slot is claimed by inserting `(step, slot)` into `cron_slots` — the primary key lets one
//! replica win, the others see the conflict and do nothing. A replica that dies mid-tick leaves its slot
//! claimed but unfinished; the next slot is a new row, so it is never blocked. Slots missed while every
//! replica was down are not replayed (the next one picks up the backlog: runs choose by state, not by time).

pub mod cleanup;
pub mod settings;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::app::AppState;
use crate::db::schema::{cron_slots, publications};
use crate::error::AppResult;
use crate::modules::automation::run as automation;
use crate::tenancy::AUTOMATION_LABEL;

/// A slot is run if it came due at most this long ago (a beat may be late; older slots are skipped).
const GRACE_MINUTES: i64 = 10;

/// Starts the minute beat. The returned scheduler must be kept alive (and shut down at exit).
pub async fn start(state: Arc<AppState>) -> anyhow::Result<JobScheduler> {
    let sched = JobScheduler::new().await?;
    let job = Job::new_async("0 * * * * *", move |_, _| {
        let state = state.clone();
        Box::pin(async move {
            if let Err(e) = beat(&state, Utc::now()).await {
                tracing::warn!(error = %e, "scheduler beat failed");
            }
        })
    })?;
    sched.add(job).await?;
    sched.start().await?;
    Ok(sched)
}

/// The most recent slot of `cron` at or before `now`, if it is recent enough to run.
pub fn due_slot(cron: &croner::Cron, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let prev = cron.find_previous_occurrence(&now, true).ok()?;
    (now.signed_duration_since(prev) <= Duration::minutes(GRACE_MINUTES)).then_some(prev)
}

pub fn next_slot(cron_line: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    settings::parse_cron(cron_line).ok()?.find_next_occurrence(&now, false).ok()
}

/// One beat: every step whose slot is due is fired (claimed first).
pub async fn beat(state: &AppState, now: DateTime<Utc>) -> AppResult<()> {
    let all = {
        let mut conn = state.db.get().await?;
        settings::all(&mut conn).await?
    };
    for step in settings::SCHEDULED {
        let Some(line) = all.get(&format!("cron.{step}")) else { continue };
        let Ok(cron) = settings::parse_cron(line) else {
            tracing::warn!(step, line, "unreadable cadence; the step does not run");
            continue;
        };
        if let Some(slot) = due_slot(&cron, now) {
            fire(state, step, slot).await?;
        }
    }
    Ok(())
}

fn replica_id() -> String {
    format!("{}:{}", std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into()), std::process::id())
}

/// Claims the slot and runs it. `None` when another replica (or an earlier beat) already has it.
pub async fn fire(state: &AppState, step: &str, slot: DateTime<Utc>) -> AppResult<Option<serde_json::Value>> {
    let mut conn = state.db.get().await?;
    let claimed = diesel::insert_into(cron_slots::table)
        .values((cron_slots::step.eq(step), cron_slots::slot.eq(slot), cron_slots::claimed_by.eq(replica_id())))
        .on_conflict_do_nothing()
        .execute(&mut conn)
        .await?;
    if claimed == 0 {
        return Ok(None);
    }
    drop(conn);
    let result = match step {
        "sync" => sync_all(state, slot).await?,
        "cleanup" => {
            let mut conn = state.db.get().await?;
            cleanup::run(&mut conn).await?
        }
        _ => serde_json::to_value(automation::tick(state, step, slot).await?).unwrap_or_default(),
    };
    let mut conn = state.db.get().await?;
    diesel::update(cron_slots::table.filter(cron_slots::step.eq(step)).filter(cron_slots::slot.eq(slot)))
        .set((cron_slots::finished_at.eq(diesel::dsl::now), cron_slots::result.eq(&result)))
        .execute(&mut conn)
        .await?;
    tracing::info!(step, %slot, %result, "scheduled step ran");
    Ok(Some(result))
}

/// WordPress status sync for every workspace with automation on and something published.
async fn sync_all(state: &AppState, _slot: DateTime<Utc>) -> AppResult<serde_json::Value> {
    let mut conn = state.db.get().await?;
    let on = automation::tenants_for(&mut conn, "sync").await?;
    let with_posts: Vec<i64> = publications::table
        .filter(publications::tenant_id.eq_any(&on))
        .filter(publications::remote_id.is_not_null())
        .select(publications::tenant_id)
        .distinct()
        .load(&mut conn)
        .await?;
    drop(conn);
    for tid in &with_posts {
        crate::modules::publish::service::enqueue_sync_as(state, *tid, AUTOMATION_LABEL, None).await?;
    }
    Ok(serde_json::json!({ "tenants": with_posts.len(), "jobs": with_posts.len() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_due_slot_is_the_latest_occurrence_within_the_grace() {
        let cron = settings::parse_cron("0 */6 * * *").unwrap();
        let at = |h, m| Utc.with_ymd_and_hms(2026, 11, 26, h, m, 0).unwrap();
        assert_eq!(due_slot(&cron, at(6, 0)), Some(at(6, 0)));
        assert_eq!(due_slot(&cron, at(6, 9)), Some(at(6, 0)));
        assert_eq!(due_slot(&cron, at(6, 11)), None, "too late: the next slot covers it");
        assert_eq!(next_slot("0 */6 * * *", at(6, 0)), Some(at(12, 0)));
        assert!(settings::parse_cron("*/5 * * *").is_err());
        assert!(settings::parse_cron("99 * * * *").is_err());
    }
}
