//! OpenAI-compatible chat completions (OpenAI, OpenRouter, Ollama, vLLM, … by base URL) and OpenAI images.

use std::time::Duration;

use base64::Engine;
use futures_util::future::BoxFuture;
use serde_json::json;

use super::{AiError, ChatRequest, ChatResponse, ImageProvider, ImageRequest, ImageResponse, TextProvider, read_reply, transport_error};

pub struct OpenAiCompat {
    pub client: reqwest::Client,
    pub base_url: String,
    pub api_key: String,
    pub timeout: Duration,
}

const NAME: &str = "openai";

impl OpenAiCompat {
    async fn post(&self, path: &str, body: serde_json::Value) -> Result<serde_json::Value, AiError> {
        let url = format!("{}/{}", self.base_url.trim_end_matches('/'), path);
        let mut req = self.client.post(&url).timeout(self.timeout).json(&body);
        if !self.api_key.is_empty() {
            req = req.bearer_auth(&self.api_key);
        }
        let res = req.send().await.map_err(|e| transport_error(NAME, e, self.timeout))?;
        let text = read_reply(NAME, res, self.timeout).await?;
        serde_json::from_str(&text)
            .map_err(|_| AiError::BadOutput(format!("the provider's reply is not JSON: {}", text.chars().take(120).collect::<String>())))
    }
}

impl TextProvider for OpenAiCompat {
    fn name(&self) -> &'static str {
        NAME
    }

    fn chat<'a>(&'a self, req: &'a ChatRequest) -> BoxFuture<'a, Result<ChatResponse, AiError>> {
        Box::pin(async move {
            let mut body = json!({
                "model": req.model,
                "messages": [
                    { "role": "system", "content": req.system },
                    { "role": "user", "content": req.user },
                ],
                "max_tokens": req.max_tokens,
                "temperature": req.temperature,
            });
            if req.json {
                body["response_format"] = json!({ "type": "json_object" });
            }
            let v = self.post("chat/completions", body).await?;
            let choice = v.pointer("/choices/0").ok_or_else(|| AiError::BadOutput("no choices in the reply".into()))?;
            let content = choice.pointer("/message/content").and_then(|c| c.as_str()).unwrap_or_default().to_string();
            let finish_reason = choice.get("finish_reason").and_then(|f| f.as_str()).unwrap_or("stop").to_string();
            Ok(ChatResponse {
                content,
                finish_reason,
                tokens_in: v.pointer("/usage/prompt_tokens").and_then(|t| t.as_i64()).unwrap_or(0),
                tokens_out: v.pointer("/usage/completion_tokens").and_then(|t| t.as_i64()).unwrap_or(0),
                model: v.get("model").and_then(|m| m.as_str()).unwrap_or(&req.model).to_string(),
                sample: false,
            })
        })
    }
}

impl ImageProvider for OpenAiCompat {
    fn name(&self) -> &'static str {
        NAME
    }

    fn generate<'a>(&'a self, req: &'a ImageRequest) -> BoxFuture<'a, Result<ImageResponse, AiError>> {
        Box::pin(async move {
            let body = json!({
                "model": req.model,
                "prompt": req.prompt,
                "n": 1,
                "size": format!("{}x{}", req.width, req.height),
                "response_format": "b64_json",
            });
            let v = self.post("images/generations", body).await?;
            let b64 =
                v.pointer("/data/0/b64_json").and_then(|b| b.as_str()).ok_or_else(|| AiError::BadOutput("no image in the reply".into()))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| AiError::BadOutput("the image is not valid base64".into()))?;
            Ok(ImageResponse { content_type: sniff_image(&bytes).to_string(), bytes, model: req.model.clone(), sample: false })
        })
    }
}

/// The image type from its first bytes (providers do not always say).
pub fn sniff_image(bytes: &[u8]) -> &'static str {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => "image/png",
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => "image/webp",
        _ => "application/octet-stream",
    }
}
