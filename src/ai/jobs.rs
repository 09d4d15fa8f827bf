//! Job kinds of the AI layer. `ai.prompt` runs one prompt for the workspace (the Thinker playground and
//! Settings' connection test build on it); the pipeline's own kinds arrive with the planner and writer.

use std::sync::Arc;

use super::{ChatRequest, parse, router};
use crate::app::AppState;
use crate::jobs::queue::{ClaimedJob, Completion, JobError};

pub const PROMPT: &str = "ai.prompt";

/// Payload: `{"system": "...", "prompt": "...", "json": bool, "max_tokens": n}`.
pub async fn prompt(state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
    let p = &job.payload;
    let text = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let user = text("prompt");
    if user.trim().is_empty() {
        return Err(JobError::Fatal("the job has no prompt".into()));
    }
    let mut req = ChatRequest::new(text("system"), user);
    req.json = p.get("json").and_then(|v| v.as_bool()).unwrap_or(false);
    req.max_tokens = p.get("max_tokens").and_then(|v| v.as_u64()).unwrap_or(1024).clamp(16, 16_000) as u32;
    let res = router::chat(&state, job.tenant_id, Some(job.id), req.clone()).await?;
    let output = if req.json {
        parse::json::<serde_json::Map<String, serde_json::Value>>(&res).map(serde_json::Value::Object)?
    } else {
        serde_json::Value::String(parse::text(&res)?)
    };
    Ok(Completion::result(serde_json::json!({
        "output": output,
        "model": res.model,
        "tokens_in": res.tokens_in,
        "tokens_out": res.tokens_out,
    })))
}
