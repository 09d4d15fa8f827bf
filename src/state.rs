//! The state every request, job and scheduled run shares: configuration, the database and Redis pools,
//! caches, and the outbound HTTP clients. Built once per process; the app, the workers and the CLI hold it.

use std::sync::Arc;
use std::time::Instant;

use crate::auth::jwt::JwtKeys;
use crate::billing::plans::{Plan, PlanCache};
use crate::config::Config;
use crate::crypto::vault::Vault;
use crate::db::DbPool;
use crate::jobs::Registry;
use crate::kv::RedisPool;
use crate::web::metrics::Metrics;

/// What the modules contribute to the state, assembled in `app::parts`: the queue knows no module, the AI layer
/// no prompt, and the dev provider no answer until these are handed in.
#[derive(Default)]
pub struct Parts {
    pub jobs: Registry,
    pub prompts: crate::ai::prompts::Library,
    pub dev_answers: crate::ai::dev::DevAnswers,
}

pub struct AppState {
    pub config: Arc<Config>,
    pub db: DbPool,
    pub redis: RedisPool,
    pub jwt: JwtKeys,
    pub started: Instant,
    pub metrics: Arc<Metrics>,
    pub plans: PlanCache,
    pub vault: Vault,
    pub ai_settings: crate::ai::settings::SettingsCache,
    /// The platform's AI providers and routes (System → AI providers).
    pub platform_ai: crate::ai::platform::PlatformCache,
    /// The AI providers' HTTP client (connection reuse; no redirects).
    pub http: reqwest::Client,
    /// WordPress calls: no redirects (the Authorization header must not follow one to another host).
    pub wp_http: reqwest::Client,
    /// Every job kind, registered where the app is assembled (`app::parts`).
    pub jobs: Arc<Registry>,
    /// Every built-in prompt, declared by the modules that run them.
    pub prompts: crate::ai::prompts::Library,
    /// How the offline dev provider answers each module's prompts.
    pub dev_answers: Arc<crate::ai::dev::DevAnswers>,
    /// Set at SIGTERM: /readyz answers 503 so the load balancer stops sending new work here.
    pub draining: std::sync::atomic::AtomicBool,
    /// This installation's id (`install_id`), read once.
    install: tokio::sync::OnceCell<String>,
}

impl AppState {
    pub fn ai_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.config.ai_timeout_secs as u64)
    }

    /// A short random id of this installation (its database), made on first use and kept in the system settings:
    /// it keeps markers IGNY8 leaves on shared outside systems (media on a WordPress site) apart from those of
    /// another installation publishing to the same site.
    pub async fn install_id(&self) -> crate::error::AppResult<String> {
        self.install
            .get_or_try_init(|| async {
                use crate::db::schema::system_settings as s;
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                let mut conn = self.db.get().await?;
                let fresh = crate::crypto::secrets::random_token(6).to_lowercase().replace(['-', '_'], "0");
                diesel::insert_into(s::table)
                    .values((s::key.eq("install.id"), s::value.eq(&fresh)))
                    .on_conflict_do_nothing()
                    .execute(&mut conn)
                    .await?;
                Ok(s::table.filter(s::key.eq("install.id")).select(s::value).first::<String>(&mut conn).await?)
            })
            .await
            .cloned()
    }

    /// Stopping (SIGTERM): start nothing new.
    pub fn is_draining(&self) -> bool {
        self.draining.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub async fn plan(&self, code: &str) -> crate::error::AppResult<Plan> {
        self.plans.get(&self.db, code).await
    }
}

impl AppState {
    /// The state of a process made of `parts` (`app::parts()` for the app).
    pub fn new(config: Config, parts: Parts) -> anyhow::Result<Self> {
        let allow_private = config.allow_private_targets;
        Ok(AppState {
            db: crate::db::pool(&config.database_url, config.db_pool_size)?,
            redis: crate::kv::pool(&config.redis_url, config.redis_timeout())?,
            jwt: JwtKeys::new(&config.secret_key),
            vault: Vault::new(&config.secret_key),
            ai_settings: Default::default(),
            platform_ai: Default::default(),
            config: Arc::new(config),
            started: Instant::now(),
            metrics: Arc::new(Metrics::default()),
            plans: PlanCache::default(),
            http: reqwest::Client::builder()
                .user_agent(concat!("IGNY8/", env!("CARGO_PKG_VERSION")))
                // A redirect is an error naming where it points (`ai::read_reply`): following one could take the key
                // and the prompt to an address the guard never checked.
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(std::time::Duration::from_secs(10))
                .dns_resolver(crate::outbound::resolver(allow_private))
                .build()?,
            wp_http: crate::wordpress::http_client(allow_private),
            jobs: Arc::new(parts.jobs),
            prompts: parts.prompts,
            dev_answers: Arc::new(parts.dev_answers),
            draining: Default::default(),
            install: Default::default(),
        })
    }
}
