//! One typed configuration, read from the environment (and `.env` in development) and validated at start.
//! A bad value stops start-up with a message naming the variable and what it expects.

use std::net::SocketAddr;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// JSON when stdout is not a terminal (a file, a pipe, a container log), readable text on a terminal.
    Auto,
    Text,
    Json,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub redis_url: String,
    /// Prefix of every Redis key this process writes; lets several apps share one Redis.
    pub redis_namespace: String,
    pub bind: SocketAddr,
    pub base_url: String,
    pub secret_key: String,
    pub workers: u32,
    pub scheduler: bool,
    pub allow_private_targets: bool,
    pub trust_proxy: bool,
    pub db_pool_size: usize,
    pub session_hours: i64,
    pub log_format: LogFormat,
    /// Failed sign-ins from one IP at one account before each further one makes that pair wait longer;
    /// failed sign-ins allowed per IP (all accounts) within the throttle window.
    pub login_max_failures_email: u32,
    pub login_max_failures_ip: u32,
    pub login_window_secs: u64,
    /// Jobs of one tenant running at once, across all processes.
    pub jobs_per_tenant: u32,
    pub job_lease_secs: u32,
    /// How often idle workers look for work when no Redis wake-up arrives.
    pub job_poll_ms: u32,
    /// Retry backoff base: base × 2^attempt, ±25 %.
    pub job_backoff_ms: u32,
    /// How long one AI provider call may take.
    pub ai_timeout_secs: u32,
    /// The offline dev provider may serve workspaces (free "sample" output): development and tests only.
    pub ai_dev_provider: bool,
    /// Calls per model per window (a minute unless `ai_rate_window_secs` says otherwise), shared by all
    /// replicas (seed §10.7); each workspace calling the model gets a fair share of it.
    pub ai_rate_per_min: u32,
    /// The window the per-model budget counts over, in seconds (60; shorter only to rehearse the limit).
    pub ai_rate_window_secs: u32,
    /// After SIGTERM: seconds during which /readyz answers 503 while requests are still served.
    pub drain_secs: u32,
    /// A generated article shorter than this share of the asked word count is refused (per cent).
    pub writer_min_words_percent: u32,
    /// Folder of the sentence-embedding model "Cluster by meaning" runs (`scripts/fetch-model.sh` fills it);
    /// without its files that mode is shown disabled with the reason.
    pub model_dir: String,

    // Operations: Redis timeout, /metrics, backups.
    /// How long a request waits for Redis before going on without it.
    pub redis_timeout_ms: u32,
    /// Bearer token for /metrics; without one /metrics is not served (404).
    pub metrics_token: Option<String>,
    /// Folder `igny8 backup` and the scheduled backup write to; unset = scheduled backups are skipped.
    pub backup_dir: Option<String>,
    /// Backups older than this are removed after each new backup (seed §10.10: 7 days).
    pub backup_keep_days: u32,
    /// Folder holding pg_dump and pg_restore (default: found on PATH).
    pub pg_bin_dir: Option<String>,

    // Billing (Stripe).
    /// Where Stripe's API is reached (tests point it at a fake on loopback).
    pub stripe_api_base: String,
    /// Secret API key; without one, checkout, portal and packs answer 503 and say billing is not set up.
    pub stripe_secret_key: Option<String>,
    /// The webhook endpoint's signing secret (`whsec_…`); without one, /webhooks/stripe answers 503.
    pub stripe_webhook_secret: Option<String>,
    /// Paid plan code → Stripe price id (`IGNY8_STRIPE_PRICE_STARTER`, `_PRO`, `_AGENCY`).
    pub stripe_prices: std::collections::BTreeMap<String, String>,
    /// The one-time price of a credit pack, and how many credits a pack adds.
    pub stripe_pack_price: Option<String>,
    pub credit_pack_credits: u32,
    /// Days a past-due workspace keeps working after a failed payment before it is suspended.
    pub billing_grace_days: u32,
    /// Outgoing mail; `None` when no SMTP host is set (links are then shown on screen only).
    pub smtp: Option<SmtpConfig>,
    /// Sign-ups allowed per IP address per hour.
    pub signup_max_per_ip: u32,

    // Request rate limits (seed §10.7; web::rate_limit), per minute, shared by all replicas through Redis.
    /// Requests per client IP (everything but static files and the probes).
    pub rate_ip_per_min: u32,
    /// Requests that queue paid AI work, per workspace (`web::rate_limit::AI_SPENDING`).
    pub rate_ai_per_min: u32,
    /// Requests per API token.
    pub rate_token_per_min: u32,
    /// With `trust_proxy`: how many proxies in front of the app append to `X-Forwarded-For`; the client is the
    /// hop that many places from the right (see `web::client_ip`).
    pub trusted_proxies: u32,
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP (a relay on the same host or a loopback test server).
    None,
    /// Plain connection upgraded with STARTTLS (required).
    StartTls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
}

