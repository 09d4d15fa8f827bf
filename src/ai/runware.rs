//! Runware image inference: a JSON array of tasks (authentication + imageInference) posted to one URL.

use std::time::Duration;

use base64::Engine;
use futures_util::future::BoxFuture;
use serde_json::json;

use super::openai::sniff_image;
use super::{AiError, ImageProvider, ImageRequest, ImageResponse, error_message, read_reply, transport_error};

pub const DEFAULT_URL: &str = "https://api.runware.ai/v1";
const NAME: &str = "runware";

pub struct Runware {
    pub client: reqwest::Client,
    pub url: String,
    pub api_key: String,
    pub timeout: Duration,
}

impl ImageProvider for Runware {
    fn name(&self) -> &'static str {
        NAME
    }

    fn generate<'a>(&'a self, req: &'a ImageRequest) -> BoxFuture<'a, Result<ImageResponse, AiError>> {
        Box::pin(async move {
            let task_uuid = uuid_v4();
            let body = json!([
                { "taskType": "authentication", "apiKey": self.api_key },
                {
                    "taskType": "imageInference",
                    "taskUUID": task_uuid,
                    "positivePrompt": req.prompt,
                    "model": req.model,
                    "width": req.width,
                    "height": req.height,
                    "numberResults": 1,
                    "outputType": "base64Data",
                    "outputFormat": "WEBP",
                }
            ]);
            let res = self
                .client
                .post(&self.url)
                .timeout(self.timeout)
                .json(&body)
                .send()
                .await
                .map_err(|e| transport_error(NAME, e, self.timeout))?;
            let text = read_reply(NAME, res, self.timeout).await?;
            let v: serde_json::Value = serde_json::from_str(&text).map_err(|_| AiError::BadOutput("the reply is not JSON".into()))?;
            if v.get("errors").and_then(|e| e.as_array()).is_some_and(|e| !e.is_empty()) {
                return Err(AiError::Http { provider: NAME.into(), status: 400, message: error_message(&text) });
            }
            let item = v
                .get("data")
                .and_then(|d| d.as_array())
                .and_then(|d| d.iter().find(|i| i.get("taskUUID").and_then(|u| u.as_str()) == Some(task_uuid.as_str())))
                .ok_or_else(|| AiError::BadOutput("no result for our task in the reply".into()))?;
            let b64 = item
                .get("imageBase64Data")
                .and_then(|b| b.as_str())
                .ok_or_else(|| AiError::BadOutput("no image data in the reply".into()))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| AiError::BadOutput("the image is not valid base64".into()))?;
            Ok(ImageResponse { content_type: sniff_image(&bytes).to_string(), bytes, model: req.model.clone(), sample: false })
        })
    }
}

/// A random RFC 4122 version-4 UUID (Runware matches results to tasks by it).
pub fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS random source is available");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}
