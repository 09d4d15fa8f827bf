//! Progress of a running job (done of total steps), shown as a live bar on the pages that queued it.
//! Best effort: a failed write only costs a stale bar, never the job.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::db::DbPool;
use crate::db::schema::jobs;
use crate::jobs::queue::ClaimedJob;

pub async fn report(pool: &DbPool, job: &ClaimedJob, done: i32, total: i32) {
    let Ok(mut conn) = pool.get().await else { return };
    let res = diesel::update(
        jobs::table
            .filter(jobs::tenant_id.eq(job.tenant_id))
            .filter(jobs::id.eq(job.id))
            .filter(jobs::status.eq(crate::jobs::JobStatus::Running)),
    )
    .set((jobs::progress_done.eq(done), jobs::progress_total.eq(total)))
    .execute(&mut conn)
    .await;
    if let Err(e) = res {
        tracing::warn!(job = job.id, error = %e, "could not record job progress");
    }
}
