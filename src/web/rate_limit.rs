//! Request rate limits (seed §10.7), counted in Redis so every replica shares them, in one-minute fixed windows:
//! - per client IP (`web::client_ip`): every request but static files and the probes;
//! - per workspace: the requests that queue paid AI work — [`AI_SPENDING`] is the one list of them;
//! - per API token (keyed by the token's hash, so a refused call is turned away before any lookup or write).
//!
//! Over a limit: 429 `rate_limited` with `Retry-After` (rendered like every `AppError`: a page, a toast or
//! JSON). Every counted response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` for
//! the limit closest to running out.
//!
//! Fails open: when Redis is down or does not answer within its short timeout (`kv::RedisPool::bounded`)
//! requests pass, a warning is logged at most once a minute, and /readyz notes that the limits are off.

use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use futures_util::StreamExt;

use crate::auth::resolve::{self, API_TOKEN_PREFIX};
use crate::crypto::secrets::sha256_hex;
use crate::error::AppError;
use crate::kv;
use crate::state::AppState;
use crate::tenancy::TenantCtx;

const WINDOW_SECS: u64 = 60;
/// Largest body read to tell an AI action of a bulk form from the others (the JSON extractor's own limit).
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A request that queues paid AI work: a POST to `pattern` (the route pattern as registered) — when `field`
/// is set, only with that body field (form or JSON) holding one of the values, for forms that can also
/// delete or move.
pub struct AiRoute {
    pub pattern: &'static str,
    pub field: Option<(&'static str, &'static [&'static str])>,
}

const fn any(pattern: &'static str) -> AiRoute {
    AiRoute { pattern, field: None }
}

const fn when(pattern: &'static str, field: &'static str, values: &'static [&'static str]) -> AiRoute {
    AiRoute { pattern, field: Some((field, values)) }
}

/// Every request that spends AI: clustering with AI, ideas, article generation, images, reparse, prompt tests
/// (the playground and the provider test) and automation "Run now". A new AI action adds its route here.
pub const AI_SPENDING: &[AiRoute] = &[
    when("/planner/keywords/bulk", "action", &["cluster_ai"]),
    when("/api/planner/keywords/bulk", "action", &["cluster_ai"]),
    when("/api/planner/cluster", "mode", &["ai"]),
    when("/planner/clusters/bulk", "action", &["ideas"]),
    any("/api/planner/clusters/ideas"),
    when("/writer/tasks/bulk", "action", &["generate", "images", "reparse"]),
    any("/writer/tasks/{id}/generate"),
    any("/writer/tasks/{id}/reparse"),
    any("/writer/tasks/{id}/images"),
    any("/writer/images/{id}/regenerate"),
    any("/api/writer/tasks/generate"),
    any("/api/writer/tasks/reparse"),
    any("/api/writer/tasks/images"),
    any("/api/writer/images/{id}/regenerate"),
    any("/thinker/playground"),
    any("/thinker/playground/image"),
    any("/api/thinker/playground"),
    any("/api/thinker/playground/image"),
    any("/settings/ai/test"),
    any("/api/settings/ai/test"),
    any("/automation/{step}/run"),
    any("/api/automation/{step}/run"),
];

/// Static files and the probes are not counted (a load balancer polls them; pages pull many assets).
fn exempt(path: &str) -> bool {
    path.starts_with("/static/") || path == "/healthz" || path == "/readyz"
}

/// One limit's state after this request was counted.
#[derive(Debug, Clone, Copy)]
struct Count {
    limit: u32,
    used: u64,
    /// Seconds until the window ends.
    reset: u64,
}

impl Count {
    fn over(&self) -> bool {
        self.used > self.limit as u64
    }
    fn remaining(&self) -> u64 {
        (self.limit as u64).saturating_sub(self.used)
    }
    fn set_headers(&self, h: &mut HeaderMap) {
        for (name, v) in
            [("ratelimit-limit", self.limit as u64), ("ratelimit-remaining", self.remaining()), ("ratelimit-reset", self.reset)]
        {
            h.insert(HeaderName::from_static(name), HeaderValue::from(v));
        }
    }
}

/// The middleware (registered in `app::server`): counts the request against each limit it falls under and
/// refuses it with 429 before anything runs when one is exceeded.
pub async fn limit(req: ServiceRequest, next: Next<impl MessageBody + 'static>) -> Result<ServiceResponse<BoxBody>, Error> {
    let state = match req.app_data::<web::Data<AppState>>() {
        Some(s) if !exempt(req.path()) => s.clone(),
        _ => return next.call(req).await.map(ServiceResponse::map_into_boxed_body),
    };
    let cfg = &state.config;
    let ns = &cfg.redis_namespace;
    let ip = crate::web::client_ip(req.request(), cfg).unwrap_or_else(|| "unknown".into());
    let mut keys = vec![(kv::key(ns, &format!("rate:ip:{ip}"), "count"), cfg.rate_ip_per_min, "network")];
    if let Some(token) = api_token(&req) {
        keys.push((kv::key(ns, &format!("rate:token:{}", &sha256_hex(token)[..32]), "count"), cfg.rate_token_per_min, "API token"));
    }
    let mut counts = count(&state, &keys).await;
    if let Some((c, who)) = counts.iter().zip(&keys).find(|(c, _)| c.over()).map(|(c, k)| (*c, k.2)) {
        return Ok(refuse(req, c, &format!("Too many requests from this {who}.")));
    }
    let mut req = req;
    match ai_spending_tenant(&state, &mut req).await {
        Ok(Some(tenant_id)) => {
            let ai = count(&state, &[(kv::key(ns, &tenant_id.to_string(), "rate:ai"), cfg.rate_ai_per_min, "workspace")]).await;
            if let Some(c) = ai.iter().find(|c| c.over()) {
                return Ok(refuse(req, *c, "Too many AI requests from this workspace."));
            }
            counts.extend(ai);
        }
        Ok(None) => {}
        Err(e) => return Ok(req.error_response(e).map_into_boxed_body()),
    }
    let mut res = next.call(req).await?.map_into_boxed_body();
    if let Some(c) = counts.iter().min_by_key(|c| c.remaining()) {
        c.set_headers(res.headers_mut());
    }
    Ok(res)
}

fn refuse(req: ServiceRequest, c: Count, message: &str) -> ServiceResponse<BoxBody> {
    let wait = c.reset.max(1);
    let err = AppError::TooManyRequests { message: format!("{message} Try again in {wait} seconds."), retry_after_secs: wait };
    let mut res = req.error_response(err).map_into_boxed_body();
    c.set_headers(res.headers_mut());
    res
}

fn api_token(req: &ServiceRequest) -> Option<&str> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ").map(str::trim).filter(|t| t.starts_with(API_TOKEN_PREFIX))
}

