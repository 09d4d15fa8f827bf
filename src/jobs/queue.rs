//! Queue operations on the `jobs` table. Every state change of a running job is fenced on
//! (status = 'running', locked_by = this worker), so a worker that lost its lease cannot finish, fail or
//! write effects for a job another worker now owns.
//!
//! Lock order: a transaction that posts to the credit ledger locks the tenant row first, then job rows.
//! (Inserting rows that reference a tenant takes a share lock on it; upgrading that later to the
//! ledger's exclusive lock is what deadlocks two transactions.)

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Jsonb, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::kind::{Ended, JobStatus, Registry, Subject};
use crate::audit::{self, Who};
use crate::billing::{Price, ledger};
use crate::db::schema::jobs;
use crate::db::{DbPool, is_unique_violation};
use crate::error::{AppError, AppResult};

pub const RESERVE: &str = "reserve";
pub const SETTLE: &str = "settle";
pub const REFUND: &str = "refund";
/// A job on the dev provider: an entry of 0, so the ledger shows the free sample work.
pub const SAMPLE: &str = "sample";

fn job_ref(id: i64) -> String {
    format!("job:{id}")
}

/// A job to enqueue — usually made by [`super::kind::Job::new_job`]. `credits` is the price the calling service
/// computed (seed §8.4).
#[derive(Debug, Clone)]
pub struct NewJob {
    pub tenant_id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    /// The row the job is about (stored in its own columns).
    pub subject: Option<Subject>,
    pub credits: i64,
    /// Runs on the dev provider: free, recorded as a "sample" ledger entry of 0.
    pub sample: bool,
    pub max_attempts: i32,
    pub idempotency_key: Option<String>,
    /// Who asked: a user's email, a token, or the scheduler.
    pub created_by: String,
}

impl NewJob {
    pub fn new(tenant_id: i64, kind: &str, payload: serde_json::Value) -> Self {
        NewJob {
            tenant_id,
            kind: kind.to_string(),
            payload,
            subject: None,
            credits: 0,
            sample: false,
            max_attempts: 5,
            idempotency_key: None,
            created_by: String::new(),
        }
    }

    /// The price the calling service got from `ai::access::price`.
    pub fn price(mut self, price: Price) -> Self {
        self.credits = price.credits;
        self.sample = price.sample;
        self
    }

    /// The price reserved at enqueue.
    pub fn credits(mut self, credits: i64) -> Self {
        self.credits = credits;
        self
    }

    /// Who asked: a user's email, a token, the scheduler, another job.
    pub fn by(mut self, who: impl Into<String>) -> Self {
        self.created_by = who.into();
        self
    }
}

/// Inserts the job and reserves its credits. Call inside the transaction of the change that asks for it.
/// Not enough credits → 402 before anything is written. The same idempotency key returns the existing job.
pub async fn enqueue_in_tx(conn: &mut AsyncPgConnection, job: &NewJob) -> AppResult<i64> {
    if job.credits > 0 || job.sample {
        // Tenant first: the job row's foreign key would otherwise take a share lock on the tenant
        // before the ledger asks for the exclusive one, and two such transactions deadlock.
        ledger::lock_and_check(conn, job.tenant_id, job.credits).await?;
    }
    if let Some(key) = &job.idempotency_key {
        let existing: Option<i64> = jobs::table
            .filter(jobs::tenant_id.eq(job.tenant_id))
            .filter(jobs::idempotency_key.eq(key))
            .select(jobs::id)
            .first(conn)
            .await
            .optional()?;
        if let Some(id) = existing {
            return Ok(id);
        }
    }
    let id: i64 = diesel::insert_into(jobs::table)
        .values((
            jobs::tenant_id.eq(job.tenant_id),
            jobs::kind.eq(&job.kind),
            jobs::payload.eq(&job.payload),
            jobs::subject_type.eq(job.subject.map(|s| s.kind)),
            jobs::subject_id.eq(job.subject.map(|s| s.id)),
            jobs::credits.eq(job.credits),
            jobs::max_attempts.eq(job.max_attempts),
            jobs::idempotency_key.eq(&job.idempotency_key),
            jobs::created_by.eq(&job.created_by),
            jobs::sample.eq(job.sample),
        ))
        .returning(jobs::id)
        .get_result(conn)
        .await
        .map_err(|e| if is_unique_violation(&e) { AppError::Conflict("This job is already queued".into()) } else { e.into() })?;
    if job.credits > 0 {
        ledger::post_for_job_in_tx(conn, job.tenant_id, -job.credits, RESERVE, id, &job.kind).await?;
    } else if job.sample {
        ledger::post_for_job_in_tx(conn, job.tenant_id, 0, SAMPLE, id, &job.kind).await?;
    }
    Ok(id)
}

