//! The AI layer: provider trait for text and images, the OpenAI-compatible, OpenAI-images, Runware and
//! offline dev providers, the router (tenant model, fallback, per-model rate limit), output parsing, and
//! the `ai_calls` log with costs.

pub mod access;
pub mod calls;
pub mod dev;
pub mod jobs;
pub mod openai;
pub mod parse;
pub mod platform;
pub mod prompts;
pub mod router;
pub mod runware;
pub mod settings;

use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::jobs::JobError;

#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub model: String,
    pub system: String,
    pub user: String,
    /// Ask for a JSON object (response_format json_object).
    pub json: bool,
    pub max_tokens: u32,
    pub temperature: f32,
    /// What the call is for (`chat`, `cluster_keywords`, `content_ideas`, …): logged as the AI call's
    /// operation, and lets the offline dev provider answer in the shape the caller expects.
    pub purpose: &'static str,
}

impl ChatRequest {
    pub fn new(system: impl Into<String>, user: impl Into<String>) -> Self {
        ChatRequest {
            model: String::new(),
            system: system.into(),
            user: user.into(),
            json: false,
            max_tokens: 1024,
            temperature: 0.7,
            purpose: "chat",
        }
    }
    pub fn purpose(mut self, purpose: &'static str) -> Self {
        self.purpose = purpose;
        self
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChatResponse {
    pub content: String,
    pub finish_reason: String,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub model: String,
    /// Answered by the dev provider: free, and what it produced is labelled "sample".
    #[serde(default)]
    pub sample: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImageRequest {
    pub model: String,
    pub prompt: String,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImageResponse {
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub model: String,
    /// Made by the dev provider (free, labelled "sample").
    pub sample: bool,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AiError {
    /// A 429 from the provider, or — `held_back` — IGNY8's own per-model budget holding the call back before it was
    /// sent (a job then waits for the window without spending an attempt).
    #[error("rate limited by {provider}; retry after {}s", retry_after.map(|d| d.as_secs()).unwrap_or(0))]
    RateLimited { provider: String, retry_after: Option<Duration>, held_back: bool },
    #[error("{provider} did not answer within {secs}s")]
    Timeout { provider: String, secs: u64 },
    #[error("{provider} answered HTTP {status}: {message}")]
    Http { provider: String, status: u16, message: String },
    #[error("could not reach {provider}: {message}")]
    Network { provider: String, message: String },
    #[error("the model's answer was cut off (finish_reason = length); raise max tokens or shorten the request")]
    Truncated,
    #[error("the model's answer is unusable: {0}")]
    BadOutput(String),
    #[error("{0}")]
    Config(String),
    /// Neither the platform nor the workspace has a provider for this (and the dev provider is off).
    #[error("{0}")]
    NotConfigured(String),
}

impl AiError {
    /// Worth trying again (maybe on the fallback model)?
    pub fn is_transient(&self) -> bool {
        match self {
            AiError::RateLimited { .. } | AiError::Timeout { .. } | AiError::Network { .. } => true,
            AiError::Http { status, .. } => *status >= 500 || *status == 408 || *status == 409,
            _ => false,
        }
    }
}

impl From<AiError> for JobError {
    fn from(e: AiError) -> Self {
        match &e {
            AiError::RateLimited { retry_after, held_back: true, .. } => {
                JobError::Defer { message: e.to_string(), after: retry_after.unwrap_or(Duration::from_secs(1)) }
            }
            AiError::RateLimited { retry_after, held_back: false, .. } => JobError::Retry { message: e.to_string(), after: *retry_after },
            _ if e.is_transient() => JobError::retry(e.to_string()),
            _ => JobError::Fatal(e.to_string()),
        }
    }
}

pub trait TextProvider: Send + Sync {
    fn name(&self) -> &'static str;
    fn chat<'a>(&'a self, req: &'a ChatRequest) -> BoxFuture<'a, Result<ChatResponse, AiError>>;
}

pub trait ImageProvider: Send + Sync {
    fn name(&self) -> &'static str;
    fn generate<'a>(&'a self, req: &'a ImageRequest) -> BoxFuture<'a, Result<ImageResponse, AiError>>;
}

/// Maps a reqwest failure to what the user should read.
pub(crate) fn transport_error(provider: &str, e: reqwest::Error, timeout: Duration) -> AiError {
    if e.is_timeout() {
        AiError::Timeout { provider: provider.into(), secs: timeout.as_secs().max(1) }
    } else {
        AiError::Network { provider: provider.into(), message: e.to_string() }
    }
}

/// Reads an error body into a short message: the provider's own `error.message` when it sent one, else the start
/// of the body — either way at most [`EXCERPT`] characters with control characters and markup brackets replaced,
/// so a hostile or confused server cannot put its page into our messages and logs.
pub(crate) fn error_message(body: &str) -> String {
    let own = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.pointer("/error/message").or_else(|| v.pointer("/errors/0/message")).and_then(|m| m.as_str()).map(String::from));
    excerpt(own.as_deref().unwrap_or(body))
}

/// Longest excerpt of a remote answer kept in an error message.
pub const EXCERPT: usize = 200;

pub(crate) fn excerpt(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() || c == '<' || c == '>' { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if clean.chars().count() > EXCERPT { format!("{}…", clean.chars().take(EXCERPT).collect::<String>()) } else { clean }
}

/// Replies larger than this are refused (base64 images included, a reply is a few MB at most).
const MAX_REPLY: usize = 32 * 1024 * 1024;

/// Reads a provider's HTTP reply: 429 → RateLimited (with Retry-After), other non-2xx → Http with the
/// provider's own message, else the body.
pub(crate) async fn read_reply(provider: &str, res: reqwest::Response, timeout: Duration) -> Result<String, AiError> {
    let status = res.status();
    if status.is_redirection() {
        // Never followed (the client has no redirect policy): the key and the prompt stay with the checked address.
        let to = res.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok()).map(excerpt).unwrap_or_default();
        return Err(AiError::Config(format!(
            "{provider} answered HTTP {} with a redirect to “{to}”; AI calls do not follow redirects — use the address it points to as the base URL",
            status.as_u16()
        )));
    }
    let after = retry_after(res.headers());
    let bytes = crate::outbound::read_limited(res, MAX_REPLY).await.map_err(|e| match e {
        crate::outbound::ReadError::TooLarge(m) => AiError::BadOutput(m),
        crate::outbound::ReadError::Transport(e) => transport_error(provider, e, timeout),
    })?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if status.as_u16() == 429 {
        return Err(AiError::RateLimited { provider: provider.into(), retry_after: after, held_back: false });
    }
    if !status.is_success() {
        return Err(AiError::Http { provider: provider.into(), status: status.as_u16(), message: error_message(&text) });
    }
    Ok(text)
}

/// `Retry-After` in seconds (the HTTP-date form is treated as "soon").
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    Some(Duration::from_secs(v.trim().parse::<u64>().unwrap_or(5).min(3600)))
}
