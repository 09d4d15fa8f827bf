//! Who serves a workspace's AI calls, decided in this one place for the router (which makes the call), the services
//! that price an action before queueing it, and the pages that show or disable AI buttons:
//!
//! 1. the workspace's own key, when it chose one and its plan allows it;
//! 2. the dev provider, when the workspace chose it and it is enabled (`IGNY8_AI_DEV_PROVIDER`);
//! 3. the platform's provider for the purpose (System → AI providers);
//! 4. the dev provider, when it is enabled — development and tests;
//! 5. otherwise nothing: AI is not configured (503 `ai_not_configured`, nothing queued or charged).
//!
//! The dev provider's output is free and labelled "sample".

use super::platform::{IMAGE_PURPOSE, ProviderKind};
use super::settings::AiSettings;
use super::{AiError, dev, runware};
use crate::billing::Price;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

crate::text_enum! {
    /// Whose account a call runs on (`ai_calls.source`).
    pub enum Source {
        Platform = "platform",
        Own = "own",
        Sample = "sample",
    }
}

/// What a call for one purpose will be sent to.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub source: Source,
    pub kind: Kind,
    pub base_url: String,
    /// The sealed key (none for the dev provider, or an own endpoint that needs none).
    pub key_enc: Option<String>,
    /// The model first, then the fallback (text only).
    pub models: Vec<String>,
    /// The provider as the settings page names it.
    pub provider: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    OpenAi,
    Runware,
    Dev,
}

impl Endpoint {
    fn dev(image: bool) -> Endpoint {
        Endpoint {
            source: Source::Sample,
            kind: Kind::Dev,
            base_url: String::new(),
            key_enc: None,
            models: vec![if image { dev::IMAGE_MODEL } else { dev::TEXT_MODEL }.into()],
            provider: "Offline dev provider (sample text, free)".into(),
        }
    }

    /// Who pays the provider, in words for the settings page.
    pub fn payer(&self) -> &'static str {
        match self.source {
            Source::Platform => "IGNY8 pays the provider; your workspace pays in credits",
            Source::Own => "your own provider account is billed for the calls; credits are charged as usual",
            Source::Sample => "nobody: sample output is free",
        }
    }
}

const NOT_CONFIGURED: &str =
    "AI is not set up for this workspace: a system administrator configures the platform's providers in System → AI providers";

/// The endpoint serving `purpose` for the workspace (images: [`IMAGE_PURPOSE`]).
pub async fn endpoint(state: &AppState, tenant_id: i64, purpose: &str) -> Result<Endpoint, AiError> {
    let config = |e: AppError| AiError::Config(e.to_string());
    let (s, own_allowed) = state.ai_settings.get_with_plan(state, tenant_id).await.map_err(config)?;
    let platform = state.platform_ai.get(state).await.map_err(config)?;
    let dev_on = state.config.ai_dev_provider;
    let image = purpose == IMAGE_PURPOSE;
    let chosen = if image { s.image_provider.as_str() } else { s.text_provider.as_str() };
    if own_allowed && let Some(own) = own_endpoint(&s, image) {
        return Ok(own);
    }
    if chosen == dev::NAME && dev_on {
        return Ok(Endpoint::dev(image));
    }
    if let Some((p, r)) = platform.route(purpose) {
        let kind = if p.kind == ProviderKind::Runware { Kind::Runware } else { Kind::OpenAi };
        let mut models = vec![r.model.clone()];
        models.extend(r.fallback_model.clone().filter(|_| !image));
        return Ok(Endpoint {
            source: Source::Platform,
            kind,
            base_url: p.base_url.clone(),
            key_enc: p.api_key_enc.clone(),
            models,
            provider: format!("IGNY8 platform — {}", p.name),
        });
    }
    if dev_on {
        return Ok(Endpoint::dev(image));
    }
    Err(AiError::NotConfigured(NOT_CONFIGURED.into()))
}

/// The workspace's own provider for text or images, when it chose one.
fn own_endpoint(s: &AiSettings, image: bool) -> Option<Endpoint> {
    let (kind, base_url, key_enc, models, provider) = if image {
        let base = |d: &str| if s.image_base_url.is_empty() { d.to_string() } else { s.image_base_url.clone() };
        match s.image_provider.as_str() {
            "openai" => {
                (Kind::OpenAi, base("https://api.openai.com/v1"), s.image_api_key_enc.clone(), vec![s.image_model.clone()], "OpenAI images")
            }
            "runware" => (Kind::Runware, base(runware::DEFAULT_URL), s.image_api_key_enc.clone(), vec![s.image_model.clone()], "Runware"),
            _ => return None,
        }
    } else {
        if s.text_provider != "openai" {
            return None;
        }
        let mut models = vec![s.text_model.clone()];
        models.extend(s.fallback_model.clone());
        (Kind::OpenAi, s.text_base_url.clone(), s.text_api_key_enc.clone(), models, "OpenAI-compatible")
    };
    Some(Endpoint { source: Source::Own, kind, base_url, key_enc, models, provider: format!("Your own key — {provider}") })
}

/// The price of an action for the workspace: `credits` on a real provider, nothing (a "sample" entry) on the dev
/// provider; 503 `ai_not_configured` when nothing can serve it, before anything is queued or charged.
pub async fn price(state: &AppState, tenant_id: i64, purpose: &str, credits: i64) -> AppResult<Price> {
    match endpoint(state, tenant_id, purpose).await {
        Ok(e) if e.source == Source::Sample => Ok(Price::sample()),
        Ok(_) => Ok(Price::credits(credits)),
        Err(AiError::NotConfigured(m)) => Err(AppError::AiNotConfigured(m)),
        Err(e) => Err(AppError::Unavailable(e.to_string())),
    }
}

/// Why AI actions are unavailable to the workspace, for pages to disable their AI buttons; None when they work.
pub async fn blocked(state: &AppState, tenant_id: i64) -> Option<String> {
    match endpoint(state, tenant_id, super::platform::PURPOSES[2].0).await {
        Err(AiError::NotConfigured(m)) => Some(m),
        _ => None,
    }
}

/// What serves one purpose for the workspace, as the settings page and API show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PurposeUse {
    pub purpose: &'static str,
    pub label: &'static str,
    /// None when nothing can serve it.
    pub source: Option<Source>,
    pub provider: String,
    pub model: String,
    pub payer: String,
}

/// For each purpose: which provider and model will serve it and who pays the provider.
pub async fn overview(state: &AppState, tenant_id: i64) -> Vec<PurposeUse> {
    let mut out = Vec::new();
    for (purpose, label) in super::platform::PURPOSES {
        out.push(match endpoint(state, tenant_id, purpose).await {
            Ok(e) => PurposeUse {
                purpose,
                label,
                source: Some(e.source),
                model: e.models.join(", then "),
                payer: e.payer().into(),
                provider: e.provider,
            },
            Err(err) => {
                PurposeUse { purpose, label, source: None, provider: "Not configured".into(), model: String::new(), payer: err.to_string() }
            }
        });
    }
    out
}
