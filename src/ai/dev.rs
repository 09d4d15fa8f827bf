//! The offline dev provider: deterministic, realistic enough to click through the product, no network.
//! Used whenever a workspace has no provider key; the UI labels its output as such.

use futures_util::future::BoxFuture;

use super::{AiError, ChatRequest, ChatResponse, ImageProvider, ImageRequest, ImageResponse, TextProvider};
use crate::crypto::secrets::sha256_hex;

pub const NAME: &str = "dev";
pub const TEXT_MODEL: &str = "dev-text";
pub const IMAGE_MODEL: &str = "dev-image";

pub struct DevProvider {
    pub answers: std::sync::Arc<DevAnswers>,
}

impl TextProvider for DevProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn chat<'a>(&'a self, req: &'a ChatRequest) -> BoxFuture<'a, Result<ChatResponse, AiError>> {
        Box::pin(async move {
            let seed = &sha256_hex(format!("{}\n{}", req.system, req.user))[..8];
            let topic: String = req.user.split_whitespace().take(8).collect::<Vec<_>>().join(" ");
            let content = if let Some(shaped) = self.answers.answer(req) {
                shaped
            } else if req.json {
                serde_json::json!({
                    "answer": format!("Offline dev provider answer about “{topic}”."),
                    "provider": "dev",
                    "seed": seed,
                })
                .to_string()
            } else {
                format!(
                    "Offline dev provider answer about “{topic}” (seed {seed}). Connect a real provider in Settings → AI for real output."
                )
            };
            let tokens_in = ((req.system.len() + req.user.len()) / 4) as i64;
            let tokens_out = (content.len() / 4) as i64;
            Ok(ChatResponse { content, finish_reason: "stop".into(), tokens_in, tokens_out, model: TEXT_MODEL.into(), sample: true })
        })
    }
}

/// Answers shaped for one purpose: the module that owns a prompt registers how the offline provider answers it
/// (the planner its clusters and ideas, the writer its articles…), so the whole pipeline can be clicked through
/// offline without the AI layer knowing any module.
pub type Shaper = fn(&ChatRequest) -> Option<String>;

/// The shapers of the app, by purpose (assembled in `app::parts`).
#[derive(Default)]
pub struct DevAnswers {
    by_purpose: std::collections::HashMap<&'static str, Shaper>,
}

impl DevAnswers {
    pub fn add(&mut self, purpose: &'static str, shaper: Shaper) -> &mut Self {
        let previous = self.by_purpose.insert(purpose, shaper);
        assert!(previous.is_none(), "dev answers for {purpose} registered twice");
        self
    }

    fn answer(&self, req: &ChatRequest) -> Option<String> {
        self.by_purpose.get(req.purpose).and_then(|f| f(req))
    }
}

impl ImageProvider for DevProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    /// A small SVG placeholder whose colour follows the prompt.
    fn generate<'a>(&'a self, req: &'a ImageRequest) -> BoxFuture<'a, Result<ImageResponse, AiError>> {
        Box::pin(async move {
            let h = sha256_hex(&req.prompt);
            let label: String = req.prompt.chars().filter(|c| c.is_alphanumeric() || *c == ' ').take(40).collect();
            let svg = format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{hh}\" viewBox=\"0 0 {w} {hh}\">\
                 <rect width=\"100%\" height=\"100%\" fill=\"#{c}\"/>\
                 <text x=\"50%\" y=\"50%\" fill=\"#fff\" font-family=\"sans-serif\" font-size=\"28\" text-anchor=\"middle\">{label}</text>\
                 <text x=\"50%\" y=\"90%\" fill=\"#fff\" font-family=\"sans-serif\" font-size=\"16\" text-anchor=\"middle\">dev provider placeholder</text></svg>",
                w = req.width,
                hh = req.height,
                c = &h[..6],
            );
            Ok(ImageResponse { bytes: svg.into_bytes(), content_type: "image/svg+xml".into(), model: IMAGE_MODEL.into(), sample: true })
        })
    }
}