/// Queues one job per payload in the caller's transaction, all or none. The credit check covers the total
/// first, so a refusal (402) names the full price rather than failing half-way.
pub async fn enqueue_all_in_tx<J: super::kind::Job>(
    conn: &mut AsyncPgConnection,
    tenant_id: i64,
    each: Price,
    created_by: &str,
    payloads: Vec<J>,
) -> AppResult<Vec<i64>> {
    if each.credits > 0 {
        ledger::lock_and_check(conn, tenant_id, each.credits * payloads.len() as i64).await?;
    }
    let mut ids = Vec::with_capacity(payloads.len());
    for payload in payloads {
        let job = payload.new_job(tenant_id).price(each).by(created_by);
        ids.push(enqueue_in_tx(conn, &job).await?);
    }
    Ok(ids)
}

/// Enqueue in a transaction of its own (for callers with no other change to make).
pub async fn enqueue(pool: &DbPool, job: NewJob) -> AppResult<i64> {
    let mut conn = pool.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| enqueue_in_tx(conn, &job).await).await
}

#[derive(Debug, Clone, QueryableByName, Serialize)]
pub struct ClaimedJob {
    #[diesel(sql_type = BigInt)]
    pub tenant_id: i64,
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Integer)]
    pub max_attempts: i32,
    #[diesel(sql_type = BigInt)]
    pub credits: i64,
    /// Priced as free sample work: it runs on the dev provider only (see [`runs_as_sample`]).
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub sample: bool,
}

tokio::task_local! {
    static SAMPLE_ONLY: bool;
}

/// Runs a job's handler knowing how the job was priced, so the AI router can hold a sample-priced job to the dev
/// provider without every handler passing the price along.
pub async fn run_priced<F: Future>(job: &ClaimedJob, f: F) -> F::Output {
    SAMPLE_ONLY.scope(job.sample, f).await
}

/// Whether the job running on this task was priced as free sample work (false outside jobs).
pub fn runs_as_sample() -> bool {
    SAMPLE_ONLY.try_with(|s| *s).unwrap_or(false)
}

/// Claims up to `limit` ready jobs, fairly: every tenant with ready work offers its oldest jobs, ranked
/// by how many it already has running plus its position, so a tenant with 10,000 queued jobs gets one
/// slot per round like a tenant with one. A tenant at `per_tenant_cap` running jobs waits; only live work
/// counts (a job whose lease ran out, or whose worker stopped beating, is not running, whatever its status says).
const CLAIM_SQL: &str = "
WITH RECURSIVE ready_tenants AS (
    (SELECT tenant_id FROM jobs WHERE status = 'queued' AND run_at <= now() ORDER BY tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT j.tenant_id FROM jobs j
            WHERE j.status = 'queued' AND j.run_at <= now() AND j.tenant_id > r.tenant_id
            ORDER BY j.tenant_id LIMIT 1)
    FROM ready_tenants r WHERE r.tenant_id IS NOT NULL
),
gone_workers AS (SELECT id FROM job_workers WHERE beat_at <= now() - make_interval(secs => $5)),
candidates AS (
    SELECT h.tenant_id, h.id, h.run_at,
           (SELECT count(*) FROM jobs x WHERE x.tenant_id = h.tenant_id AND x.status = 'running' AND x.locked_until > now()
                                          AND x.locked_by NOT IN (SELECT id FROM gone_workers)) AS running,
           row_number() OVER (PARTITION BY h.tenant_id ORDER BY h.run_at, h.id) AS rn
    FROM ready_tenants r
    CROSS JOIN LATERAL (
        SELECT j.tenant_id, j.id, j.run_at FROM jobs j
        WHERE j.tenant_id = r.tenant_id AND j.status = 'queued' AND j.run_at <= now()
        ORDER BY j.run_at, j.id
        LIMIT $2
        FOR UPDATE SKIP LOCKED
    ) h
    WHERE r.tenant_id IS NOT NULL
),
picked AS (
    SELECT tenant_id, id FROM candidates
    WHERE running + rn <= $2
    ORDER BY running + rn, run_at, id
    LIMIT $1
)
UPDATE jobs j
SET status = 'running', attempts = j.attempts + 1, locked_by = $3,
    locked_until = now() + make_interval(secs => $4), started_at = now(), updated_at = now()
