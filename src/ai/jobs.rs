//! Job kinds of the AI layer. `ai.prompt` runs one prompt for the workspace (the Thinker playground and
//! Settings' connection test build on it); `ai.image_test` renders one test image. The pipeline's own kinds live
//! with the planner and writer.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{ChatRequest, parse, router};
use crate::jobs::{ClaimedJob, Completion, Job, JobError, Registry};
use crate::state::AppState;

pub const PROMPT: &str = "ai.prompt";
pub const IMAGE_TEST: &str = "ai.image_test";

pub fn register(r: &mut Registry) {
    r.add::<Prompt>().add::<ImageTest>();
}

/// One prompt; `provider: "dev"` runs on the offline provider whatever the workspace uses. The result keeps the
/// raw answer beside the parsed one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Prompt {
    pub system: String,
    pub prompt: String,
    pub json: bool,
    pub max_tokens: Option<u64>,
    pub provider: String,
    /// A playground run shows why an answer would be refused instead of failing the run.
    pub keep_unparsed: bool,
    /// The prompt key a playground run tries (its purpose in the AI-call log).
    pub playground: String,
}

impl Job for Prompt {
    const KIND: &'static str = PROMPT;

    async fn run(self, state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
        prompt(state, job, self).await
    }
}

async fn prompt(state: Arc<AppState>, job: ClaimedJob, p: Prompt) -> Result<Completion, JobError> {
    if p.prompt.trim().is_empty() {
        return Err(JobError::Fatal("the job has no prompt".into()));
    }
    let mut req = ChatRequest::new(p.system.clone(), p.prompt.clone());
    req.json = p.json;
    req.purpose = state.prompts.purpose_of(&p.playground);
    req.max_tokens = p.max_tokens.unwrap_or(1024).clamp(16, 16_000) as u32;
    let res = if p.provider == "dev" {
        router::chat_dev(&state, job.tenant_id, Some(job.id), req.clone()).await?
    } else {
        router::chat(&state, job.tenant_id, Some(job.id), req.clone()).await?
    };
    let (output, parse_error) = if req.json {
        match parse::json::<serde_json::Map<String, serde_json::Value>>(&res) {
            Ok(m) => (serde_json::Value::Object(m), None),
            Err(e) if p.keep_unparsed => (serde_json::Value::Null, Some(e.to_string())),
            Err(e) => return Err(e.into()),
        }
    } else {
        (serde_json::Value::String(parse::text(&res)?), None)
    };
    Ok(Completion::result(serde_json::json!({
        "raw": res.content,
        "parse_error": parse_error,
        "output": output,
        "model": res.model,
        "tokens_in": res.tokens_in,
        "tokens_out": res.tokens_out,
    })))
}

/// One test image (`provider`: `dev` or `workspace`), kept (base64) in the job's result for the playground to
/// show; nothing else is stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageTest {
    pub prompt: String,
    pub provider: String,
}

impl Job for ImageTest {
    const KIND: &'static str = IMAGE_TEST;

    async fn run(self, state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
        image_test(state, job, self).await
    }
}

async fn image_test(state: Arc<AppState>, job: ClaimedJob, p: ImageTest) -> Result<Completion, JobError> {
    use base64::Engine;
    if p.prompt.trim().is_empty() {
        return Err(JobError::Fatal("the job has no prompt".into()));
    }
    let req = super::ImageRequest { model: String::new(), prompt: p.prompt, width: 1024, height: 1024 };
    let res = if p.provider == "workspace" {
        router::image(&state, job.tenant_id, Some(job.id), req).await?
    } else {
        router::image_dev(&state, job.tenant_id, Some(job.id), req).await?
    };
    Ok(Completion::result(serde_json::json!({
        "content_type": res.content_type,
        "size": res.bytes.len(),
        "model": res.model,
        "bytes_b64": base64::engine::general_purpose::STANDARD.encode(&res.bytes),
    })))
}
