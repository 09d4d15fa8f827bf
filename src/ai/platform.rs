//! Platform AI: the provider accounts the service itself holds (System → AI providers, system administrators only)
//! and which provider and model serve each purpose. Every workspace uses them unless its plan allows its own key
//! and it set one; the workspace pays in credits either way. Keys are sealed with the vault and only shown masked.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Who};
use crate::crypto::vault::mask;
use crate::db::schema::{platform_ai_providers as providers, platform_ai_purposes as purposes};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::validate::Check;

crate::text_enum! {
    /// What a platform provider speaks.
    pub enum ProviderKind {
        OpenAi = "openai",
        OpenAiImages = "openai_images",
        Runware = "runware",
    }
}

impl ProviderKind {
    pub fn label(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "OpenAI-compatible chat",
            ProviderKind::OpenAiImages => "OpenAI images",
            ProviderKind::Runware => "Runware images",
        }
    }
    pub fn serves_images(self) -> bool {
        !matches!(self, ProviderKind::OpenAi)
    }
    fn default_url(self) -> &'static str {
        match self {
            ProviderKind::OpenAi | ProviderKind::OpenAiImages => "https://api.openai.com/v1",
            ProviderKind::Runware => super::runware::DEFAULT_URL,
        }
    }
}

/// The purposes a platform route can be set for: the AI-call log's operation names, with what the page calls them.
/// The playground's and the connection test's free-form calls (`chat`) use the content route.
pub const PURPOSES: [(&str, &str); 6] = [
    ("cluster_keywords", "Clustering"),
    ("content_ideas", "Ideas"),
    ("article_content", "Content"),
    ("article_reparse", "Reparse"),
    ("image_prompts", "Image prompts"),
    (IMAGE_PURPOSE, "Images"),
];
pub const IMAGE_PURPOSE: &str = "image";
const CHAT_ROUTE: &str = "article_content";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = providers)]
pub struct Provider {
    pub id: i64,
    pub kind: ProviderKind,
    pub name: String,
    pub base_url: String,
    pub api_key_enc: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = purposes)]
pub struct PurposeRoute {
    pub purpose: String,
    pub provider_id: i64,
    pub model: String,
    pub fallback_model: Option<String>,
}

/// The platform's providers and routes as one snapshot.
#[derive(Debug, Clone, Default)]
pub struct Platform {
    pub providers: Vec<Provider>,
    pub routes: Vec<PurposeRoute>,
}

impl Platform {
    /// The provider and route serving `purpose` (free-form chat uses the content route), if one is set.
    pub fn route(&self, purpose: &str) -> Option<(&Provider, &PurposeRoute)> {
        let key = if PURPOSES.iter().any(|(p, _)| *p == purpose) { purpose } else { CHAT_ROUTE };
        let r = self.routes.iter().find(|r| r.purpose == key)?;
        Some((self.providers.iter().find(|p| p.id == r.provider_id)?, r))
    }
}

pub async fn load(conn: &mut AsyncPgConnection) -> AppResult<Platform> {
    let providers = providers::table.select(Provider::as_select()).order(providers::id).load(conn).await?;
    let routes = purposes::table.select(PurposeRoute::as_select()).load(conn).await?;
    Ok(Platform { providers, routes })
}

/// Each process keeps the platform's configuration for a few seconds; saving clears this process's copy at once and
/// other replicas follow within the TTL.
#[derive(Default)]
pub struct PlatformCache(Mutex<Option<(Instant, Arc<Platform>)>>);

const CACHE_TTL: Duration = Duration::from_secs(10);

impl PlatformCache {
    pub async fn get(&self, state: &AppState) -> AppResult<Arc<Platform>> {
        if let Some((at, p)) = self.0.lock().unwrap().as_ref()
            && at.elapsed() < CACHE_TTL
        {
            return Ok(p.clone());
        }
        let mut conn = state.db.get().await?;
        let p = Arc::new(load(&mut conn).await?);
        *self.0.lock().unwrap() = Some((Instant::now(), p.clone()));
        Ok(p)
    }

    pub fn forget(&self) {
        *self.0.lock().unwrap() = None;
    }
}

