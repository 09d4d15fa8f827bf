//! Settings → AI: each workspace's providers, models and keys. Keys are sealed with the vault and only
//! ever shown masked.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::billing::plans::Plan;
use crate::crypto::vault::{Vault, mask};
use crate::db::schema::ai_settings;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::validate::Check;

/// "platform": the service's providers (the default); "openai" / "runware": the workspace's own key (a plan option);
/// "dev": the offline dev provider, where the server offers it.
pub const TEXT_PROVIDERS: [&str; 3] = ["platform", "openai", "dev"];
pub const IMAGE_PROVIDERS: [&str; 4] = ["platform", "openai", "runware", "dev"];

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ai_settings)]
pub struct AiSettings {
    pub text_provider: String,
    pub text_base_url: String,
    pub text_api_key_enc: Option<String>,
    pub text_model: String,
    pub fallback_model: Option<String>,
    pub image_provider: String,
    pub image_base_url: String,
    pub image_api_key_enc: Option<String>,
    pub image_model: String,
    pub images_per_article: i16,
}

impl Default for AiSettings {
    fn default() -> Self {
        AiSettings {
            text_provider: "platform".into(),
            text_base_url: "https://api.openai.com/v1".into(),
            text_api_key_enc: None,
            text_model: "gpt-4o-mini".into(),
            fallback_model: None,
            image_provider: "platform".into(),
            image_base_url: String::new(),
            image_api_key_enc: None,
            image_model: "dall-e-3".into(),
            images_per_article: 2,
        }
    }
}

/// Each process keeps a workspace's settings for a few seconds, so a busy worker pool does not read
/// them for every call. Saving clears this process's copy at once; other replicas follow within the TTL.
#[derive(Default)]
pub struct SettingsCache(std::sync::Mutex<std::collections::HashMap<i64, (std::time::Instant, AiSettings, bool)>>);

const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(10);

impl SettingsCache {
    pub async fn get(&self, state: &AppState, tenant_id: i64) -> AppResult<AiSettings> {
        Ok(self.get_with_plan(state, tenant_id).await?.0)
    }

    /// The settings and whether the workspace's plan lets it use its own key.
    pub async fn get_with_plan(&self, state: &AppState, tenant_id: i64) -> AppResult<(AiSettings, bool)> {
        if let Some((at, s, own)) = self.0.lock().unwrap().get(&tenant_id)
            && at.elapsed() < CACHE_TTL
        {
            return Ok((s.clone(), *own));
        }
        let mut conn = state.db.get().await?;
        let s = load(&mut conn, tenant_id).await?;
        let own = own_key_allowed(&mut conn, tenant_id).await?;
        self.0.lock().unwrap().insert(tenant_id, (std::time::Instant::now(), s.clone(), own));
        Ok((s, own))
    }

    pub fn forget(&self, tenant_id: i64) {
        self.0.lock().unwrap().remove(&tenant_id);
    }
}