/// Counts one request against each `(key, limit, _)` in one round trip. Empty when Redis is unavailable
/// (the limits are then off: fail open).
async fn count(state: &AppState, keys: &[(String, u32, &str)]) -> Vec<Count> {
    let res = state.redis.bounded(async {
        let mut conn = state.redis.get().await.map_err(|e| e.to_string())?;
        let mut pipe = kv::redis::pipe();
        for (key, _, _) in keys {
            pipe.incr(key, 1).expire(key, WINDOW_SECS as i64).arg("NX").ignore().ttl(key);
        }
        pipe.query_async::<Vec<i64>>(&mut conn).await.map_err(|e| e.to_string())
    });
    match res.await {
        Ok(v) => keys
            .iter()
            .zip(v.chunks(2))
            .map(|((_, limit, _), r)| Count {
                limit: *limit,
                used: r.first().copied().unwrap_or(0).max(0) as u64,
                reset: r.get(1).copied().filter(|t| *t > 0).map(|t| t as u64).unwrap_or(WINDOW_SECS),
            })
            .collect(),
        Err(e) => {
            warn_limits_off(&e);
            vec![]
        }
    }
}

/// Seconds since the epoch of the last "limits are off" warning: one a minute, not one a request.
static LAST_WARNED: AtomicU64 = AtomicU64::new(0);