/// A provider as pages and the API show it: the key only masked.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderView {
    pub id: i64,
    pub kind: ProviderKind,
    pub kind_label: &'static str,
    pub name: String,
    pub base_url: String,
    pub key: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RouteView {
    pub purpose: &'static str,
    pub label: &'static str,
    pub provider_id: Option<i64>,
    pub provider: String,
    pub model: String,
    pub fallback_model: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlatformView {
    pub providers: Vec<ProviderView>,
    pub routes: Vec<RouteView>,
}

pub async fn view(state: &AppState, ctx: &TenantCtx) -> AppResult<PlatformView> {
    ctx.require_system_admin()?;
    let mut conn = state.db.get().await?;
    let p = load(&mut conn).await?;
    let providers = p
        .providers
        .iter()
        .map(|x| ProviderView {
            id: x.id,
            kind: x.kind,
            kind_label: x.kind.label(),
            name: x.name.clone(),
            base_url: x.base_url.clone(),
            key: x
                .api_key_enc
                .as_deref()
                .map(|e| state.vault.open(e).map(|k| mask(&k)).unwrap_or_else(|_| "(unreadable — enter it again)".into())),
        })
        .collect();
    let routes = PURPOSES
        .iter()
        .map(|(purpose, label)| {
            let r = p.routes.iter().find(|r| r.purpose == *purpose);
            let provider = r.and_then(|r| p.providers.iter().find(|x| x.id == r.provider_id));
            RouteView {
                purpose,
                label,
                provider_id: provider.map(|x| x.id),
                provider: provider.map(|x| x.name.clone()).unwrap_or_default(),
                model: r.map(|r| r.model.clone()).unwrap_or_default(),
                fallback_model: r.and_then(|r| r.fallback_model.clone()).unwrap_or_default(),
            }
        })
        .collect();
    Ok(PlatformView { providers, routes })
}

/// A provider as the form and the API send it; an empty key keeps the stored one.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProviderInput {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub base_url: String,
    #[serde(default)]
    pub api_key: String,
}

/// Creates (`id` None) or updates a provider.
pub async fn save_provider(state: &AppState, ctx: &TenantCtx, id: Option<i64>, input: &ProviderInput) -> AppResult<ProviderView> {
    ctx.require_system_admin()?;
    let mut c = Check::new();
    let kind = ProviderKind::parse(input.kind.trim());
    if kind.is_none() {
        c.fail("kind", format!("Choose one of {}", ProviderKind::words().join(", ")));
    }
    let name = c.text("name", &input.name, "Name", 1, 80);
    let key = c.text("api_key", &input.api_key, "API key", 0, 400);
    let base_url = match input.base_url.trim() {
        "" => kind.map(|k| k.default_url().to_string()).unwrap_or_default(),
        url => c.text("base_url", url, "Base URL", 1, 300),
    };
    if !c.errors.contains_key("base_url")
        && !base_url.is_empty()
        && let Err(msg) = crate::outbound::check_url(&base_url, state.config.allow_private_targets).await
    {
        c.fail("base_url", msg);
    }
    if id.is_none() && key.is_empty() {
        c.fail("api_key", "A new provider needs its API key");
    }
    c.finish()?;
    let kind = kind.expect("checked above");
    let base_url = base_url.trim_end_matches('/').to_string();
    let sealed = (!key.is_empty()).then(|| state.vault.seal(&key));
    let who = Who::from(ctx);
    let mut conn = state.db.get().await?;
    let saved: Provider = conn
        .transaction::<_, AppError, _>(async |conn| {
            let row: Provider = match id {
                None => {
                    diesel::insert_into(providers::table)
                        .values((
                            providers::kind.eq(kind),
                            providers::name.eq(&name),
                            providers::base_url.eq(&base_url),
                            providers::api_key_enc.eq(&sealed),
                        ))
                        .returning(Provider::as_returning())
                        .get_result(conn)
                        .await?
                }
                Some(id) => {
                    let current: Provider =
                        providers::table.find(id).select(Provider::as_select()).first(conn).await.optional()?.ok_or(AppError::NotFound)?;
                    diesel::update(providers::table.find(id))
                        .set((
                            providers::kind.eq(kind),
                            providers::name.eq(&name),
                            providers::base_url.eq(&base_url),
                            providers::api_key_enc.eq(sealed.clone().or(current.api_key_enc)),
                            providers::updated_at.eq(diesel::dsl::now),
                        ))
                        .returning(Provider::as_returning())
                        .get_result(conn)
                        .await?
                }
            };
            let detail = serde_json::json!({ "kind": kind, "name": name, "base_url": base_url, "key_changed": sealed.is_some() });
            audit::record(conn, &who, "platform_ai.provider_saved", ("platform_ai_provider", row.id.to_string()), detail).await?;
            Ok(row)
        })
        .await?;
    // `view` takes its own connection: holding this one meanwhile starves the pool when saves arrive together.
    drop(conn);
    state.platform_ai.forget();
    let v = view(state, ctx).await?;
    v.providers.into_iter().find(|p| p.id == saved.id).ok_or(AppError::NotFound)
}

