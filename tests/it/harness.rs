//! Test harness: each test gets the real app on a random port, a fresh Postgres database cloned from a
//! migrated template, and its own Redis key namespace on the real Redis.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use igny8::app::server;
use igny8::config::Config;
use igny8::crypto::secrets::{random_token, sha256_hex};
use igny8::jobs::worker::{self, WorkerConfig};
use igny8::state::AppState;
use reqwest::redirect::Policy;
use tokio::sync::OnceCell;

pub const SECRET: &str = "test-secret-key-0123456789abcdef-0123456789";
pub const PASSWORD: &str = "correct horse battery";

fn pg_base() -> String {
    std::env::var("IGNY8_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub fn redis_url() -> String {
    std::env::var("IGNY8_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// The template's name changes whenever a migration changes, so a stale template is never reused.
fn template_name() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut entries: Vec<_> = walk(&dir);
    entries.sort();
    let mut all = String::new();
    for p in entries {
        all.push_str(&p.display().to_string());
        all.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
    }
    format!("igny8_tpl_{}", &sha256_hex(&all)[..16])
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).expect("migrations dir").flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

async fn admin() -> AsyncPgConnection {
    AsyncPgConnection::establish(&format!("{}/postgres", pg_base())).await.expect("Postgres for tests is reachable")
}

async fn template() -> String {
    TEMPLATE
        .get_or_init(|| async {
            let name = template_name();
            let mut conn = admin().await;
            // Serialise template creation across test processes.
            diesel::sql_query("SELECT pg_advisory_lock(80088)").execute(&mut conn).await.unwrap();
            let exists: i64 = diesel::sql_query(format!("SELECT 1::bigint AS n FROM pg_database WHERE datname = '{name}'"))
                .load::<N>(&mut conn)
                .await
                .unwrap()
                .len() as i64;
            if exists == 0 {
                let building = format!("{name}_building");
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {building}")).execute(&mut conn).await.unwrap();
                diesel::sql_query(format!("CREATE DATABASE {building}")).execute(&mut conn).await.unwrap();
                let pool = igny8::db::pool(&format!("{}/{building}", pg_base()), 1).unwrap();
                igny8::db::migrate(&pool).await.expect("migrations apply");
                pool.close();
                drop(pool);
                diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}")).execute(&mut conn).await.unwrap();
            }
            diesel::sql_query("SELECT pg_advisory_unlock(80088)").execute(&mut conn).await.unwrap();
            name
        })
        .await
        .clone()
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    #[allow(dead_code)]
    n: i64,
}

pub struct TestApp {
    pub base: String,
    pub db_url: String,
    #[allow(dead_code)]
    pub config: Config,
    #[allow(dead_code)]
    pub state: Arc<AppState>,
    /// The in-process workers (when IGNY8_WORKERS > 0 for this app); tests may kill them.
    #[allow(dead_code)]
    pub workers: Option<Mutex<Option<worker::Workers>>>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&redis_url(), HashMap::new()).await
    }

    pub async fn spawn_with(redis: &str, extra: HashMap<&str, String>) -> TestApp {
        let tpl = template().await;
        let db = format!("igny8_test_{}", random_token(9).to_lowercase().replace(['-', '_'], "x"));
        let mut conn = admin().await;
        diesel::sql_query(format!("CREATE DATABASE {db} TEMPLATE {tpl}")).execute(&mut conn).await.expect("clone template");
        let namespace = format!("t{}", random_token(6).replace(['-', '_'], "x"));
        Self::start(format!("{}/{db}", pg_base()), redis.to_string(), namespace, extra).await
    }

    /// Same database and Redis as `self`, its own server and workers: a second replica of the app.
    pub async fn replica(&self, extra: HashMap<&str, String>) -> TestApp {
        Self::start(self.db_url.clone(), self.config.redis_url.clone(), self.config.redis_namespace.clone(), extra).await
    }

    async fn start(db_url: String, redis: String, namespace: String, extra: HashMap<&str, String>) -> TestApp {
        let mut env: HashMap<&str, String> = HashMap::from([
            ("DATABASE_URL", db_url.clone()),
            ("REDIS_URL", redis),
            ("IGNY8_REDIS_NAMESPACE", namespace),
            ("IGNY8_SECRET_KEY", SECRET.to_string()),
            ("IGNY8_BIND", "127.0.0.1:0".into()),
            ("IGNY8_DB_POOL_SIZE", "6".into()),
            // Web-only unless a test asks for workers.
            ("IGNY8_WORKERS", "0".into()),
            ("IGNY8_JOB_POLL_MS", "50".into()),
            ("IGNY8_JOB_BACKOFF_MS", "10".into()),
            // The offline dev provider serves workspaces with no other provider (free "sample" output).
            ("IGNY8_AI_DEV_PROVIDER", "on".into()),
            // Tests send many requests from one address; the rate-limit tests lower these explicitly.
            ("IGNY8_RATE_IP_PER_MIN", "1000000".into()),
            ("IGNY8_RATE_AI_PER_MIN", "1000000".into()),
            ("IGNY8_RATE_TOKEN_PER_MIN", "1000000".into()),
            // Redis calls give up after 150 ms in production and the app carries on without Redis (limits and
            // throttles fail open). A loaded test machine can exceed that on a healthy Redis, which would turn
            // unrelated tests into tests of that fallback; the hung-Redis tests set the production value.
            ("IGNY8_REDIS_TIMEOUT_MS", "2000".into()),
        ]);
        env.extend(extra);
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test config");
        if std::env::var_os("RUST_LOG").is_some() {
            igny8::init_tracing(&config);
        }
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(igny8::app::state(config.clone()).unwrap());
        tokio::spawn(server(state.clone(), listener).unwrap());
        let workers = match config.workers {
            0 => None,
            _ => Some(Mutex::new(Some(worker::start(state.clone(), WorkerConfig::from_config(&config)).await.expect("workers start")))),
        };
        TestApp { base: format!("http://127.0.0.1:{port}"), db_url, config, state, workers }
    }

    /// Lets every plan of this test's database use its own AI key, for tests of the own-key path itself (the plan rule
    /// has its own test in `platform_ai`).
    pub async fn allow_own_ai_keys(&self) {
        let mut conn = self.db().await;
        diesel::sql_query("UPDATE plans SET own_ai_key = true").execute(&mut conn).await.unwrap();
    }

    /// Simulates a crash of this app's workers: stopped at once, nothing released, and the database
    /// connections dropped as a dead process's would be (Postgres rolls back what they had open).
    #[allow(dead_code)]
    pub fn kill_workers(&self) {
        if let Some(w) = self.workers.as_ref().and_then(|m| m.lock().unwrap().take()) {
            w.kill();
        }
        self.state.db.close();
    }

    /// Graceful stop of this app's workers, as at SIGTERM.
    #[allow(dead_code)]
    pub async fn shutdown_workers(&self, grace: std::time::Duration) {
        let w = self.workers.as_ref().and_then(|m| m.lock().unwrap().take());
        if let Some(w) = w {
            w.shutdown(&self.state, grace).await;
        }
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    pub async fn db(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.db_url).await.unwrap()
    }

    /// Row count of a table, for "nothing was written" checks.
    pub async fn count(&self, table: &str) -> i64 {
        #[derive(QueryableByName)]
        struct C {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            c: i64,
        }
        let mut conn = self.db().await;
        diesel::sql_query(format!("SELECT count(*)::bigint AS c FROM {table}")).get_result::<C>(&mut conn).await.unwrap().c
    }

    /// Changes a tenant's plan (billing arrives later; tests need room for a team).
    pub async fn set_plan(&self, tenant_id: i64, plan: &str) {
        use igny8::db::schema::tenants;
        let mut conn = self.db().await;
        diesel::update(tenants::table.find(tenant_id)).set(tenants::plan_code.eq(plan)).execute(&mut conn).await.unwrap();
    }

    /// Signs up a new owner with a new workspace; returns the signed-in browser and the tenant id.
    pub async fn signup(&self, name: &str, email: &str, workspace: &str) -> (Browser, i64) {
        let b = self.browser();
        let res = b.post_form("/signup", &[("name", name), ("email", email), ("workspace", workspace), ("password", PASSWORD)]).await;
        assert_eq!(res.status(), 303, "signup failed: {}", res.text().await.unwrap_or_default());
        assert_eq!(res.headers()["location"], "/signup/sent");
        // Sign-up does not sign in (its answer must not differ for a known email): sign in as the user would.
        let res = b.post_form("/login", &[("email", email), ("password", PASSWORD)]).await;
        assert_eq!(res.status(), 303, "sign-in after sign-up failed: {}", res.text().await.unwrap_or_default());
        let me: serde_json::Value = b.get("/api/me").await.json().await.unwrap();
        let tid = me["tenant"]["id"].as_i64().expect("tenant id");
        (b, tid)
    }

    /// A workspace on the Agency plan with one signed-in browser per role.
    pub async fn team(&self, tag: &str) -> Team {
        let (owner, tenant_id) = self.signup("Olive Owner", &format!("owner-{tag}@example.com"), &format!("Workspace {tag}")).await;
        self.set_plan(tenant_id, "agency").await;
        let mut members = HashMap::new();
        for role in ["admin", "editor", "viewer"] {
            let email = format!("{role}-{tag}@example.com");
            let b = self.join(&owner, &email, role).await;
            members.insert(role, b);
        }
        Team {
            tenant_id,
            owner,
            admin: members.remove("admin").unwrap(),
            editor: members.remove("editor").unwrap(),
            viewer: members.remove("viewer").unwrap(),
        }
    }

    /// Invites `email` as `role` through the API and accepts it as a new user; returns their browser.
    pub async fn join(&self, inviter: &Browser, email: &str, role: &str) -> Browser {
        let res = inviter.api_post("/api/team/invites", serde_json::json!({ "email": email, "role": role })).await;
        assert_eq!(res.status(), 201, "invite failed");
        let body: serde_json::Value = res.json().await.unwrap();
        let url = body["accept_url"].as_str().unwrap().to_string();
        let path = url.split_once("/invite/").map(|(_, t)| format!("/invite/{t}")).unwrap();
        let b = self.browser();
        let res = b.post_form(&path, &[("name", &format!("{role} person")), ("password", PASSWORD)]).await;
        assert_eq!(res.status(), 303, "accept failed");
        b
    }
}