FROM picked p
WHERE j.tenant_id = p.tenant_id AND j.id = p.id
RETURNING j.tenant_id, j.id, j.kind, j.payload, j.attempts, j.max_attempts, j.credits, j.sample";

pub async fn claim(
    conn: &mut AsyncPgConnection,
    limit: i64,
    per_tenant_cap: i64,
    worker: &str,
    lease: Duration,
) -> AppResult<Vec<ClaimedJob>> {
    Ok(diesel::sql_query(CLAIM_SQL)
        .bind::<BigInt, _>(limit)
        .bind::<BigInt, _>(per_tenant_cap)
        .bind::<Text, _>(worker)
        .bind::<diesel::sql_types::Double, _>(lease.as_secs_f64())
        .bind::<diesel::sql_types::Double, _>(super::heartbeat::STALE.as_secs_f64())
        .load(conn)
        .await?)
}

/// Extends the lease of the jobs this worker still runs.
pub async fn renew(conn: &mut AsyncPgConnection, worker: &str, ids: &[(i64, i64)], lease: Duration) -> AppResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    let until = Utc::now() + chrono::Duration::from_std(lease).unwrap_or_default();
    let job_ids: Vec<i64> = ids.iter().map(|(_, id)| *id).collect();
    Ok(diesel::update(jobs::table)
        .filter(jobs::id.eq_any(job_ids))
        .filter(jobs::status.eq(JobStatus::Running))
        .filter(jobs::locked_by.eq(worker))
        .set(jobs::locked_until.eq(until))
        .execute(conn)
        .await?)
}

/// What a handler hands back on success: a result to store, and effects to write in the same transaction
/// as the completion (so they happen once, and never for a job whose lease was lost).
pub struct Completion {
    pub result: serde_json::Value,
    pub effects: Option<Effects>,
    /// The final price, when below the reservation (the difference is returned); None = as reserved.
    pub actual_credits: Option<i64>,
}

pub type Effects =
    Box<dyn for<'c> FnOnce(&'c mut AsyncPgConnection) -> std::pin::Pin<Box<dyn Future<Output = AppResult<()>> + Send + 'c>> + Send>;

