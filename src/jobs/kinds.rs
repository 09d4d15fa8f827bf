//! Job kinds: the name stored in `jobs.kind` → the handler that runs it. Modules add their kinds here.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;

use crate::app::AppState;
use crate::audit::{self, Who};
use crate::jobs::queue::{ClaimedJob, Completion, JobError};

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Completion, JobError>> + Send>>;
pub type Handler = Arc<dyn Fn(Arc<AppState>, ClaimedJob) -> HandlerFuture + Send + Sync>;

pub struct Registry {
    handlers: HashMap<&'static str, Handler>,
}

impl Registry {
    pub fn get(&self, kind: &str) -> Option<&Handler> {
        self.handlers.get(kind)
    }
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k: Vec<_> = self.handlers.keys().copied().collect();
        k.sort();
        k
    }
}

pub const PROBE: &str = "system.probe";

/// Every job kind of the app.
pub fn registry() -> Registry {
    let mut handlers: HashMap<&'static str, Handler> = HashMap::new();
    handlers.insert(PROBE, Arc::new(|state, job| probe(state, job).boxed()));
    handlers.insert(crate::ai::jobs::PROMPT, Arc::new(|state, job| crate::ai::jobs::prompt(state, job).boxed()));
    handlers.insert(crate::ai::jobs::IMAGE_TEST, Arc::new(|state, job| crate::ai::jobs::image_test(state, job).boxed()));
    crate::modules::planner::register_jobs(&mut handlers);
    crate::modules::writer::register_jobs(&mut handlers);
    crate::modules::publish::register_jobs(&mut handlers);
    Registry { handlers }
}

/// `system.probe`: the worker self-check behind the System page's "Run a test job" button. It records an
/// audit event in the completion transaction, so an operator (and the queue's tests) can see it ran once.
/// Payload knobs let an operator rehearse failure handling: `fail_attempts` (fail that many attempts),
/// `fatal` (fail for good), `sleep_ms` and `hang_attempts` (sleep for an hour on those attempts).
async fn probe(_state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
    let p = &job.payload;
    let n = |k: &str| p.get(k).and_then(|v| v.as_i64()).unwrap_or(0);
    if n("hang_attempts") >= job.attempts as i64 {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if n("sleep_ms") > 0 {
        tokio::time::sleep(Duration::from_millis(n("sleep_ms") as u64)).await;
    }
    if p.get("fatal").and_then(|v| v.as_bool()).unwrap_or(false) {
        return Err(JobError::Fatal("probe asked to fail for good".into()));
    }
    if n("fail_attempts") >= job.attempts as i64 {
        return Err(JobError::retry(format!("probe asked to fail attempt {}", job.attempts)));
    }
    let (tenant_id, id, attempts) = (job.tenant_id, job.id, job.attempts);
    Ok(Completion {
        result: serde_json::json!({ "ok": true, "attempts": attempts }),
        effects: Some(Box::new(move |conn| {
            Box::pin(async move {
                let who = Who { tenant_id, user_id: None, label: "worker".into(), ip: None };
                audit::record(conn, &who, "job.probe_ran", ("job", id.to_string()), serde_json::json!({ "attempt": attempts })).await
            })
        })),
        actual_credits: None,
    })
}
