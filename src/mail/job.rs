//! `mail.send`: delivers one rendered message over SMTP. A connection failure or a temporary SMTP answer
//! (4xx) is retried with the queue's backoff; a permanent refusal (5xx, a malformed address) fails for good.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use super::render::Body;
use crate::config::{SmtpConfig, SmtpTls};
use crate::jobs::{ClaimedJob, Completion, Job, JobError};
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MailSend {
    pub to: String,
    pub subject: String,
    /// The rendered [`Body`] as JSON, sealed with the vault.
    pub sealed: String,
}

pub const KIND: &str = "mail.send";

fn transport(cfg: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, JobError> {
    let builder = match cfg.tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
        SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host)
            .map_err(|e| JobError::Fatal(format!("SMTP host '{}': {e}", cfg.host)))?,
        SmtpTls::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host).map_err(|e| JobError::Fatal(format!("SMTP host '{}': {e}", cfg.host)))?
        }
    };
    let mut builder = builder.port(cfg.port).timeout(Some(Duration::from_secs(20)));
    if let (Some(u), Some(p)) = (&cfg.user, &cfg.password) {
        builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
    }
    Ok(builder.build())
}

fn message(cfg: &SmtpConfig, to: &str, subject: &str, body: Body) -> Result<Message, JobError> {
    let from: Mailbox = cfg.from.parse().map_err(|e| JobError::Fatal(format!("IGNY8_MAIL_FROM: {e}")))?;
    let to: Mailbox = to.parse().map_err(|e| JobError::Fatal(format!("recipient '{to}': {e}")))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject.to_string())
        .multipart(MultiPart::alternative_plain_html(body.text, body.html))
        .map_err(|e| JobError::Fatal(format!("the message could not be built: {e}")))
}

/// Sends one message: a connection failure or a temporary SMTP answer is `Retry`, a refusal `Fatal`.
pub async fn deliver(cfg: &SmtpConfig, to: &str, subject: &str, body: Body) -> Result<(), JobError> {
    let message = message(cfg, to, subject, body)?;
    match transport(cfg)?.send(message).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Err(JobError::Fatal(format!("the SMTP server refused the message: {e}"))),
        Err(e) => Err(JobError::retry(format!("SMTP {}:{}: {e}", cfg.host, cfg.port))),
    }
}

impl Job for MailSend {
    const KIND: &'static str = KIND;
    // With the default backoff (1 s × 2^attempt, capped at 10 min) this keeps trying for about an hour.
    const MAX_ATTEMPTS: i32 = 12;

    async fn run(self, state: Arc<AppState>, _job: ClaimedJob) -> Result<Completion, JobError> {
        let cfg = state.config.smtp.as_ref().ok_or_else(|| JobError::Fatal("no SMTP server is configured (IGNY8_SMTP_HOST)".into()))?;
        let body = state.vault.open(&self.sealed).map_err(JobError::Fatal)?;
        let body: Body = serde_json::from_str(&body).map_err(|e| JobError::Fatal(format!("the sealed message is not readable: {e}")))?;
        deliver(cfg, &self.to, &self.subject, body).await?;
        Ok(Completion::result(serde_json::json!({ "sent": true })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(tls: SmtpTls) -> SmtpConfig {
        SmtpConfig {
            host: "smtp.example.com".into(),
            port: 587,
            tls,
            user: Some("u".into()),
            password: Some("p".into()),
            from: "IGNY8 <no-reply@example.com>".into(),
        }
    }

    /// Building the TLS settings picks a rustls crypto provider; two in one build would panic here, not at compile.
    #[test]
    fn every_tls_mode_builds_a_transport() {
        for tls in [SmtpTls::None, SmtpTls::StartTls, SmtpTls::Tls] {
            assert!(transport(&cfg(tls)).is_ok(), "{tls:?}");
        }
    }

    #[test]
    fn a_bad_recipient_fails_for_good() {
        let body = Body { text: "t".into(), html: "<p>h</p>".into() };
        assert!(matches!(message(&cfg(SmtpTls::None), "not an address", "s", body), Err(JobError::Fatal(_))));
    }
}
