//! Builds the application: shared state, middleware and every module's routes.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};

use crate::auth::jwt::JwtKeys;
use crate::auth::vault::Vault;
use crate::billing::plans::{Plan, PlanCache};
use crate::config::Config;
use crate::db::DbPool;
use crate::error::AppError;
use crate::kv::RedisPool;
use crate::web::middleware::{self, Metrics};

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
    /// One HTTP client for every outbound call (connection reuse).
    pub http: reqwest::Client,
    /// WordPress calls: no redirects (the Authorization header must not follow one to another host).
    pub wp_http: reqwest::Client,
}

impl AppState {
    pub fn ai_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.config.ai_timeout_secs as u64)
    }

    pub async fn plan(&self, code: &str) -> crate::error::AppResult<Plan> {
        self.plans.get(&self.db, code).await
    }
}

impl AppState {
    pub fn new(config: Config) -> anyhow::Result<Self> {
        let allow_private = config.allow_private_targets;
        Ok(AppState {
            db: crate::db::pool(&config.database_url, config.db_pool_size)?,
            redis: crate::kv::pool(&config.redis_url)?,
            jwt: JwtKeys::new(&config.secret_key),
            vault: Vault::new(&config.secret_key),
            ai_settings: Default::default(),
            config: Arc::new(config),
            started: Instant::now(),
            metrics: Arc::new(Metrics::default()),
            plans: PlanCache::default(),
            http: reqwest::Client::builder()
                .user_agent(concat!("IGNY8/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(std::time::Duration::from_secs(10))
                .dns_resolver(crate::outbound::resolver(allow_private))
                .build()?,
            wp_http: crate::wordpress::http_client(allow_private),
        })
    }
}

/// Every module's routes, in one list.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/{path:.*}", web::get().to(crate::web::assets::serve));
    crate::auth::routes(cfg);
    crate::modules::dashboard::routes(cfg);
    crate::modules::team::routes(cfg);
    crate::modules::system::routes(cfg);
    crate::modules::billing_page::routes(cfg);
    crate::modules::settings::routes(cfg);
    crate::modules::migration::routes(cfg);
    crate::modules::planner::routes(cfg);
    crate::modules::writer::routes(cfg);
    crate::modules::thinker::routes(cfg);
    crate::modules::sites::routes(cfg);
    crate::modules::publish::routes(cfg);
    crate::modules::automation::routes(cfg);
}

/// Input that cannot be parsed becomes a clear 4xx through `AppError`, never a 500.
fn extractor_config(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::FormConfig::default()
            .limit(256 * 1024)
            .error_handler(|e, _| AppError::BadRequest(format!("The form could not be read: {e}")).into()),
    )
    .app_data(web::JsonConfig::default().limit(1024 * 1024).error_handler(|e, _| {
        let msg = match &e {
            actix_web::error::JsonPayloadError::ContentType => "Send the body as JSON (Content-Type: application/json)".to_string(),
            actix_web::error::JsonPayloadError::Deserialize(d) => format!("The JSON body is not valid: {d}"),
            other => format!("The JSON body could not be read: {other}"),
        };
        AppError::BadRequest(msg).into()
    }))
    .app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
    .app_data(web::QueryConfig::default().error_handler(|e, _| AppError::BadRequest(format!("The query string is not valid: {e}")).into()));
}

pub fn server(state: Arc<AppState>, listener: TcpListener) -> std::io::Result<Server> {
    let state = web::Data::from(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .configure(extractor_config)
            .configure(routes)
            .default_service(web::to(|| async { Err::<actix_web::HttpResponse, _>(AppError::NotFound) }))
            .wrap(from_fn(middleware::csrf))
            .wrap(Compress::default())
            .wrap(middleware::security_headers())
            .wrap(from_fn(middleware::request_id_and_errors))
    })
    .listen(listener)?
    .shutdown_timeout(10)
    .run();
    Ok(server)
}
