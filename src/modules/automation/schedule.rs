//! The in-process scheduler. Every replica beats once a minute; each beat looks at every scheduled step's
//! cadence (system settings, 5-field cron in UTC) and fires the slot that has come due.
//!
//! A slot is a whole minute taken from the cron line (`due_slot`), never the moment a beat happened to wake:
//! two replicas beating at different sub-second offsets, or one beat arriving late, name the same slot. It is
//! claimed by inserting `(step, slot)` into `cron_slots` — the primary key lets exactly one replica win, the
//! others see the conflict and do nothing, so each slot runs once across replicas, and a later beat inside the
//! catch-up window finds it claimed. A replica that dies mid-run leaves its slot claimed but unfinished; the next
//! slot is a new row, so it is never blocked. Slots missed while every replica was down are not replayed (runs
//! choose by state, not by time, so the next slot takes the backlog).
//!
//! Time comes from a [`Clock`]: the system clock in production, a faster one to rehearse an hour in seconds.

use std::sync::Arc;

use chrono::{DateTime, Duration, DurationRound, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::cadence;
use super::run as automation;
use super::step::Scheduled;
use crate::db::schema::{cron_slots, publications};
use crate::error::AppResult;
use crate::jobs::kind::BoxFuture;
use crate::state::AppState;
use crate::tenancy::AUTOMATION_LABEL;

/// A slot is run if it came due at most this long ago (a beat may be late; older slots are skipped).
const GRACE_MINUTES: i64 = 10;

/// Where the scheduler's time comes from.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
    /// Waits until `at` by this clock.
    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'_, ()>;
}

/// Wall-clock time.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'_, ()> {
        let wait = (at - Utc::now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that runs `speed` times faster than real time from `start` — an hour of beats in seconds, with the
/// real scheduler loop and real slot claims (used to rehearse the scheduler).
pub struct FastClock {
    start: DateTime<Utc>,
    real_start: std::time::Instant,
    speed: f64,
}

impl FastClock {
    pub fn new(start: DateTime<Utc>, speed: f64) -> Self {
        FastClock { start, real_start: std::time::Instant::now(), speed }
    }
}

impl Clock for FastClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = self.real_start.elapsed().as_secs_f64() * self.speed;
        self.start + Duration::microseconds((elapsed * 1e6) as i64)
    }
    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'_, ()> {
        let simulated = (at - self.now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(simulated.div_f64(self.speed)))
    }
}

/// The beat loop: wakes `offset` after each minute boundary (by `clock`) and runs [`beat`]. Runs until the task
/// is aborted.
pub fn start(state: Arc<AppState>, clock: Arc<dyn Clock>, offset: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let offset = Duration::from_std(offset).unwrap_or_default();
        loop {
            let now = clock.now();
            let next = minute_of(now) + Duration::minutes(1) + offset;
            clock.sleep_until(next).await;
            // A draining replica (SIGTERM) starts nothing new; the others take the slot.
            if state.is_draining() {
                continue;
            }
            if let Err(e) = beat(&state, clock.now()).await {
                tracing::warn!(error = %e, "scheduler beat failed");
            }
        }
    })
}

/// The whole minute `t` falls in.
pub fn minute_of(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::minutes(1)).unwrap_or(t)
}

/// The most recent slot of `cron` at or before `now` (a whole minute), if it is recent enough to run.
pub fn due_slot(cron: &croner::Cron, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let minute = minute_of(now);
    let prev = minute_of(cron.find_previous_occurrence(&minute, true).ok()?);
    (minute.signed_duration_since(prev) <= Duration::minutes(GRACE_MINUTES)).then_some(prev)
}

pub fn next_slot(cron_line: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cadence::parse_cron(cron_line).ok()?.find_next_occurrence(&minute_of(now), false).ok()
}