pub async fn delete_provider(state: &AppState, ctx: &TenantCtx, id: i64) -> AppResult<()> {
    ctx.require_system_admin()?;
    let who = Who::from(ctx);
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |conn| {
        let n = diesel::delete(providers::table.find(id)).execute(conn).await?;
        if n == 0 {
            return Err(AppError::NotFound);
        }
        audit::record(conn, &who, "platform_ai.provider_deleted", ("platform_ai_provider", id.to_string()), serde_json::json!({})).await
    })
    .await?;
    state.platform_ai.forget();
    Ok(())
}

/// One purpose's route as the form and the API send it; an empty provider removes the route.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RouteInput {
    #[serde(default)]
    pub purpose: String,
    #[serde(default, deserialize_with = "crate::validate::text_or_number")]
    pub provider_id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub fallback_model: String,
}

pub async fn save_route(state: &AppState, ctx: &TenantCtx, input: &RouteInput) -> AppResult<PlatformView> {
    ctx.require_system_admin()?;
    let mut c = Check::new();
    let Some(&(purpose, _)) = PURPOSES.iter().find(|(p, _)| *p == input.purpose.trim()) else {
        return Err(AppError::field("purpose", format!("Purposes are {}", PURPOSES.map(|(p, _)| p).join(", "))));
    };
    let mut conn = state.db.get().await?;
    let platform = load(&mut conn).await?;
    let provider = match input.provider_id.trim() {
        "" => None,
        raw => match raw.parse::<i64>().ok().and_then(|id| platform.providers.iter().find(|p| p.id == id)) {
            Some(p) => Some(p.clone()),
            None => {
                c.fail("provider_id", "Choose one of the providers listed above");
                None
            }
        },
    };
    if let Some(p) = &provider
        && p.kind.serves_images() != (purpose == IMAGE_PURPOSE)
    {
        c.fail("provider_id", if purpose == IMAGE_PURPOSE { "Images need an image provider" } else { "Text needs a chat provider" });
    }
    let model = c.text("model", &input.model, "Model", if provider.is_some() { 1 } else { 0 }, 100);
    let fallback = c.text("fallback_model", &input.fallback_model, "Fallback model", 0, 100);
    c.finish()?;
    let who = Who::from(ctx);
    conn.transaction::<_, AppError, _>(async |conn| {
        match &provider {
            None => {
                diesel::delete(purposes::table.find(purpose)).execute(conn).await?;
            }
            Some(p) => {
                let fallback = Some(fallback.clone()).filter(|f| !f.is_empty());
                let values = (
                    purposes::purpose.eq(purpose),
                    purposes::provider_id.eq(p.id),
                    purposes::model.eq(&model),
                    purposes::fallback_model.eq(&fallback),
                    purposes::updated_at.eq(diesel::dsl::now),
                );
                diesel::insert_into(purposes::table)
                    .values(values)
                    .on_conflict(purposes::purpose)
                    .do_update()
                    .set(values)
                    .execute(conn)
                    .await?;
            }
        }
        let detail = serde_json::json!({ "provider_id": provider.as_ref().map(|p| p.id), "model": model, "fallback_model": fallback });
        audit::record(conn, &who, "platform_ai.route_saved", ("platform_ai_purpose", purpose.to_string()), detail).await
    })
    .await?;
    // As in `save_provider`: released before `view` takes another.
    drop(conn);
    state.platform_ai.forget();
    view(state, ctx).await
}