#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub user: Option<String>,
    pub password: Option<String>,
    /// The From header, e.g. `IGNY8 <no-reply@example.com>`.
    pub from: String,
}

// The password stays out of logs and panics.
impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

fn smtp_from(get: &impl Fn(&str) -> Option<String>) -> Result<Option<SmtpConfig>, ConfigError> {
    let Some(host) = get("IGNY8_SMTP_HOST") else { return Ok(None) };
    let tls = match get("IGNY8_SMTP_TLS").as_deref() {
        None | Some("starttls") => SmtpTls::StartTls,
        Some("tls") => SmtpTls::Tls,
        Some("none") => SmtpTls::None,
        Some(other) => return Err(err("IGNY8_SMTP_TLS", format!("expected 'starttls', 'tls' or 'none', got '{other}'"))),
    };
    let default_port = match tls {
        SmtpTls::None => 25,
        SmtpTls::StartTls => 587,
        SmtpTls::Tls => 465,
    };
    let port = parse_num(get, "IGNY8_SMTP_PORT", default_port, 1, 65_535)? as u16;
    let from = get("IGNY8_MAIL_FROM")
        .ok_or_else(|| err("IGNY8_MAIL_FROM", "is required with IGNY8_SMTP_HOST, e.g. IGNY8 <no-reply@example.com>"))?;
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(err("IGNY8_MAIL_FROM", format!("expected an address such as IGNY8 <no-reply@example.com>, got '{from}'")));
    }
    let user = get("IGNY8_SMTP_USER");
    let password = get("IGNY8_SMTP_PASSWORD");
    if user.is_some() != password.is_some() {
        return Err(err("IGNY8_SMTP_PASSWORD", "set both IGNY8_SMTP_USER and IGNY8_SMTP_PASSWORD, or neither"));
    }
    Ok(Some(SmtpConfig { host, port, tls, user, password, from }))
}

#[derive(Debug, thiserror::Error)]
#[error("configuration error: {var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

fn err(var: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError { var, problem: problem.into() }
}