/// One beat: every step whose slot is due is fired (claimed first).
pub async fn beat(state: &AppState, now: DateTime<Utc>) -> AppResult<()> {
    let all = {
        let mut conn = state.db.get().await?;
        // AI calls whose process stopped mid-call stay in the log as interrupted (any replica may do it).
        crate::ai::calls::mark_interrupted(&mut conn, state.ai_timeout() + std::time::Duration::from_secs(60)).await?;
        // Past-due workspaces whose grace period ran out are suspended (one idempotent statement).
        crate::billing::subscription::suspend_overdue(&mut conn, now).await?;
        cadence::all(&mut conn).await?
    };
    for step in Scheduled::ALL {
        let Some(line) = all.get(&step.cron_key()) else { continue };
        let Ok(cron) = cadence::parse_cron(line) else {
            tracing::warn!(%step, line, "unreadable cadence; the step does not run");
            continue;
        };
        if let Some(slot) = due_slot(&cron, now) {
            fire(state, *step, slot).await?;
        }
    }
    Ok(())
}

fn replica_id() -> String {
    format!("{}:{}", std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into()), std::process::id())
}

/// Claims the slot and runs it. `None` when another replica (or an earlier beat) already has it.
pub async fn fire(state: &AppState, step: Scheduled, slot: DateTime<Utc>) -> AppResult<Option<serde_json::Value>> {
    let slot = minute_of(slot);
    let mut conn = state.db.get().await?;
    let claimed = diesel::insert_into(cron_slots::table)
        .values((cron_slots::step.eq(step.as_str()), cron_slots::slot.eq(slot), cron_slots::claimed_by.eq(replica_id())))
        .on_conflict_do_nothing()
        .execute(&mut conn)
        .await?;
    if claimed == 0 {
        return Ok(None);
    }
    drop(conn);
    let result = match step {
        Scheduled::Sync => sync_all(state).await?,
        Scheduled::Cleanup => {
            let mut conn = state.db.get().await?;
            super::cleanup::run(&mut conn).await?
        }
        Scheduled::Backup => crate::backup::run_scheduled(state).await?,
        Scheduled::Cluster | Scheduled::Ideas | Scheduled::Content | Scheduled::Images | Scheduled::Publish => {
            let workspace_step = step.step().expect("a workspace step");
            let summary = serde_json::to_value(automation::tick(state, workspace_step, slot).await?).unwrap_or_default();
            if let Err(e) = super::notify::credits_low(state).await {
                tracing::warn!(error = %e, "could not queue the low-credit mails");
            }
            summary
        }
    };
    let mut conn = state.db.get().await?;
    diesel::update(cron_slots::table.filter(cron_slots::step.eq(step.as_str())).filter(cron_slots::slot.eq(slot)))
        .set((cron_slots::finished_at.eq(diesel::dsl::now), cron_slots::result.eq(&result)))
        .execute(&mut conn)
        .await?;
    tracing::info!(%step, %slot, %result, "scheduled step ran");
    Ok(Some(result))
}

/// WordPress status sync for every workspace with automation on and something published.
async fn sync_all(state: &AppState) -> AppResult<serde_json::Value> {
    let mut conn = state.db.get().await?;
    let on = automation::tenants_with_automation(&mut conn).await?;
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
        let cron = cadence::parse_cron("0 */6 * * *").unwrap();
        let at = |h, m| Utc.with_ymd_and_hms(2026, 11, 26, h, m, 0).unwrap();
        assert_eq!(due_slot(&cron, at(6, 0)), Some(at(6, 0)));
        assert_eq!(due_slot(&cron, at(6, 9)), Some(at(6, 0)));
        assert_eq!(due_slot(&cron, at(6, 11)), None, "too late: the next slot covers it");
        assert_eq!(next_slot("0 */6 * * *", at(6, 0)), Some(at(12, 0)));
        assert!(cadence::parse_cron("*/5 * * *").is_err());
        assert!(cadence::parse_cron("99 * * * *").is_err());
    }

    #[test]
    fn beats_at_any_sub_second_offset_name_the_same_whole_minute_slot() {
        let cron = cadence::parse_cron("*/5 * * * *").unwrap();
        let base = Utc.with_ymd_and_hms(2026, 11, 26, 6, 5, 0).unwrap();
        let expected = Some(base);
        for ms in [0, 1, 137, 499, 500, 999] {
            for minutes_late in 0..5 {
                let now = base + Duration::minutes(minutes_late) + Duration::milliseconds(ms) + Duration::microseconds(321);
                assert_eq!(due_slot(&cron, now), expected, "beat at +{minutes_late} min {ms} ms");
            }
        }
        assert_eq!(due_slot(&cron, base + Duration::minutes(5) + Duration::milliseconds(250)), Some(base + Duration::minutes(5)));
    }
}
