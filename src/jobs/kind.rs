//! Typed jobs. Each kind is a payload struct (serde) implementing [`Job`]: its kind name, the row it is about
//! (its subject, stored in its own column so "is there open work for this task?" is one indexed query), what
//! it does, and what happens to the subject when the job ends in failure — whatever the cause: a fatal error,
//! the last retry, a crash on the last attempt found by the reaper, or a cancellation. The hook runs in the
//! same transaction as the job's final status, so the two never disagree.
//!
//! The queue knows no module: kinds are registered in one place where the app is assembled (`app::job_kinds`).

use std::collections::HashMap;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use diesel_async::AsyncPgConnection;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::queue::{ClaimedJob, Completion, JobError, NewJob};
use crate::error::AppResult;
use crate::state::AppState;

crate::text_enum! {
    /// A job's life: queued → running → succeeded, or back to queued (retry, deferral), or failed (fatal),
    /// dead (out of attempts) or cancelled.
    pub enum JobStatus {
        Queued = "queued",
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
        Dead = "dead",
        Cancelled = "cancelled",
    }
}

impl JobStatus {
    /// Queued or running: work that may still happen.
    pub const OPEN: [JobStatus; 2] = [JobStatus::Queued, JobStatus::Running];

    pub fn is_open(self) -> bool {
        matches!(self, JobStatus::Queued | JobStatus::Running)
    }
}

crate::text_enum! {
    /// What kind of row a job is about.
    pub enum SubjectKind {
        Task = "task",
        Image = "image",
        Import = "import",
        Cluster = "cluster",
        Site = "site",
    }
}

/// The row a job is about: a task, an image, an import, a cluster, a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject {
    pub kind: SubjectKind,
    pub id: i64,
}

impl Subject {
    pub fn task(id: i64) -> Self {
        Subject { kind: SubjectKind::Task, id }
    }
    pub fn image(id: i64) -> Self {
        Subject { kind: SubjectKind::Image, id }
    }
    pub fn import(id: i64) -> Self {
        Subject { kind: SubjectKind::Import, id }
    }
    pub fn cluster(id: i64) -> Self {
        Subject { kind: SubjectKind::Cluster, id }
    }
    pub fn site(id: i64) -> Self {
        Subject { kind: SubjectKind::Site, id }
    }
}

/// How a job ended, for its failure hook.
#[derive(Debug, Clone)]
pub struct Ended<'a> {
    pub tenant_id: i64,
    pub job_id: i64,
    /// Failed, dead or cancelled.
    pub status: JobStatus,
    /// Why, in words a user can act on.
    pub reason: &'a str,
}

/// One kind of job. The payload struct is what is stored in `jobs.payload`.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The name stored in `jobs.kind`, e.g. `writer.generate`.
    const KIND: &'static str;
    /// Attempts before the job is dead.
    const MAX_ATTEMPTS: i32 = 3;

    /// The row this job is about, if any.
    fn subject(&self) -> Option<Subject> {
        None
    }

    /// Does the work; effects to write with the completion go in the returned [`Completion`].
    fn run(self, state: Arc<AppState>, job: ClaimedJob) -> impl Future<Output = Result<Completion, JobError>> + Send;

    /// Returns the subject to a state the user can act on. Runs inside the transaction that ends the job.
    fn on_final_failure(&self, conn: &mut AsyncPgConnection, ended: &Ended<'_>) -> impl Future<Output = AppResult<()>> + Send {
        let _ = (conn, ended);
        async { Ok(()) }
    }

    /// This payload as a job of the tenant, free, with the kind's attempts; set credits and `created_by` on it.
    fn new_job(&self, tenant_id: i64) -> NewJob {
        NewJob {
            tenant_id,
            kind: Self::KIND.to_string(),
            payload: serde_json::to_value(self).expect("a job payload serialises"),
            subject: self.subject(),
            credits: 0,
            sample: false,
            max_attempts: Self::MAX_ATTEMPTS,
            idempotency_key: None,
            created_by: String::new(),
        }
    }
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A kind with its payload type erased, as the registry keeps it.
trait ErasedKind: Send + Sync {
    fn run(&self, state: Arc<AppState>, job: ClaimedJob) -> BoxFuture<'static, Result<Completion, JobError>>;
    fn on_final_failure<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        payload: &'a serde_json::Value,
        ended: &'a Ended<'a>,
    ) -> BoxFuture<'a, AppResult<()>>;
}

struct Kind<J>(PhantomData<fn() -> J>);

impl<J: Job> ErasedKind for Kind<J> {
    fn run(&self, state: Arc<AppState>, job: ClaimedJob) -> BoxFuture<'static, Result<Completion, JobError>> {
        Box::pin(async move {
            let payload: J = serde_json::from_value(job.payload.clone())
                .map_err(|e| JobError::Fatal(format!("the job's payload is not a {}: {e}", J::KIND)))?;
            let priced = job.clone();
            super::queue::run_priced(&priced, payload.run(state, job)).await
        })
    }

    fn on_final_failure<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        payload: &'a serde_json::Value,
        ended: &'a Ended<'a>,
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            match serde_json::from_value::<J>(payload.clone()) {
                Ok(p) => p.on_final_failure(conn, ended).await,
                // Nothing to return to a usable state if the payload names nothing readable.
                Err(_) => Ok(()),
            }
        })
    }
}

/// Every job kind of the app, by name.
#[derive(Default, Clone)]
pub struct Registry {
    kinds: HashMap<&'static str, Arc<dyn ErasedKind>>,
}

impl Registry {
    pub fn add<J: Job>(&mut self) -> &mut Self {
        let previous = self.kinds.insert(J::KIND, Arc::new(Kind::<J>(PhantomData)));
        assert!(previous.is_none(), "job kind {} registered twice", J::KIND);
        self
    }

    pub fn knows(&self, kind: &str) -> bool {
        self.kinds.contains_key(kind)
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k: Vec<_> = self.kinds.keys().copied().collect();
        k.sort();
        k
    }

    /// Runs a claimed job with its kind's handler; an unknown kind fails for good.
    pub fn run(&self, state: Arc<AppState>, job: ClaimedJob) -> BoxFuture<'static, Result<Completion, JobError>> {
        match self.kinds.get(job.kind.as_str()) {
            Some(k) => k.run(state, job),
            None => {
                let kind = job.kind.clone();
                Box::pin(async move { Err(JobError::Fatal(format!("no handler for job kind '{kind}'"))) })
            }
        }
    }

    /// The kind's failure hook, inside the caller's transaction.
    pub async fn on_final_failure(
        &self,
        conn: &mut AsyncPgConnection,
        kind: &str,
        payload: &serde_json::Value,
        ended: &Ended<'_>,
    ) -> AppResult<()> {
        match self.kinds.get(kind) {
            Some(k) => k.on_final_failure(conn, payload, ended).await,
            None => Ok(()),
        }
    }
}
