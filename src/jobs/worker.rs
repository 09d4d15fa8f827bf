//! The in-process worker pool. One dispatcher per process claims jobs in fair batches up to the
//! configured concurrency, runs each handler as a task (in a tracing span with the job's id, kind and tenant),
//! renews the leases of running jobs, takes back the jobs of workers that are gone (`queue::reap`, every
//! second and at start), and sleeps until a Redis wake-up or the poll interval. Without Redis it simply polls.
//! A heartbeat task says the process is alive (`heartbeat`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use deadpool_redis::redis::AsyncCommands;
use tokio::sync::{Notify, watch};
use tokio::task::{JoinHandle, JoinSet};
use tracing::Instrument;

use super::heartbeat;
use super::kind::Registry;
use super::queue::{self, ClaimedJob, JobError};
use crate::crypto::secrets::random_token;
use crate::kv;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Jobs run at once by this process.
    pub concurrency: usize,
    /// Jobs of one tenant running at once (across all processes).
    pub per_tenant_cap: i64,
    pub lease: Duration,
    pub poll: Duration,
    pub backoff_base: Duration,
}

impl WorkerConfig {
    pub fn from_config(c: &crate::config::Config) -> Self {
        WorkerConfig {
            concurrency: c.workers as usize,
            per_tenant_cap: c.jobs_per_tenant as i64,
            lease: Duration::from_secs(c.job_lease_secs as u64),
            poll: Duration::from_millis(c.job_poll_ms as u64),
            backoff_base: Duration::from_millis(c.job_backoff_ms as u64),
        }
    }
}

pub struct Workers {
    pub id: String,
    stop: watch::Sender<bool>,
    dispatcher: JoinHandle<()>,
    waiter: JoinHandle<()>,
    beat: JoinHandle<()>,
}

fn wake_key(state: &AppState) -> String {
    kv::key(&state.config.redis_namespace, "jobs", "wake")
}

/// Tells idle workers (in every process) that work is waiting. Call after the enqueuing transaction
/// commits. Best effort: without Redis the workers find the job at their next poll.
pub async fn wake(state: &AppState) {
    let key = wake_key(state);
    let res = state.redis.bounded(async {
        let mut conn = state.redis.get().await.map_err(|e| e.to_string())?;
        deadpool_redis::redis::pipe().lpush(&key, 1).ltrim(&key, 0, 63).query_async::<()>(&mut conn).await.map_err(|e| e.to_string())
    });
    if let Err(e) = res.await {
        tracing::debug!(error = %e, "job wake-up not sent (Redis); workers will poll");
    }
}

/// Names this process's workers: host, process id and a random part (a restarted process is a new worker).
fn worker_id() -> (String, String) {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
    (format!("{host}:{}:{}", std::process::id(), random_token(4)), host)
}

/// Starts the workers: registers the heartbeat first (so the first claims are never mistaken for a dead
/// worker's), then the dispatcher. Fails only when Postgres cannot be reached.
pub async fn start(state: Arc<AppState>, cfg: WorkerConfig) -> anyhow::Result<Workers> {
    let registry = state.jobs.clone();
    let (id, host) = worker_id();
    {
        let mut conn = state.db.get().await?;
        heartbeat::register(&mut conn, &id, &host).await?;
    }
    let beat = tokio::spawn(heartbeat::run(state.config.database_url.clone(), id.clone(), host));
    let (stop, stop_rx) = watch::channel(false);
    let notify = Arc::new(Notify::new());
    let waiter = tokio::spawn(wait_for_wakeups(state.clone(), notify.clone(), cfg.poll));
    let dispatcher = tokio::spawn(dispatch(state, registry, cfg, id.clone(), notify, stop_rx));
    Ok(Workers { id, stop, dispatcher, waiter, beat })
}

impl Workers {
    /// Stops claiming, lets running jobs finish within `grace`, then returns the rest to the queue.
    pub async fn shutdown(self, state: &AppState, grace: Duration) {
        let _ = self.stop.send(true);
        self.waiter.abort();
        let mut dispatcher = self.dispatcher;
        if tokio::time::timeout(grace, &mut dispatcher).await.is_err() {
            dispatcher.abort();
        }
        match queue::release(&state.db, &self.id).await {
            Ok(n) if n > 0 => tracing::info!(released = n, "unfinished jobs returned to the queue"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not release jobs at shutdown; they are taken back once this worker stops beating"),
        }
        self.beat.abort();
        if let Ok(mut conn) = state.db.get().await
            && let Err(e) = heartbeat::leave(&mut conn, &self.id).await
        {
            tracing::warn!(error = %e, "could not remove the worker's heartbeat row");
        }
    }

    /// Stops at once without releasing anything — what a crash looks like to the queue.
    pub fn kill(self) {
        self.waiter.abort();
        self.dispatcher.abort();
        self.beat.abort();
    }
}

/// Blocks on the Redis wake-up list and pokes the dispatcher. BRPOP gets a connection of its own, with no
/// client-side response timeout: a pooled connection would give up after the client's default 500 ms while
/// the server still blocks on it, and the next request to borrow that connection would wait behind it.
async fn wait_for_wakeups(state: Arc<AppState>, notify: Arc<Notify>, poll: Duration) {
    let key = wake_key(&state);
    let mut conn: Option<kv::redis::aio::MultiplexedConnection> = None;
    loop {
        if conn.is_none() {
            conn = blocking_connection(&state.config.redis_url, poll).await.ok();
        }
        let got = match conn.as_mut() {
            Some(c) => c.brpop::<_, Option<(String, String)>>(&key, poll.as_secs_f64().max(0.1)).await.map_err(|e| e.to_string()),
            None => Err("no Redis connection".to_string()),
        };
        match got {
            Ok(Some(_)) => notify.notify_one(),
            Ok(None) => {}
            Err(_) => {
                conn = None;
                tokio::time::sleep(poll).await;
            }
        }
    }
}

async fn blocking_connection(url: &str, poll: Duration) -> Result<kv::redis::aio::MultiplexedConnection, kv::redis::RedisError> {
    let cfg = kv::redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(poll + Duration::from_secs(2)));
    kv::redis::Client::open(url)?.get_multiplexed_async_connection_with_config(&cfg).await
}