impl Completion {
    pub fn result(result: serde_json::Value) -> Self {
        Completion { result, effects: None, actual_credits: None }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum JobError {
    /// Worth another attempt (timeouts, 429, 5xx); `after` honours a Retry-After.
    Retry { message: String, after: Option<Duration> },
    /// Will not get better by retrying (invalid input, truncated or unusable AI output).
    Fatal(String),
    /// Not a failure: the job waits (the app's own per-model rate limit held the call back) and runs again
    /// after `after`, without spending an attempt.
    Defer { message: String, after: Duration },
}

/// Trouble reaching Postgres or Redis inside a handler is worth another attempt. The message keeps the
/// cause: an internal error's Display hides it from users, but the job's `last_error` is for operators.
impl From<AppError> for JobError {
    fn from(e: AppError) -> Self {
        JobError::retry(match e {
            AppError::Internal(inner) => format!("{inner:#}"),
            other => other.to_string(),
        })
    }
}

impl From<diesel::result::Error> for JobError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::from(e).into()
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for JobError {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        AppError::from(e).into()
    }
}

impl ClaimedJob {
    /// True when this failure ends the job (fatal, or the last attempt).
    pub fn is_final(&self, e: &JobError) -> bool {
        match e {
            JobError::Fatal(_) => true,
            JobError::Retry { .. } => self.attempts >= self.max_attempts,
            JobError::Defer { .. } => false,
        }
    }
}

impl JobError {
    pub fn retry(message: impl Into<String>) -> Self {
        JobError::Retry { message: message.into(), after: None }
    }
    pub fn message(&self) -> &str {
        match self {
            JobError::Retry { message, .. } | JobError::Fatal(message) | JobError::Defer { message, .. } => message,
        }
    }
}

/// Marks the job succeeded, writes its effects and settles its credits — all or nothing.
/// Returns false when the lease was lost (someone else owns the job now): nothing is written.
pub async fn complete(pool: &DbPool, job: &ClaimedJob, worker: &str, done: Completion) -> AppResult<bool> {
    let mut conn = pool.get().await?;
    if done.effects.is_none() {
        return complete_plain(&mut conn, job, worker, done).await;
    }
    let (tenant_id, id, reserved, kind) = (job.tenant_id, job.id, job.credits, job.kind.clone());
    let worker = worker.to_string();
    let result = conn
        .transaction::<_, AppError, _>(async move |conn| {
            // The ledger entry goes first: it locks the tenant row (lock order: tenant, then job).
            // If the fence below fails, the whole transaction — entry included — rolls back.
            if reserved > 0 {
                let returned = done.actual_credits.map(|c| (reserved - c).max(0)).unwrap_or(0);
                ledger::post_for_job_in_tx(conn, tenant_id, returned, SETTLE, id, &kind).await?;
            } else {
                // Free jobs' effects may queue paid work (an image-prompts job queues the images): their rows'
                // foreign keys would share-lock the tenant first and the reservation then ask for the exclusive
                // lock — two such completions deadlock. Taking the tenant lock first keeps the one order.
                ledger::lock_and_check(conn, tenant_id, 0).await?;
            }
            let n = diesel::update(fence(tenant_id, id, &worker))
                .set((
                    jobs::status.eq(JobStatus::Succeeded),
                    jobs::result.eq(&done.result),
                    jobs::finished_at.eq(diesel::dsl::now),
                    jobs::updated_at.eq(diesel::dsl::now),
                    jobs::locked_until.eq(None::<DateTime<Utc>>),
                    jobs::last_error.eq(None::<String>),
                ))
                .execute(conn)
                .await?;
            if n == 0 {
                return Err(AppError::Conflict(LEASE_LOST.into()));
            }
            if let Some(effects) = done.effects {
                effects(conn).await?;
            }
            Ok(())
        })
        .await;
    fenced(result)
}

/// The job as long as this worker still holds it: the filter every state change of a running job goes through.
type Fence = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Filter<diesel::dsl::Filter<jobs::table, diesel::dsl::Eq<jobs::tenant_id, i64>>, diesel::dsl::Eq<jobs::id, i64>>,
        diesel::dsl::Eq<jobs::status, JobStatus>,
    >,
    diesel::dsl::Eq<jobs::locked_by, String>,
>;

fn fence(tenant_id: i64, id: i64, worker: &str) -> Fence {
    jobs::table
        .filter(jobs::tenant_id.eq(tenant_id))
        .filter(jobs::id.eq(id))
        .filter(jobs::status.eq(JobStatus::Running))
        .filter(jobs::locked_by.eq(worker.to_string()))
}

/// The common case — no effects to write — as one statement (one round trip, one implicit
/// transaction): lock the tenant when there is a reservation, fence and finish the job, and post the
/// settlement only if the fence held.
const COMPLETE_SQL: &str = "
WITH t AS (SELECT credits_balance FROM tenants WHERE id = $1 AND $5 > 0 FOR UPDATE),
j AS (
    UPDATE jobs SET status = 'succeeded', result = $4, finished_at = now(), updated_at = now(),
                    locked_until = NULL, last_error = NULL
    WHERE tenant_id = $1 AND id = $2 AND status = 'running' AND locked_by = $3
    RETURNING id
),
ins AS (
    INSERT INTO credit_ledger (tenant_id, delta, reason, reference, balance_after, action)
    SELECT $1, $6, $7, $8, t.credits_balance + $6, $9 FROM t, j
    ON CONFLICT (tenant_id, reason, reference) DO NOTHING
    RETURNING balance_after
),
upd AS (UPDATE tenants SET credits_balance = ins.balance_after, updated_at = now() FROM ins WHERE tenants.id = $1 RETURNING 1)
SELECT (SELECT count(*) FROM j) AS done, (SELECT count(*) FROM upd) AS posted";

#[derive(QueryableByName)]
struct CompleteRow {
    #[diesel(sql_type = BigInt)]
    done: i64,
    #[diesel(sql_type = BigInt)]
    #[allow(dead_code)]
    posted: i64,
}

async fn complete_plain(conn: &mut AsyncPgConnection, job: &ClaimedJob, worker: &str, done: Completion) -> AppResult<bool> {
    let returned = done.actual_credits.map(|c| (job.credits - c).max(0)).unwrap_or(0);
    let row: CompleteRow = diesel::sql_query(COMPLETE_SQL)
        .bind::<BigInt, _>(job.tenant_id)
        .bind::<BigInt, _>(job.id)
        .bind::<Text, _>(worker)
        .bind::<Jsonb, _>(&done.result)
        .bind::<BigInt, _>(job.credits)
        .bind::<BigInt, _>(returned)
        .bind::<Text, _>(SETTLE)
        .bind::<Text, _>(job_ref(job.id))
        .bind::<Text, _>(&job.kind)
        .get_result(conn)
        .await?;
    Ok(row.done == 1)
}

const LEASE_LOST: &str = "lease lost";

/// A fenced transaction's outcome: true when it ran, false when the fence found the lease gone.
fn fenced(result: AppResult<()>) -> AppResult<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(AppError::Conflict(m)) if m == LEASE_LOST => Ok(false),
        Err(e) => Err(e),
    }
}

