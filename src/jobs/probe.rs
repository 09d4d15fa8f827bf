//! `system.probe`: the worker self-check behind the System page's "Run a test job" button. It records an
//! audit event in the completion transaction, so an operator (and the queue's tests) can see it ran once.
//! Its fields let an operator rehearse failure handling: `fail_attempts` (fail that many attempts), `fatal`
//! (fail for good), `sleep_ms`, `hang_attempts` (sleep for an hour on those attempts) and `defer_attempts`
//! (be held back, as by a rate limit, on those attempts).

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::kind::Job;
use super::queue::{ClaimedJob, Completion, JobError};
use crate::audit::{self, Who};
use crate::state::AppState;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Probe {
    pub fail_attempts: i64,
    pub fatal: bool,
    pub sleep_ms: u64,
    pub hang_attempts: i64,
    pub defer_attempts: i64,
}

pub const PROBE: &str = "system.probe";

impl Job for Probe {
    const KIND: &'static str = PROBE;
    const MAX_ATTEMPTS: i32 = 5;

    async fn run(self, _state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
        let attempt = job.attempts as i64;
        if self.hang_attempts >= attempt {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        if self.sleep_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.sleep_ms)).await;
        }
        if self.fatal {
            return Err(JobError::Fatal("probe asked to fail for good".into()));
        }
        if self.defer_attempts >= attempt {
            return Err(JobError::Defer { message: "probe asked to wait".into(), after: Duration::from_millis(20) });
        }
        if self.fail_attempts >= attempt {
            return Err(JobError::retry(format!("probe asked to fail attempt {attempt}")));
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
}