impl Config {
    /// Reads the process environment (after loading `.env` when present).
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Builds a config from any key lookup; the tests feed it maps.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());

        let database_url =
            get("DATABASE_URL").ok_or_else(|| err("DATABASE_URL", "is required, e.g. postgres://postgres@127.0.0.1:5432/igny8"))?;
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(err("DATABASE_URL", format!("expected a postgres:// URL, got '{database_url}'")));
        }
        let redis_url = get("REDIS_URL").unwrap_or_else(|| "redis://127.0.0.1:6379".into());
        if !redis_url.starts_with("redis://") && !redis_url.starts_with("rediss://") {
            return Err(err("REDIS_URL", format!("expected a redis:// URL, got '{redis_url}'")));
        }
        let redis_namespace = get("IGNY8_REDIS_NAMESPACE").unwrap_or_else(|| "igny8".into());
        if !redis_namespace.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(err("IGNY8_REDIS_NAMESPACE", "use letters, digits, '-' and '_' only"));
        }
        let bind_raw = get("IGNY8_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind: SocketAddr =
            bind_raw.parse().map_err(|_| err("IGNY8_BIND", format!("expected host:port such as 127.0.0.1:8080, got '{bind_raw}'")))?;
        let base_url = get("IGNY8_BASE_URL").unwrap_or_else(|| format!("http://{bind}"));
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(err("IGNY8_BASE_URL", format!("expected an http:// or https:// URL, got '{base_url}'")));
        }
        let secret_key = get("IGNY8_SECRET_KEY")
            .ok_or_else(|| err("IGNY8_SECRET_KEY", "is required: at least 32 random characters (scripts/dev.sh generates one)"))?;
        if secret_key.len() < 32 {
            return Err(err("IGNY8_SECRET_KEY", format!("must be at least 32 characters, got {}", secret_key.len())));
        }
        Ok(Config {
            database_url,
            redis_url,
            redis_namespace,
            bind,
            base_url: base_url.trim_end_matches('/').to_string(),
            secret_key,
            workers: parse_num(&get, "IGNY8_WORKERS", 2, 0, 256)?,
            scheduler: parse_bool(&get, "IGNY8_SCHEDULER", true)?,
            allow_private_targets: parse_bool(&get, "IGNY8_ALLOW_PRIVATE_TARGETS", false)?,
            trust_proxy: parse_bool(&get, "IGNY8_TRUST_PROXY", false)?,
            db_pool_size: parse_num(&get, "IGNY8_DB_POOL_SIZE", 16, 1, 512)? as usize,
            session_hours: parse_num(&get, "IGNY8_SESSION_HOURS", 12, 1, 24 * 30)? as i64,
            log_format: match get("IGNY8_LOG_FORMAT").as_deref() {
                None | Some("auto") => LogFormat::Auto,
                Some("text") => LogFormat::Text,
                Some("json") => LogFormat::Json,
                Some(other) => return Err(err("IGNY8_LOG_FORMAT", format!("expected 'auto', 'text' or 'json', got '{other}'"))),
            },
            login_max_failures_email: parse_num(&get, "IGNY8_LOGIN_MAX_FAILURES_EMAIL", 5, 1, 1000)?,
            login_max_failures_ip: parse_num(&get, "IGNY8_LOGIN_MAX_FAILURES_IP", 20, 1, 100_000)?,
            login_window_secs: parse_num(&get, "IGNY8_LOGIN_WINDOW_SECS", 900, 1, 86_400)? as u64,
            jobs_per_tenant: parse_num(&get, "IGNY8_JOBS_PER_TENANT", 4, 1, 1000)?,
            job_lease_secs: parse_num(&get, "IGNY8_JOB_LEASE_SECS", 30, 1, 3600)?,
            job_poll_ms: parse_num(&get, "IGNY8_JOB_POLL_MS", 1000, 10, 60_000)?,
            job_backoff_ms: parse_num(&get, "IGNY8_JOB_BACKOFF_MS", 1000, 1, 600_000)?,
            ai_timeout_secs: parse_num(&get, "IGNY8_AI_TIMEOUT_SECS", 60, 1, 600)?,
            ai_dev_provider: parse_bool(&get, "IGNY8_AI_DEV_PROVIDER", false)?,
            ai_rate_per_min: parse_num(&get, "IGNY8_AI_RATE_PER_MIN", 60, 1, 100_000)?,
            ai_rate_window_secs: parse_num(&get, "IGNY8_AI_RATE_WINDOW_SECS", 60, 1, 3600)?,
            drain_secs: parse_num(&get, "IGNY8_DRAIN_SECS", 5, 0, 600)?,
            writer_min_words_percent: parse_num(&get, "IGNY8_WRITER_MIN_WORDS_PERCENT", 50, 1, 100)?,
            model_dir: get("IGNY8_MODEL_DIR").unwrap_or_else(|| "models/all-minilm-l6-v2".into()),

            redis_timeout_ms: parse_num(&get, "IGNY8_REDIS_TIMEOUT_MS", 150, 10, 10_000)?,
            metrics_token: match get("IGNY8_METRICS_TOKEN") {
                Some(t) if t.len() < 16 => {
                    return Err(err("IGNY8_METRICS_TOKEN", format!("must be at least 16 characters, got {}", t.len())));
                }
                t => t,
            },
            backup_dir: get("IGNY8_BACKUP_DIR"),
            backup_keep_days: parse_num(&get, "IGNY8_BACKUP_KEEP_DAYS", 7, 1, 3650)?,
            pg_bin_dir: get("IGNY8_PG_BIN_DIR"),

            smtp: smtp_from(&get)?,
            signup_max_per_ip: parse_num(&get, "IGNY8_SIGNUP_MAX_PER_IP", 10, 1, 100_000)?,
            rate_ip_per_min: parse_num(&get, "IGNY8_RATE_IP_PER_MIN", 100, 1, 10_000_000)?,
            rate_ai_per_min: parse_num(&get, "IGNY8_RATE_AI_PER_MIN", 30, 1, 10_000_000)?,
            rate_token_per_min: parse_num(&get, "IGNY8_RATE_TOKEN_PER_MIN", 120, 1, 10_000_000)?,
            trusted_proxies: parse_num(&get, "IGNY8_TRUSTED_PROXIES", 1, 1, 32)?,
            stripe_api_base: {
                let b = get("IGNY8_STRIPE_API_BASE").unwrap_or_else(|| "https://api.stripe.com".into());
                if !b.starts_with("http://") && !b.starts_with("https://") {
                    return Err(err("IGNY8_STRIPE_API_BASE", format!("expected an http:// or https:// URL, got '{b}'")));
                }
                b.trim_end_matches('/').to_string()
            },
            stripe_secret_key: get("IGNY8_STRIPE_SECRET_KEY").filter(|v| !v.is_empty()),
            stripe_webhook_secret: get("IGNY8_STRIPE_WEBHOOK_SECRET").filter(|v| !v.is_empty()),
            stripe_prices: [
                ("starter", "IGNY8_STRIPE_PRICE_STARTER"),
                ("pro", "IGNY8_STRIPE_PRICE_PRO"),
                ("agency", "IGNY8_STRIPE_PRICE_AGENCY"),
            ]
            .into_iter()
            .filter_map(|(plan, var)| get(var).filter(|v| !v.is_empty()).map(|price| (plan.to_string(), price)))
            .collect(),
            stripe_pack_price: get("IGNY8_STRIPE_PACK_PRICE").filter(|v| !v.is_empty()),
            credit_pack_credits: parse_num(&get, "IGNY8_CREDIT_PACK_CREDITS", 100, 1, 1_000_000)?,
            billing_grace_days: parse_num(&get, "IGNY8_BILLING_GRACE_DAYS", 7, 0, 90)?,
        })
    }

    /// The Stripe price id of a paid plan, when configured.
    pub fn stripe_price(&self, plan: &str) -> Option<&str> {
        self.stripe_prices.get(plan).map(String::as_str)
    }

    /// The plan a Stripe price id stands for.
    pub fn plan_for_price(&self, price: &str) -> Option<&str> {
        self.stripe_prices.iter().find(|(_, p)| p.as_str() == price).map(|(plan, _)| plan.as_str())
    }

    pub fn redis_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.redis_timeout_ms as u64)
    }

    /// Cookies get `Secure` when the public URL is https.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