/// Capped exponential backoff with jitter: base × 2^attempt (at most 10 minutes), ±25 %.
pub fn backoff(attempt: i32, base: Duration) -> Duration {
    let secs = (base.as_secs_f64() * 2f64.powi(attempt.clamp(0, 20))).min(600.0);
    Duration::from_secs_f64(secs * (1.0 + jitter(0.25)))
}

/// A random share in ±`spread`.
fn jitter(spread: f64) -> f64 {
    let mut b = [0u8; 2];
    getrandom::fill(&mut b).ok();
    (u16::from_le_bytes(b) as f64 / u16::MAX as f64) * 2.0 * spread - spread
}

/// Ends a job for good inside the caller's transaction (which has locked the tenant): final status, the
/// refund of its reservation, and its kind's hook returning the subject to a state the user can act on.
/// With `worker_guard`, the job must still be running under that worker; false when the row no longer matches
/// (nothing written).
async fn end_in_tx(
    conn: &mut AsyncPgConnection,
    registry: &Registry,
    row: &EndingJob,
    status: JobStatus,
    reason: &str,
    worker_guard: Option<&str>,
) -> AppResult<bool> {
    let message: String = reason.chars().take(2000).collect();
    let values = (
        jobs::status.eq(status),
        jobs::last_error.eq(&message),
        jobs::finished_at.eq(diesel::dsl::now),
        jobs::updated_at.eq(diesel::dsl::now),
        jobs::locked_until.eq(None::<DateTime<Utc>>),
    );
    let n = match worker_guard {
        Some(worker) => diesel::update(fence(row.tenant_id, row.id, worker)).set(values).execute(conn).await?,
        None => {
            let open = jobs::table
                .filter(jobs::tenant_id.eq(row.tenant_id))
                .filter(jobs::id.eq(row.id))
                .filter(jobs::status.eq_any(JobStatus::OPEN));
            diesel::update(open).set(values).execute(conn).await?
        }
    };
    if n == 0 {
        return Ok(false);
    }
    if row.credits > 0 {
        ledger::post_for_job_in_tx(conn, row.tenant_id, row.credits, REFUND, row.id, &row.kind).await?;
    }
    let ended = Ended { tenant_id: row.tenant_id, job_id: row.id, status, reason: &message };
    registry.on_final_failure(conn, &row.kind, &row.payload, &ended).await?;
    Ok(true)
}

/// What ending a job needs to know of it.
#[derive(Debug, Clone, Queryable)]
struct EndingJob {
    tenant_id: i64,
    id: i64,
    kind: String,
    payload: serde_json::Value,
    credits: i64,
}