async fn dispatch(
    state: Arc<AppState>,
    registry: Arc<Registry>,
    cfg: WorkerConfig,
    id: String,
    notify: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut tasks: JoinSet<(i64, i64)> = JoinSet::new();
    let mut running: HashMap<(i64, i64), ()> = HashMap::new();
    let mut renew_every = tokio::time::interval(cfg.lease / 3);
    // The first tick is at once: a restarted process takes back what its previous life held right away.
    let mut reap_every = tokio::time::interval(heartbeat::BEAT);
    loop {
        if *stop.borrow() {
            break;
        }
        let free = cfg.concurrency.saturating_sub(running.len());
        let mut claimed = 0;
        if free > 0 {
            match claim(&state, &cfg, &id, free).await {
                Ok(jobs) => {
                    claimed = jobs.len();
                    for job in jobs {
                        running.insert((job.tenant_id, job.id), ());
                        let span = tracing::info_span!("job", job_id = job.id, kind = %job.kind, tenant_id = job.tenant_id, attempt = job.attempts);
                        tasks.spawn(run_one(state.clone(), registry.clone(), cfg.clone(), id.clone(), job).instrument(span));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "claiming jobs failed; retrying"),
            }
        }
        if claimed > 0 && running.len() < cfg.concurrency {
            continue; // there may be more ready work
        }
        tokio::select! {
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                if let Ok(key) = done { running.remove(&key); }
                while let Some(done) = tasks.try_join_next() {
                    if let Ok(key) = done { running.remove(&key); }
                }
            }
            _ = notify.notified(), if running.len() < cfg.concurrency => {}
            _ = tokio::time::sleep(cfg.poll), if running.len() < cfg.concurrency => {}
            _ = renew_every.tick() => {
                let ids: Vec<(i64, i64)> = running.keys().copied().collect();
                if let Ok(mut conn) = state.db.get().await
                    && let Err(e) = queue::renew(&mut conn, &id, &ids, cfg.lease).await {
                        tracing::warn!(error = %e, "lease renewal failed");
                    }
            }
            _ = reap_every.tick() => {
                match queue::reap(&state.db, &registry).await {
                    Ok(n) if n > 0 => tracing::info!(count = n, "jobs of stopped workers taken back"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "reaping expired leases failed"),
                }
            }
            _ = stop.changed() => {}
        }
    }
    // Stopping: let the running jobs finish (the caller bounds this with its grace period).
    while let Some(done) = tasks.join_next().await {
        if let Ok(key) = done {
            running.remove(&key);
        }
    }
}

async fn claim(state: &AppState, cfg: &WorkerConfig, id: &str, free: usize) -> Result<Vec<ClaimedJob>, String> {
    let mut conn = state.db.get().await.map_err(|e| e.to_string())?;
    queue::claim(&mut conn, free as i64, cfg.per_tenant_cap, id, cfg.lease).await.map_err(|e| format!("{e:?}"))
}

async fn run_one(state: Arc<AppState>, registry: Arc<Registry>, cfg: WorkerConfig, worker: String, job: ClaimedJob) -> (i64, i64) {
    let key = (job.tenant_id, job.id);
    // A panicking handler is a failed attempt, not a dead worker.
    let outcome = match tokio::spawn(registry.run(state.clone(), job.clone()).in_current_span()).await {
        Ok(r) => r,
        Err(e) => Err(JobError::retry(format!("the handler crashed: {e}"))),
    };
    let recorded = match outcome {
        Ok(done) => match queue::complete(&state.db, &job, &worker, done).await {
            // The effects refused (the subject changed under the job, or is gone): the attempt ends with that
            // reason instead of waiting out its lease. A database error is left to the lease and the reaper.
            Err(refused) if refused.is_for_the_user() || matches!(refused, crate::error::AppError::NotFound) => {
                let err = JobError::Fatal(refused.summary());
                queue::fail(&state.db, &registry, &job, &worker, &err, cfg.backoff_base).await
            }
            recorded => recorded,
        },
        Err(err) => {
            match &err {
                JobError::Defer { message, .. } => tracing::debug!(reason = %message, "job deferred"),
                _ => tracing::info!(error = err.message(), "job attempt failed"),
            }
            queue::fail(&state.db, &registry, &job, &worker, &err, cfg.backoff_base).await
        }
    };
    match recorded {
        Ok(true) => {}
        Ok(false) => tracing::warn!("job lease was lost; its result was discarded"),
        Err(e) => tracing::error!(error = ?e, "could not record the job's outcome; it is taken back when its lease ends"),
    }
    key
}