fn parse_num(get: &impl Fn(&str) -> Option<String>, var: &'static str, default: u32, min: u32, max: u32) -> Result<u32, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(err(var, format!("expected a whole number from {min} to {max}, got '{raw}'"))),
        },
    }
}

fn parse_bool(get: &impl Fn(&str) -> Option<String>, var: &'static str, default: bool) -> Result<bool, ConfigError> {
    match get(var).map(|v| v.to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if ["1", "true", "on", "yes"].contains(&v.as_str()) => Ok(true),
        Some(v) if ["0", "false", "off", "no"].contains(&v.as_str()) => Ok(false),
        Some(v) => Err(err(var, format!("expected on/off (or true/false), got '{v}'"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }
    const DB: (&str, &str) = ("DATABASE_URL", "postgres://postgres@127.0.0.1/igny8");
    const KEY: (&str, &str) = ("IGNY8_SECRET_KEY", "0123456789abcdef0123456789abcdef");

    #[test]
    fn defaults_apply() {
        let c = cfg(&[DB, KEY]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.session_hours, 12);
        assert!(!c.allow_private_targets);
        assert!(!c.secure_cookies());
    }

    #[test]
    fn missing_and_malformed_values_name_the_variable() {
        assert_eq!(cfg(&[KEY]).unwrap_err().var, "DATABASE_URL");
        assert_eq!(cfg(&[DB]).unwrap_err().var, "IGNY8_SECRET_KEY");
        assert_eq!(cfg(&[DB, ("IGNY8_SECRET_KEY", "short")]).unwrap_err().var, "IGNY8_SECRET_KEY");
        let e = cfg(&[DB, KEY, ("IGNY8_BIND", "nowhere")]).unwrap_err();
        assert_eq!(e.var, "IGNY8_BIND");
        assert!(e.to_string().contains("host:port"), "{e}");
        assert_eq!(cfg(&[DB, KEY, ("IGNY8_WORKERS", "-3")]).unwrap_err().var, "IGNY8_WORKERS");
        assert_eq!(cfg(&[DB, KEY, ("IGNY8_SCHEDULER", "maybe")]).unwrap_err().var, "IGNY8_SCHEDULER");
        assert_eq!(cfg(&[DB, KEY, ("IGNY8_LOG_FORMAT", "xml")]).unwrap_err().var, "IGNY8_LOG_FORMAT");
        assert_eq!(cfg(&[DB, KEY, ("IGNY8_METRICS_TOKEN", "short")]).unwrap_err().var, "IGNY8_METRICS_TOKEN");
        assert_eq!(cfg(&[DB, KEY, ("IGNY8_REDIS_TIMEOUT_MS", "0")]).unwrap_err().var, "IGNY8_REDIS_TIMEOUT_MS");
        assert_eq!(cfg(&[DB, KEY, ("IGNY8_BACKUP_KEEP_DAYS", "0")]).unwrap_err().var, "IGNY8_BACKUP_KEEP_DAYS");
    }

    #[test]
    fn operations_defaults() {
        let c = cfg(&[DB, KEY]).unwrap();
        assert_eq!(c.log_format, LogFormat::Auto);
        assert_eq!(c.redis_timeout_ms, 150);
        assert_eq!(c.metrics_token, None);
        assert_eq!(c.backup_keep_days, 7);
        assert_eq!(c.backup_dir, None);
        assert_eq!((c.rate_ip_per_min, c.rate_ai_per_min, c.rate_token_per_min, c.trusted_proxies), (100, 30, 120, 1));
        assert_eq!(cfg(&[DB, KEY, ("IGNY8_TRUSTED_PROXIES", "0")]).unwrap_err().var, "IGNY8_TRUSTED_PROXIES");
    }

    #[test]
    fn smtp_settings() {
        assert!(cfg(&[DB, KEY]).unwrap().smtp.is_none());
        let c = cfg(&[DB, KEY, ("IGNY8_SMTP_HOST", "mail.example.com"), ("IGNY8_MAIL_FROM", "IGNY8 <no-reply@example.com>")]).unwrap();
        let smtp = c.smtp.unwrap();
        assert_eq!((smtp.port, smtp.tls), (587, SmtpTls::StartTls));
        assert_eq!(cfg(&[DB, KEY, ("IGNY8_SMTP_HOST", "m")]).unwrap_err().var, "IGNY8_MAIL_FROM");
        let bad_tls = [DB, KEY, ("IGNY8_SMTP_HOST", "m"), ("IGNY8_MAIL_FROM", "a@b.c"), ("IGNY8_SMTP_TLS", "ssl")];
        assert_eq!(cfg(&bad_tls).unwrap_err().var, "IGNY8_SMTP_TLS");
        let half = [DB, KEY, ("IGNY8_SMTP_HOST", "m"), ("IGNY8_MAIL_FROM", "a@b.c"), ("IGNY8_SMTP_USER", "u")];
        assert_eq!(cfg(&half).unwrap_err().var, "IGNY8_SMTP_PASSWORD");
    }

    #[test]
    fn stripe_prices_map_both_ways() {
        let c = cfg(&[DB, KEY, ("IGNY8_STRIPE_PRICE_PRO", "price_pro1"), ("IGNY8_STRIPE_PRICE_STARTER", "")]).unwrap();
        assert_eq!(c.stripe_price("pro"), Some("price_pro1"));
        assert_eq!(c.stripe_price("starter"), None);
        assert_eq!(c.plan_for_price("price_pro1"), Some("pro"));
        assert_eq!(c.plan_for_price("price_other"), None);
        assert_eq!(c.billing_grace_days, 7);
        assert_eq!(cfg(&[DB, KEY, ("IGNY8_STRIPE_API_BASE", "stripe")]).unwrap_err().var, "IGNY8_STRIPE_API_BASE");
    }

    #[test]
    fn https_base_url_makes_cookies_secure() {
        let c = cfg(&[DB, KEY, ("IGNY8_BASE_URL", "https://app.example.com/")]).unwrap();
        assert!(c.secure_cookies());
        assert_eq!(c.base_url, "https://app.example.com");
    }
}
