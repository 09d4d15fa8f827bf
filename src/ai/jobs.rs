//! Job kinds of the AI layer. `ai.prompt` runs one prompt for the workspace (the Thinker playground and
//! Settings' connection test build on it); the pipeline's own kinds arrive with the planner and writer.

use std::sync::Arc;

use super::{ChatRequest, parse, router};
use crate::app::AppState;
use crate::jobs::queue::{ClaimedJob, Completion, JobError};

pub const PROMPT: &str = "ai.prompt";
pub const IMAGE_TEST: &str = "ai.image_test";

/// Payload: `{"system": "...", "prompt": "...", "json": bool, "max_tokens": n, "provider": "dev"}` (`dev` runs on
/// the offline provider whatever the workspace uses). The result keeps the raw answer beside the parsed one.
pub async fn prompt(state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
    let p = &job.payload;
    let text = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let user = text("prompt");
    if user.trim().is_empty() {
        return Err(JobError::Fatal("the job has no prompt".into()));
    }
    let mut req = ChatRequest::new(text("system"), user);
    req.json = p.get("json").and_then(|v| v.as_bool()).unwrap_or(false);
    req.purpose = crate::modules::thinker::library::purpose_of(&text("playground"));
    req.max_tokens = p.get("max_tokens").and_then(|v| v.as_u64()).unwrap_or(1024).clamp(16, 16_000) as u32;
    let res = if text("provider") == "dev" {
        router::chat_dev(&state, job.tenant_id, Some(job.id), req.clone()).await?
    } else {
        router::chat(&state, job.tenant_id, Some(job.id), req.clone()).await?
    };
    // A playground run shows why an answer would be refused instead of failing the run.
    let (output, parse_error) = if req.json {
        match parse::json::<serde_json::Map<String, serde_json::Value>>(&res) {
            Ok(m) => (serde_json::Value::Object(m), None),
            Err(e) if p.get("keep_unparsed").and_then(|v| v.as_bool()).unwrap_or(false) => (serde_json::Value::Null, Some(e.to_string())),
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

/// Payload: `{"prompt": "...", "provider": "dev" | "workspace"}`: one image, kept (base64) in the job's
/// result for the playground to show; nothing else is stored.
pub async fn image_test(state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
    use base64::Engine;
    let p = &job.payload;
    let prompt = p.get("prompt").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    if prompt.trim().is_empty() {
        return Err(JobError::Fatal("the job has no prompt".into()));
    }
    let req = super::ImageRequest { model: String::new(), prompt, width: 1024, height: 1024 };
    let res = if p.get("provider").and_then(|v| v.as_str()) == Some("workspace") {
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