pub struct Team {
    pub tenant_id: i64,
    pub owner: Browser,
    pub admin: Browser,
    pub editor: Browser,
    pub viewer: Browser,
}

/// A browser: cookie jar, no automatic redirects, and the CSRF token its pages carry.
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
    csrf: Mutex<Option<String>>,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let client = reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap();
        Browser { base: base.to_string(), client, csrf: Mutex::new(None) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// The CSRF token (read once from a page's hidden field; the cookie holds the same value).
    pub async fn csrf(&self) -> String {
        if let Some(t) = self.csrf.lock().unwrap().clone() {
            return t;
        }
        let html = self.get("/login").await.text().await.unwrap();
        let token = extract_csrf(&html).expect("csrf field on the login page");
        *self.csrf.lock().unwrap() = Some(token.clone());
        token
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.client.post(self.url(path)).form(&all).send().await.unwrap()
    }

    pub async fn post_form_no_csrf(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(self.url(path)).form(fields).send().await.unwrap()
    }

    /// A JSON call with the session cookie, sending the CSRF header as the HTMX pages do.
    pub async fn api(&self, method: reqwest::Method, path: &str, body: Option<serde_json::Value>) -> reqwest::Response {
        let token = self.csrf().await;
        let mut req = self.client.request(method, self.url(path)).header("x-csrf-token", token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    pub async fn api_post(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.api(reqwest::Method::POST, path, Some(body)).await
    }
}

pub fn extract_csrf(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf_token\" value=\"")? + "name=\"csrf_token\" value=\"".len();
    Some(html[at..].split('"').next()?.to_string())
}