impl From<&ClaimedJob> for EndingJob {
    fn from(j: &ClaimedJob) -> Self {
        EndingJob { tenant_id: j.tenant_id, id: j.id, kind: j.kind.clone(), payload: j.payload.clone(), credits: j.credits }
    }
}

/// Records a failed attempt: back to the queue with backoff (or, deferred, without spending the attempt), or —
/// out of attempts or fatal — `dead` / `failed` with the credits refunded and the kind's failure hook run, in one
/// transaction. Fenced like `complete`; returns false when the lease was lost.
pub async fn fail(
    pool: &DbPool,
    registry: &Registry,
    job: &ClaimedJob,
    worker: &str,
    err: &JobError,
    backoff_base: Duration,
) -> AppResult<bool> {
    let mut conn = pool.get().await?;
    let final_status = match err {
        JobError::Fatal(_) => Some(JobStatus::Failed),
        JobError::Retry { .. } if job.attempts >= job.max_attempts => Some(JobStatus::Dead),
        JobError::Retry { .. } | JobError::Defer { .. } => None,
    };
    let message: String = err.message().chars().take(2000).collect();
    if let Some(status) = final_status {
        let row = EndingJob::from(job);
        let worker = worker.to_string();
        let result = conn
            .transaction::<_, AppError, _>(async move |conn| {
                ledger::lock_and_check(conn, row.tenant_id, 0).await?; // lock order: tenant, then job
                if end_in_tx(conn, registry, &row, status, &message, Some(&worker)).await? {
                    Ok(())
                } else {
                    Err(AppError::Conflict(LEASE_LOST.into()))
                }
            })
            .await;
        return fenced(result);
    }
    let (delay, spent) = match err {
        // A Retry-After from the provider wins over our own backoff when it asks for longer.
        JobError::Retry { after: Some(a), .. } => ((*a).max(backoff(job.attempts, backoff_base)), 0),
        JobError::Retry { .. } => (backoff(job.attempts, backoff_base), 0),
        // Spread the waiting jobs over a tenth of the wait, so they do not all knock at once.
        JobError::Defer { after, .. } => (after.mul_f64(1.0 + jitter(0.1).abs()), 1),
        JobError::Fatal(_) => unreachable!("fatal errors end the job above"),
    };
    let run_at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
    let n = diesel::update(fence(job.tenant_id, job.id, worker))
        .set((
            jobs::status.eq(JobStatus::Queued),
            jobs::attempts.eq(jobs::attempts - spent),
            jobs::last_error.eq(&message),
            jobs::run_at.eq(run_at),
            jobs::updated_at.eq(diesel::dsl::now),
            jobs::locked_until.eq(None::<DateTime<Utc>>),
            jobs::locked_by.eq(None::<String>),
        ))
        .execute(&mut conn)
        .await?;
    Ok(n > 0)
}

/// Cancels a queued or running job of the tenant, refunds it and returns its subject to a usable state. A
/// running job's worker then finds its fence gone and writes nothing. Finished jobs answer 409.
pub async fn cancel(pool: &DbPool, registry: &Registry, who: &Who, job_id: i64) -> AppResult<()> {
    let mut conn = pool.get().await?;
    let tenant_id = who.tenant_id;
    let who = who.clone();
    conn.transaction::<_, AppError, _>(async move |conn| {
        ledger::lock_and_check(conn, tenant_id, 0).await?; // lock order: tenant, then job
        let (status, row): (JobStatus, EndingJob) = jobs::table
            .filter(jobs::tenant_id.eq(tenant_id))
            .filter(jobs::id.eq(job_id))
            .select((jobs::status, (jobs::tenant_id, jobs::id, jobs::kind, jobs::payload, jobs::credits)))
            .for_update()
            .first(conn)
            .await?;
        if !status.is_open() {
            return Err(AppError::Conflict(format!("This job is already {status} and cannot be cancelled")));
        }
        end_in_tx(conn, registry, &row, JobStatus::Cancelled, &format!("cancelled by {}", who.label), None).await?;
        audit::record(conn, &who, "job.cancelled", ("job", job_id.to_string()), serde_json::json!({ "refunded": row.credits })).await
    })
    .await
}

