//! Worker heartbeats. Each worker process has a row in `job_workers` and touches it every second from a task and
//! a database connection of its own (a busy pool or a busy dispatcher cannot delay it). A worker whose beat is
//! older than [`STALE`] is gone — killed, or its machine lost — and the reaper takes its running jobs back at
//! once, instead of waiting for their leases to run out; the claim's per-tenant running cap counts only jobs of
//! live workers.

use std::time::Duration;

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::db::schema::job_workers;

/// How often a worker beats.
pub const BEAT: Duration = Duration::from_secs(1);
/// A worker silent this long is considered gone.
pub const STALE: Duration = Duration::from_secs(3);

/// Beats for `id` until aborted. Connection trouble is retried at the next beat; a worker that cannot beat
/// for longer than `STALE` loses its jobs to the reaper, and its own completions are then fenced out.
pub async fn run(database_url: String, id: String, host: String) {
    let mut conn: Option<AsyncPgConnection> = None;
    let mut every = tokio::time::interval(BEAT);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if conn.is_none() {
            conn = AsyncPgConnection::establish(&database_url).await.ok();
        }
        let Some(c) = conn.as_mut() else { continue };
        let res = diesel::insert_into(job_workers::table)
            .values((job_workers::id.eq(&id), job_workers::host.eq(&host)))
            .on_conflict(job_workers::id)
            .do_update()
            .set(job_workers::beat_at.eq(diesel::dsl::now))
            .execute(c)
            .await;
        if let Err(e) = res {
            tracing::warn!(error = %e, "worker heartbeat failed; reconnecting");
            conn = None;
        }
    }
}

/// The first beat, written before the worker claims anything (so its first jobs are never taken for orphans).
pub async fn register(conn: &mut AsyncPgConnection, id: &str, host: &str) -> QueryResult<()> {
    diesel::insert_into(job_workers::table)
        .values((job_workers::id.eq(id), job_workers::host.eq(host)))
        .on_conflict(job_workers::id)
        .do_update()
        .set(job_workers::beat_at.eq(diesel::dsl::now))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A worker that stopped cleanly leaves; rows of workers gone for an hour are forgotten.
pub async fn leave(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<()> {
    diesel::delete(job_workers::table.filter(job_workers::id.eq(id))).execute(conn).await?;
    let an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    diesel::delete(job_workers::table.filter(job_workers::beat_at.lt(an_hour_ago))).execute(conn).await?;
    Ok(())
}
