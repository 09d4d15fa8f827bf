//! The WordPress REST client: one site, one user, Basic auth with an application password. Every call has a
//! timeout and a cap on the answer's size; redirects are not followed (a redirect to another host would
//! carry the password there). The self-test (`diagnose`) and publishing use only this.

pub mod diagnose;
pub mod posts;
pub mod sign;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;

/// JSON answers larger than this are refused (the REST index of a site with many plugins is ~1 MB).
const MAX_JSON: usize = 8 * 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(30);
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// Nanoseconds this process has spent waiting on WordPress (request sent → answer read), for the publishing
/// benchmark's "our share" and for operators.
pub static WAITED_NANOS: AtomicU64 = AtomicU64::new(0);

pub static CALLS: AtomicU64 = AtomicU64::new(0);

pub fn waited() -> Duration {
    Duration::from_nanos(WAITED_NANOS.load(Ordering::Relaxed))
}

pub fn calls() -> u64 {
    CALLS.load(Ordering::Relaxed)
}

/// Where the REST API lives: `/wp-json/` (pretty permalinks) or `/?rest_route=` (works on every site).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestRoot {
    Pretty,
    Plain,
}

impl RestRoot {
    pub fn as_str(&self) -> &'static str {
        match self {
            RestRoot::Pretty => "wp-json",
            RestRoot::Plain => "rest_route",
        }
    }
    pub fn parse(s: &str) -> Option<RestRoot> {
        match s {
            "wp-json" => Some(RestRoot::Pretty),
            "rest_route" => Some(RestRoot::Plain),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub enum WpError {
    /// No answer: refused, timed out, TLS failure, DNS.
    Unreachable(String),
    /// An HTTP error with WordPress's `{code, message}` when the body had them.
    Api { status: u16, code: String, message: String, data: Value },
    /// A 2xx answer that is not the JSON expected (an HTML page, a cut-off body).
    Malformed(String),
}

impl WpError {
    pub fn status(&self) -> Option<u16> {
        match self {
            WpError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
    pub fn code(&self) -> &str {
        match self {
            WpError::Api { code, .. } => code,
            _ => "",
        }
    }
    /// Worth retrying later: no answer, a 5xx, or 429.
    pub fn is_transient(&self) -> bool {
        match self {
            WpError::Unreachable(_) => true,
            WpError::Api { status, .. } => *status >= 500 || *status == 429,
            WpError::Malformed(_) => false,
        }
    }
}

impl std::fmt::Display for WpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WpError::Unreachable(m) => write!(f, "the site did not answer: {m}"),
            WpError::Api { status, code, message, .. } if code.is_empty() => write!(f, "WordPress answered HTTP {status}{}", tail(message)),
            WpError::Api { status, code, message, .. } => write!(f, "WordPress answered HTTP {status} ({code}){}", tail(message)),
            WpError::Malformed(m) => write!(f, "unexpected answer from the site: {m}"),
        }
    }
}

fn tail(message: &str) -> String {
    if message.is_empty() { String::new() } else { format!(": {message}") }
}

/// Answers' bodies are read chunk by chunk and refused past `limit` bytes.
pub async fn read_limited(res: reqwest::Response, limit: usize) -> Result<Vec<u8>, WpError> {
    crate::outbound::read_limited(res, limit).await.map_err(|e| match e {
        crate::outbound::ReadError::TooLarge(m) => WpError::Malformed(m),
        crate::outbound::ReadError::Transport(e) => WpError::Unreachable(short(&e)),
    })
}

fn short(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    if e.is_connect() {
        return "connection refused or failed".into();
    }
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s = format!("{s}: {inner}");
        src = inner.source();
    }
    s
}

/// One WordPress site as seen by one user.
#[derive(Clone)]
pub struct Wp {
    http: reqwest::Client,
    pub base: String,
    pub root: RestRoot,
    auth: String,
}