/// Takes back running jobs whose worker is gone — its lease ran out, or its process stopped beating (killed,
/// its machine lost; a worker that never beat, e.g. of an older version during an upgrade, keeps its lease): back
/// to the queue, or, on their last attempt, `dead` with a refund and their kind's failure hook. Safe to run from
/// every worker at once.
pub async fn reap(pool: &DbPool, registry: &Registry) -> AppResult<usize> {
    let mut conn = pool.get().await?;
    let stale = super::heartbeat::STALE.as_secs_f64();
    // Requeue first (one statement); the attempt that was cut short counts.
    let requeued = diesel::sql_query(
        "UPDATE jobs SET status = 'queued', locked_by = NULL, locked_until = NULL, run_at = now(), updated_at = now(),
                last_error = 'the worker stopped before finishing; retried'
         WHERE status = 'running' AND attempts < max_attempts
           AND (locked_until < now()
                OR locked_by IN (SELECT id FROM job_workers WHERE beat_at <= now() - make_interval(secs => $1)))",
    )
    .bind::<diesel::sql_types::Double, _>(stale)
    .execute(&mut conn)
    .await?;
    let exhausted: Vec<EndingJob> = diesel::sql_query(
        "SELECT tenant_id, id, kind, payload, credits FROM jobs
         WHERE status = 'running'
           AND (locked_until < now()
                OR locked_by IN (SELECT id FROM job_workers WHERE beat_at <= now() - make_interval(secs => $1)))
         LIMIT 500",
    )
    .bind::<diesel::sql_types::Double, _>(stale)
    .load::<EndingRow>(&mut conn)
    .await?
    .into_iter()
    .map(|r| EndingJob { tenant_id: r.tenant_id, id: r.id, kind: r.kind, payload: r.payload, credits: r.credits })
    .collect();
    let mut ended = 0;
    for row in &exhausted {
        let done = conn
            .transaction::<_, AppError, _>(async |conn| {
                ledger::lock_and_check(conn, row.tenant_id, 0).await?; // lock order: tenant, then job
                // Still running and still orphaned (another reaper may have been first).
                let still: i64 = jobs::table
                    .filter(jobs::tenant_id.eq(row.tenant_id))
                    .filter(jobs::id.eq(row.id))
                    .filter(jobs::status.eq(JobStatus::Running))
                    .count()
                    .get_result(conn)
                    .await?;
                if still == 0 {
                    return Ok(false);
                }
                end_in_tx(conn, registry, row, JobStatus::Dead, "the worker stopped before finishing, on the last attempt", None).await
            })
            .await?;
        ended += done as usize;
    }
    Ok(requeued + ended)
}

#[derive(QueryableByName)]
struct EndingRow {
    #[diesel(sql_type = BigInt)]
    tenant_id: i64,
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Jsonb)]
    payload: serde_json::Value,
    #[diesel(sql_type = BigInt)]
    credits: i64,
}

/// Puts this worker's unfinished jobs back in the queue at shutdown (the attempt does not count).
pub async fn release(pool: &DbPool, worker: &str) -> AppResult<usize> {
    let mut conn = pool.get().await?;
    Ok(diesel::update(jobs::table)
        .filter(jobs::status.eq(JobStatus::Running))
        .filter(jobs::locked_by.eq(worker))
        .set((
            jobs::status.eq(JobStatus::Queued),
            jobs::attempts.eq(jobs::attempts - 1),
            jobs::locked_by.eq(None::<String>),
            jobs::locked_until.eq(None::<DateTime<Utc>>),
            jobs::last_error.eq("released at shutdown"),
            jobs::updated_at.eq(diesel::dsl::now),
        ))
        .execute(&mut conn)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let base = Duration::from_secs(1);
        let b1 = backoff(1, base).as_secs_f64();
        assert!((1.5..=2.5).contains(&b1), "{b1}");
        let b5 = backoff(5, base).as_secs_f64();
        assert!((24.0..=40.0).contains(&b5), "{b5}");
        assert!(backoff(30, base).as_secs_f64() <= 750.0);
        let samples: std::collections::HashSet<u64> = (0..20).map(|_| backoff(3, base).as_millis() as u64).collect();
        assert!(samples.len() > 1, "jitter varies the delay");
    }
}
