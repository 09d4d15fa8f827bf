//! Outgoing mail. A message is rendered (text + HTML, from `templates/mail/`) when it is asked for and sent by
//! the durable `mail.send` job, so an SMTP outage only delays it: the queue retries with its backoff. The
//! rendered body is sealed with the vault in the job's payload, since it can carry one-time links.
//! With no SMTP configured (`IGNY8_SMTP_HOST` unset) nothing is queued and pages show links on screen instead.
//! Jobs belong to a workspace; mail for an account in none (it left or deleted them all) is sent at once instead
//! (`queue_for_account` holds it, `Held::send` sends it after commit).

pub mod job;
pub mod render;

use diesel_async::AsyncPgConnection;

pub use job::MailSend;
pub use render::Letter;

use crate::error::{AppError, AppResult};
use crate::jobs::Job;
use crate::state::AppState;

/// Is outgoing mail configured?
pub fn enabled(state: &AppState) -> bool {
    state.config.smtp.is_some()
}

/// Renders `letter` and queues it for `to`, inside the caller's transaction (so a rolled-back change sends
/// nothing). The job belongs to `tenant_id`. Returns the job id, or None when mail is not configured.
pub async fn queue(conn: &mut AsyncPgConnection, state: &AppState, tenant_id: i64, to: &str, letter: &Letter) -> AppResult<Option<i64>> {
    if !enabled(state) {
        return Ok(None);
    }
    let body = letter.render()?;
    let payload = MailSend {
        to: to.to_string(),
        subject: letter.subject.clone(),
        sealed: state.vault.seal(&serde_json::to_string(&body).map_err(AppError::internal)?),
    };
    let job = payload.new_job(tenant_id).by("mail");
    Ok(Some(crate::jobs::queue::enqueue_in_tx(conn, &job).await?))
}

/// Account mail that no workspace's queue could hold, to [`Held::send`] once the change that asked for it has
/// committed (its link is stored by then).
#[must_use]
#[derive(Default)]
pub struct Held(Option<(String, Letter)>);

/// Mail about a person's account: queued in their home workspace, or — when they belong to none — held.
pub async fn queue_for_account(
    conn: &mut AsyncPgConnection,
    state: &AppState,
    home: Option<i64>,
    to: &str,
    letter: Letter,
) -> AppResult<Held> {
    match home {
        Some(tenant_id) => queue(conn, state, tenant_id, to, &letter).await.map(|_| Held::default()),
        None => Ok(Held(Some((to.to_string(), letter)))),
    }
}

impl Held {
    /// Sends it from this replica in the background, retrying a temporary failure a few times. Not durable: a
    /// restart in the minute it takes loses it, and the person asks again.
    pub fn send(self, state: &AppState) -> AppResult<()> {
        let (Some((to, letter)), Some(cfg)) = (self.0, state.config.smtp.clone()) else { return Ok(()) };
        let body = letter.render()?;
        let subject = letter.subject;
        tokio::spawn(async move {
            for attempt in 0..4u32 {
                match job::deliver(&cfg, &to, &subject, body.clone()).await {
                    Ok(()) => return,
                    Err(crate::jobs::JobError::Fatal(e)) => return tracing::warn!(error = %e, "account mail refused"),
                    Err(e) => {
                        tracing::warn!(error = ?e, attempt, "account mail not sent yet");
                        tokio::time::sleep(std::time::Duration::from_secs(2u64.pow(attempt) * 5)).await;
                    }
                }
            }
        });
        Ok(())
    }
}