/// A client for WordPress calls: no redirects, its own timeouts, names resolved to public addresses only
/// (unless private targets are allowed).
pub fn http_client(allow_private: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("IGNY8/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(crate::outbound::resolver(allow_private))
        .connect_timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(8)
        .build()
        .expect("the WordPress HTTP client builds")
}

impl Wp {
    pub fn new(http: reqwest::Client, base: &str, root: RestRoot, user: &str, password: &str) -> Wp {
        // WordPress strips spaces from application passwords; the grouped form users copy works too.
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        Wp { http, base: base.trim_end_matches('/').to_string(), root, auth: format!("Basic {token}") }
    }

    pub fn with_root(&self, root: RestRoot) -> Wp {
        Wp { root, ..self.clone() }
    }

    /// The URL of a REST route (`/wp/v2/posts`) with query pairs, in this site's REST form.
    pub fn url(&self, route: &str, query: &[(&str, String)]) -> String {
        let q = serde_urlencoded::to_string(query).unwrap_or_default();
        match self.root {
            RestRoot::Pretty => format!("{}/wp-json{}{}{}", self.base, route, if q.is_empty() { "" } else { "?" }, q),
            RestRoot::Plain => {
                let r = serde_urlencoded::to_string([("rest_route", route)]).unwrap_or_default();
                format!("{}/?{}{}{}", self.base, r, if q.is_empty() { "" } else { "&" }, q)
            }
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Value, WpError> {
        let started = Instant::now();
        let answer = async {
            let res = req.send().await.map_err(|e| WpError::Unreachable(short(&e)))?;
            let status = res.status().as_u16();
            Ok::<_, WpError>((status, read_limited(res, MAX_JSON).await?))
        }
        .await;
        WAITED_NANOS.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        CALLS.fetch_add(1, Ordering::Relaxed);
        let (status, body) = answer?;
        let json: Option<Value> = serde_json::from_slice(&body).ok();
        if !(200..300).contains(&status) {
            let j = json.unwrap_or(Value::Null);
            let text = |k: &str| j.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            return Err(WpError::Api {
                status,
                code: text("code"),
                message: strip_tags(&text("message")),
                data: j.get("data").cloned().unwrap_or(Value::Null),
            });
        }
        json.ok_or_else(|| {
            WpError::Malformed(format!(
                "HTTP {status} but not JSON: {}",
                String::from_utf8_lossy(&body).chars().take(80).collect::<String>()
            ))
        })
    }

    /// GET without credentials (discovery).
    pub async fn get_public(&self, route: &str) -> Result<Value, WpError> {
        self.get_public_with(route, &[]).await
    }

    /// A GET without credentials, with a query.
    pub async fn get_public_with(&self, route: &str, query: &[(&str, String)]) -> Result<Value, WpError> {
        self.send(self.http.get(self.url(route, query)).timeout(TIMEOUT)).await
    }

    pub async fn get(&self, route: &str, query: &[(&str, String)]) -> Result<Value, WpError> {
        self.send(self.http.get(self.url(route, query)).header("Authorization", &self.auth).timeout(TIMEOUT)).await
    }

    pub async fn get_with(&self, route: &str, headers: &[(&str, String)]) -> Result<Value, WpError> {
        let mut req = self.http.get(self.url(route, &[])).header("Authorization", &self.auth).timeout(TIMEOUT);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        self.send(req).await
    }

    pub async fn post(&self, route: &str, body: &Value) -> Result<Value, WpError> {
        self.send(self.http.post(self.url(route, &[])).header("Authorization", &self.auth).json(body).timeout(TIMEOUT)).await
    }

    pub async fn delete(&self, route: &str, query: &[(&str, String)]) -> Result<Value, WpError> {
        self.send(self.http.delete(self.url(route, query)).header("Authorization", &self.auth).timeout(TIMEOUT)).await
    }

    /// Uploads a file to the media library; `query` carries fields such as `alt_text` and `post`.
    pub async fn upload(&self, filename: &str, content_type: &str, bytes: Vec<u8>, query: &[(&str, String)]) -> Result<Value, WpError> {
        let req = self
            .http
            .post(self.url("/wp/v2/media", query))
            .header("Authorization", &self.auth)
            .header("Content-Type", content_type)
            .header("Content-Disposition", format!("attachment; filename=\"{filename}\""))
            .body(bytes)
            .timeout(UPLOAD_TIMEOUT);
        self.send(req).await
    }

    /// Plain GET of the site's home page: is anything there at all?
    pub async fn reach(&self) -> Result<u16, WpError> {
        let res = self.http.get(format!("{}/", self.base)).timeout(TIMEOUT).send().await.map_err(|e| WpError::Unreachable(short(&e)))?;
        Ok(res.status().as_u16())
    }
}

/// WordPress puts `<strong>Error:</strong>` in some messages.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for ch in s.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

/// `rendered` or raw string fields of a REST object.
pub fn text_of(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(o) => o.get("raw").or_else(|| o.get("rendered")).and_then(|x| x.as_str()).unwrap_or_default().to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_both_rest_forms() {
        let wp = Wp::new(reqwest::Client::new(), "https://ex.com/blog/", RestRoot::Pretty, "u", "p");
        assert_eq!(wp.url("/wp/v2/posts", &[("slug", "a b".into())]), "https://ex.com/blog/wp-json/wp/v2/posts?slug=a+b");
        let wp = wp.with_root(RestRoot::Plain);
        assert_eq!(wp.url("/wp/v2/posts", &[("slug", "a".into())]), "https://ex.com/blog/?rest_route=%2Fwp%2Fv2%2Fposts&slug=a");
        assert_eq!(wp.url("/", &[]), "https://ex.com/blog/?rest_route=%2F");
        assert_eq!(strip_tags("<strong>Error:</strong> Unknown username."), "Error: Unknown username.");
    }
}