/// Whether the workspace's plan includes using its own AI key.
pub async fn own_key_allowed(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<bool> {
    use crate::db::schema::{plans, tenants};
    Ok(tenants::table
        .inner_join(plans::table)
        .filter(tenants::id.eq(tenant_id))
        .select(plans::own_ai_key)
        .first(conn)
        .await
        .optional()?
        .unwrap_or(false))
}

pub async fn load(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<AiSettings> {
    Ok(ai_settings::table.find(tenant_id).select(AiSettings::as_select()).first(conn).await.optional()?.unwrap_or_default())
}

/// What pages and the API show: never a key, only its mask.
#[derive(Debug, Clone, Serialize)]
pub struct AiSettingsView {
    pub text_provider: String,
    pub text_base_url: String,
    pub text_key: Option<String>,
    pub text_model: String,
    pub fallback_model: String,
    pub image_provider: String,
    pub image_base_url: String,
    pub image_key: Option<String>,
    pub image_model: String,
    pub images_per_article: i16,
}

impl AiSettings {
    pub fn view(&self, vault: &Vault) -> AiSettingsView {
        let masked = |enc: &Option<String>| {
            enc.as_deref().map(|e| vault.open(e).map(|k| mask(&k)).unwrap_or_else(|_| "(unreadable — enter it again)".into()))
        };
        AiSettingsView {
            text_provider: self.text_provider.clone(),
            text_base_url: self.text_base_url.clone(),
            text_key: masked(&self.text_api_key_enc),
            text_model: self.text_model.clone(),
            fallback_model: self.fallback_model.clone().unwrap_or_default(),
            image_provider: self.image_provider.clone(),
            image_base_url: self.image_base_url.clone(),
            image_key: masked(&self.image_api_key_enc),
            image_model: self.image_model.clone(),
            images_per_article: self.images_per_article,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AiSettingsInput {
    #[serde(default)]
    pub text_provider: String,
    #[serde(default)]
    pub text_base_url: String,
    /// Empty keeps the stored key.
    #[serde(default)]
    pub text_api_key: String,
    #[serde(default)]
    pub clear_text_key: Option<String>,
    #[serde(default)]
    pub text_model: String,
    #[serde(default)]
    pub fallback_model: String,
    #[serde(default)]
    pub image_provider: String,
    #[serde(default)]
    pub image_base_url: String,
    #[serde(default)]
    pub image_api_key: String,
    #[serde(default)]
    pub clear_image_key: Option<String>,
    #[serde(default)]
    pub image_model: String,
    /// In-article images per article, 0–4 (empty keeps 2).
    #[serde(default, deserialize_with = "crate::validate::text_or_number")]
    pub images_per_article: String,
}

/// One provider choice: empty is the platform's; an own key needs a plan that includes it; the dev provider only
/// where the server offers it.
fn provider_choice(state: &AppState, check: &mut Check, plan: &Plan, field: &str, raw: &str, allowed: &[&str]) -> String {
    let choice = match raw.trim() {
        "" => "platform",
        given => given,
    };
    if !allowed.contains(&choice) {
        check.fail(field, format!("Choose one of {}", allowed.join(", ")));
    } else if choice == "dev" && !state.config.ai_dev_provider {
        check.fail(field, "The offline dev provider is off on this server");
    } else if choice != "platform" && choice != "dev" && !plan.own_ai_key {
        check.fail(
            field,
            format!(
                "The {} plan does not include using your own AI key; the platform's providers serve this workspace (Pro and Agency include it)",
                plan.name
            ),
        );
    }
    choice.to_string()
}

fn checked(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty() && s != "false" && s != "0")
}

pub async fn save(state: &AppState, ctx: &TenantCtx, input: &AiSettingsInput) -> AppResult<AiSettingsView> {
    ctx.require(Perm::ManageSettings)?;
    let mut check = Check::new();
    let plan = state.plans.get(&state.db, &ctx.plan_code).await?;
    let text_provider = provider_choice(state, &mut check, &plan, "text_provider", &input.text_provider, &TEXT_PROVIDERS);
    let image_provider = provider_choice(state, &mut check, &plan, "image_provider", &input.image_provider, &IMAGE_PROVIDERS);
    let text_model = check.text("text_model", &input.text_model, "Text model", 1, 100);
    let fallback_model = check.text("fallback_model", &input.fallback_model, "Fallback model", 0, 100);
    let image_model = check.text("image_model", &input.image_model, "Image model", 1, 100);
    let text_base_url = match input.text_base_url.trim() {
        "" => "https://api.openai.com/v1".to_string(),
        url => check.text("text_base_url", url, "Base URL", 1, 300),
    };
    let image_base_url = check.text("image_base_url", &input.image_base_url, "Image base URL", 0, 300);
    let text_key = check.text("text_api_key", &input.text_api_key, "API key", 0, 400);
    let image_key = check.text("image_api_key", &input.image_api_key, "Image API key", 0, 400);
    let images_per_article: i16 = match input.images_per_article.trim() {
        "" => 2,
        raw => raw.parse().ok().filter(|n| (0..=4).contains(n)).unwrap_or_else(|| {
            check.fail("images_per_article", "In-article images: a number from 0 to 4");
            2
        }),
    };
    for (field, url) in [("text_base_url", &text_base_url), ("image_base_url", &image_base_url)] {
        if !url.is_empty()
            && !check.errors.contains_key(field)
            && let Err(msg) = crate::outbound::check_url(url, state.config.allow_private_targets).await
        {
            check.fail(field, msg);
        }
    }
    check.finish()?;

    let mut conn = state.db.get().await?;
    let current = load(&mut conn, ctx.tenant_id).await?;
    let seal = |new: &str, clear: bool, old: Option<String>| {
        if clear {
            None
        } else if !new.is_empty() {
            Some(state.vault.seal(new))
        } else {
            old
        }
    };
    let row = AiSettings {
        text_provider,
        text_base_url: text_base_url.trim_end_matches('/').to_string(),
        text_api_key_enc: seal(&text_key, checked(&input.clear_text_key), current.text_api_key_enc),
        text_model,
        fallback_model: Some(fallback_model).filter(|m| !m.is_empty()),
        image_provider,
        image_base_url: image_base_url.trim_end_matches('/').to_string(),
        image_api_key_enc: seal(&image_key, checked(&input.clear_image_key), current.image_api_key_enc),
        image_model,
        images_per_article,
    };
    if row.text_provider == "openai" && row.text_api_key_enc.is_none() && row.text_base_url.contains("api.openai.com") {
        return Err(AppError::field("text_api_key", "OpenAI needs an API key"));
    }
    let detail = serde_json::json!({
        "text_provider": row.text_provider, "text_model": row.text_model, "image_provider": row.image_provider,
        "image_model": row.image_model, "text_key_changed": !text_key.is_empty() || checked(&input.clear_text_key),
        "image_key_changed": !image_key.is_empty() || checked(&input.clear_image_key),
    });
    store(&mut conn, &Who::from(ctx), &row, detail).await?;
    state.ai_settings.forget(ctx.tenant_id);
    Ok(row.view(&state.vault))
}

/// Writes the workspace's settings and the audit event in one transaction.
async fn store(conn: &mut AsyncPgConnection, who: &Who, row: &AiSettings, detail: serde_json::Value) -> AppResult<()> {
    let values = (
        ai_settings::tenant_id.eq(who.tenant_id),
        ai_settings::text_provider.eq(&row.text_provider),
        ai_settings::text_base_url.eq(&row.text_base_url),
        ai_settings::text_api_key_enc.eq(&row.text_api_key_enc),
        ai_settings::text_model.eq(&row.text_model),
        ai_settings::fallback_model.eq(&row.fallback_model),
        ai_settings::image_provider.eq(&row.image_provider),
        ai_settings::image_base_url.eq(&row.image_base_url),
        ai_settings::image_api_key_enc.eq(&row.image_api_key_enc),
        ai_settings::image_model.eq(&row.image_model),
        ai_settings::images_per_article.eq(row.images_per_article),
        ai_settings::updated_at.eq(diesel::dsl::now),
    );
    diesel_async::AsyncConnection::transaction::<_, AppError, _>(conn, async move |conn| {
        diesel::insert_into(ai_settings::table)
            .values(values)
            .on_conflict(ai_settings::tenant_id)
            .do_update()
            .set(values)
            .execute(conn)
            .await?;
        audit::record(conn, who, "settings.ai_updated", ("tenant", who.tenant_id.to_string()), detail).await
    })
    .await
}

/// The result of "Test connection": the answer, or the exact error.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionTest {
    pub ok: bool,
    pub provider: String,
    pub model: String,
    pub answer: String,
    pub error: String,
    pub latency_ms: u128,
}

/// Makes one tiny real call with the saved settings.
pub async fn test_connection(state: &AppState, ctx: &TenantCtx) -> AppResult<ConnectionTest> {
    ctx.require(Perm::ManageSettings)?;
    let s = state.ai_settings.get(state, ctx.tenant_id).await?;
    let mut req = super::ChatRequest::new("You are a connection test.", "Reply with the single word OK.");
    req.max_tokens = 16;
    req.temperature = 0.0;
    let started = std::time::Instant::now();
    let res = super::router::chat(state, ctx.tenant_id, None, req).await;
    let latency_ms = started.elapsed().as_millis();
    Ok(match res {
        Ok(r) => {
            ConnectionTest { ok: true, provider: s.text_provider, model: r.model, answer: r.content, error: String::new(), latency_ms }
        }
        Err(e) => ConnectionTest {
            ok: false,
            provider: s.text_provider,
            model: s.text_model,
            answer: String::new(),
            error: e.to_string(),
            latency_ms,
        },
    })
}
