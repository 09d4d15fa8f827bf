//! Outgoing mail. A message is rendered (text + HTML, from `templates/mail/`) when it is asked for and sent by
//! the durable `mail.send` job, so an SMTP outage only delays it: the queue retries with its backoff. The
//! rendered body is sealed with the vault in the job's payload, since it can carry one-time links.
//! With no SMTP configured (`IGNY8_SMTP_HOST` unset) nothing is queued and pages show links on screen instead.

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