fn warn_limits_off(error: &str) {
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let last = LAST_WARNED.load(Ordering::Relaxed);
    if now >= last + 60 && LAST_WARNED.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
        tracing::warn!(error, "request rate limits are off: Redis is unavailable; requests pass uncounted");
    }
}

/// The workspace an AI-spending request spends for, or `None` for any other request (and for one without
/// valid credentials, which its handler refuses anyway). The context is cached for the `TenantCtx` extractor,
/// so it is resolved once.
async fn ai_spending_tenant(state: &AppState, req: &mut ServiceRequest) -> Result<Option<i64>, AppError> {
    if req.method() != Method::POST {
        return Ok(None);
    }
    let Some(pattern) = req.match_pattern() else { return Ok(None) };
    let Some(route) = AI_SPENDING.iter().find(|r| r.pattern == pattern) else { return Ok(None) };
    if let Some((field, values)) = route.field {
        let body = peek_body(req).await?;
        let json = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
        let value = body_field(&body, json, field);
        if !value.as_deref().is_some_and(|v| values.contains(&v)) {
            return Ok(None);
        }
    }
    let cached = req.extensions().get::<Rc<TenantCtx>>().map(|c| c.tenant_id);
    if let Some(id) = cached {
        return Ok(Some(id));
    }
    match resolve::tenant_ctx(state, req.request()).await {
        Ok(ctx) => {
            let id = ctx.tenant_id;
            req.extensions_mut().insert(Rc::new(ctx));
            Ok(Some(id))
        }
        Err(_) => Ok(None),
    }
}

/// Reads the body and puts it back for the handler.
async fn peek_body(req: &mut ServiceRequest) -> Result<web::Bytes, AppError> {
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AppError::BadRequest("The request body could not be read".into()))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(AppError::BadRequest("The request body is too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    req.set_payload(Payload::from(body.clone()));
    Ok(body)
}

fn body_field(body: &[u8], json: bool, field: &str) -> Option<String> {
    if json {
        let v: serde_json::Value = serde_json::from_slice(body).ok()?;
        return v.get(field)?.as_str().map(str::to_string);
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    pairs.into_iter().find(|(k, _)| k == field).map(|(_, v)| v)
}

/// For /readyz: the limits count only while Redis answers.
pub fn readiness_note(redis: &Result<(), String>) -> serde_json::Value {
    match redis {
        Ok(()) => serde_json::json!({ "on": true }),
        Err(_) => serde_json::json!({ "on": false, "note": "request rate limits are off while Redis is unavailable" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_forms_count_only_their_ai_actions() {
        assert_eq!(body_field(b"csrf_token=x&action=cluster_ai&ids=1", false, "action").as_deref(), Some("cluster_ai"));
        assert_eq!(body_field(br#"{"mode":"ai","keyword_ids":[1]}"#, true, "mode").as_deref(), Some("ai"));
        assert_eq!(body_field(b"action=delete", false, "mode"), None);
    }

    #[test]
    fn probes_and_static_files_are_not_counted() {
        assert!(exempt("/healthz") && exempt("/readyz") && exempt("/static/app.css"));
        assert!(!exempt("/login") && !exempt("/api/me"));
    }

    #[test]
    fn counts_report_what_is_left() {
        let c = Count { limit: 3, used: 4, reset: 20 };
        assert!(c.over());
        assert_eq!(c.remaining(), 0);
        assert!(!Count { limit: 3, used: 3, reset: 20 }.over());
    }
}
