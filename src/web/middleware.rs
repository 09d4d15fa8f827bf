//! Request-wide middleware: request ids, error rendering, request metrics and the access log, security
//! headers (web::headers), CSRF.

use std::rc::Rc;
use std::sync::atomic::Ordering;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::StreamExt;
use tracing::Instrument;

use crate::crypto::secrets::{constant_time_eq, random_token};
use crate::error::AppError;
use crate::state::AppState;
use crate::tenancy::{Actor, TenantCtx};
use crate::web::assets::{AssetUrls, URLS};
use crate::web::metrics::UNMATCHED;
use crate::web::{FLASH_COOKIE, Toast, flash_cookie};

pub const CSRF_COOKIE: &str = "igny8_csrf";
pub const CSRF_FIELD: &str = "csrf_token";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Largest urlencoded body the CSRF check will buffer (forms are small; uploads use multipart).
const MAX_FORM_BYTES: usize = 256 * 1024;

#[derive(Clone, Debug)]
pub struct RequestId(pub String);

#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

/// Outermost: gives each request an id (header, logs, error pages), renders every `AppError` as an HTML
/// page, an HTMX toast or a JSON body by what the request accepts, counts the request for /metrics and writes
/// its access-log line.
pub async fn request_id_and_errors(req: ServiceRequest, next: Next<impl MessageBody + 'static>) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = random_token(9);
    req.extensions_mut().insert(RequestId(id.clone()));
    // What error rendering needs from the request, taken now: the request itself may not be cloned
    // before routing, and a middleware error does not hand it back.
    let info = ReqInfo::of(req.request());
    let method = req.method().clone();
    let secure = req.app_data::<web::Data<AppState>>().is_some_and(|s| s.config.secure_cookies());
    let metrics = req.app_data::<web::Data<AppState>>().map(|s| s.metrics.clone());
    if let Some(m) = &metrics {
        m.in_flight.fetch_add(1, Ordering::Relaxed);
    }
    // No path here: it can hold secrets (invite and media links); the access line names the route template.
    let span = tracing::info_span!("request", request_id = %id);
    let started = std::time::Instant::now();

    let outcome = next.call(req).instrument(span.clone()).await;
    let _enter = span.enter();
    let done = |status: u16, req: Option<&HttpRequest>| {
        let elapsed = started.elapsed();
        let route = req.and_then(|r| r.match_pattern()).unwrap_or_else(|| UNMATCHED.to_string());
        if let Some(m) = &metrics {
            m.in_flight.fetch_sub(1, Ordering::Relaxed);
            m.record(&route, &method, status, elapsed);
        }
        access_log(req, &route, &method, status, elapsed, &id);
    };
    let mut res = match outcome {
        Ok(res) => {
            let app_err = res.response().error().and_then(|e| e.as_error::<AppError>()).map(|e| render_error(&info, e, &id));
            match app_err {
                Some(mut rendered) => {
                    // Rate-limit headers set by an inner layer survive the re-rendering.
                    for (name, value) in res.headers().iter().filter(|(n, _)| n.as_str().starts_with("ratelimit-")) {
                        rendered.headers_mut().insert(name.clone(), value.clone());
                    }
                    res.into_response(rendered)
                }
                None if res.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    let rendered = render_error(&info, &AppError::BadRequest("The request body is too large".into()), &id);
                    res.into_response(rendered)
                }
                None => res.map_into_boxed_body(),
            }
        }
        Err(e) => {
            let rendered = match e.as_error::<AppError>() {
                Some(app_err) => render_error(&info, app_err, &id),
                None => render_error(&info, &AppError::BadRequest(e.to_string()), &id),
            };
            let mut rendered = rendered;
            crate::web::headers::apply(rendered.headers_mut(), &info.path, secure, info.htmx && !info.is_get);
            done(rendered.status().as_u16(), None);
            return Err(actix_web::error::InternalError::from_response(e.to_string(), rendered).into());
        }
    };
    if let Ok(v) = header::HeaderValue::from_str(&id) {
        res.headers_mut().insert(header::HeaderName::from_static("x-request-id"), v);
    }
    crate::web::headers::apply(res.headers_mut(), &info.path, secure, info.htmx && !info.is_get);
    done(res.status().as_u16(), Some(res.request()));
    Ok(res)
}

/// One structured line per request: route template (never the path or query, which can carry tokens),
/// method, status, duration, request id, and the workspace and user when the request was signed in.
fn access_log(req: Option<&HttpRequest>, route: &str, method: &Method, status: u16, elapsed: std::time::Duration, request_id: &str) {
    let (mut tenant_id, mut user_id, mut api_token_id) = (None, None, None);
    if let Some(ctx) = req.and_then(|r| r.extensions().get::<Rc<TenantCtx>>().cloned()) {
        tenant_id = Some(ctx.tenant_id);
        match &ctx.actor {
            Actor::User { id, .. } => user_id = Some(*id),
            Actor::Token { id, .. } => api_token_id = Some(*id),
            Actor::Automation => {}
        }
    }
    tracing::info!(
        target: "igny8::access",
        route,
        method = %method,
        status,
        duration_ms = (elapsed.as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
        request_id,
        tenant_id,
        user_id,
        api_token_id,
        "request"
    );
}

/// The parts of a request that decide how an error is shown.
struct ReqInfo {
    path: String,
    uri: String,
    is_get: bool,
    accept: String,
    htmx: bool,
    boosted: bool,
}

impl ReqInfo {
    fn of(req: &HttpRequest) -> Self {
        let h = req.headers();
        ReqInfo {
            path: req.path().to_string(),
            uri: req.uri().to_string(),
            is_get: req.method() == Method::GET,
            accept: h.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("").to_string(),
            // A history restore (Back onto a page htmx did not keep) wants the whole page, as a fresh load would.
            htmx: h.contains_key("hx-request") && !h.contains_key("hx-history-restore-request"),
            boosted: h.contains_key("hx-boosted"),
        }
    }

    fn wants_json(&self) -> bool {
        self.path.starts_with("/api/")
            || self.path.starts_with("/webhooks/")
            || (self.accept.contains("application/json") && !self.accept.contains("text/html"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: String,
    fields: Vec<(String, String)>,
    request_id: &'a str,
    assets: &'static AssetUrls,
}

/// Where a signed-in user without any workspace is sent.
pub const NO_WORKSPACE_PAGE: &str = "/workspaces/new";

fn render_error(req: &ReqInfo, err: &AppError, request_id: &str) -> HttpResponse {
    use actix_web::ResponseError;
    let status = err.status_code();
    match err {
        // `{:#}`: the whole cause chain, with where it arose.
        AppError::Internal(e) => tracing::error!(request_id, error = format!("{e:#}"), "internal error"),
        AppError::Unavailable(msg) => tracing::warn!(request_id, msg, "dependency unavailable"),
        other => tracing::info!(request_id, code = other.code(), "request refused"),
    }
    let mut builder = HttpResponse::build(status);
    if let AppError::TooManyRequests { retry_after_secs, .. } = err {
        builder.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
    }
    if req.wants_json() {
        return builder.json(err.json_body(request_id));
    }
    let is_htmx = req.htmx;
    if matches!(err, AppError::Unauthorized) {
        let next = if req.is_get { req.uri.clone() } else { "/dashboard".into() };
        let login = format!("/login?next={}", urlencode(&next));
        if is_htmx {
            return HttpResponse::Unauthorized().insert_header(("HX-Redirect", login)).finish();
        }
        return HttpResponse::SeeOther().insert_header((header::LOCATION, login)).finish();
    }
    if matches!(err, AppError::NoWorkspace) {
        // Signed in, but in no workspace any more: the page that offers to create one (it needs no workspace).
        if is_htmx {
            return HttpResponse::Forbidden().insert_header(("HX-Redirect", NO_WORKSPACE_PAGE)).finish();
        }
        return HttpResponse::SeeOther().insert_header((header::LOCATION, NO_WORKSPACE_PAGE)).finish();
    }
    if is_htmx && !req.boosted {
        // A fragment request: keep the page as it is and say what went wrong in a toast.
        let message = match err.fields() {
            Some(f) => f.values().cloned().collect::<Vec<_>>().join(" · "),
            None => err.to_string(),
        };
        let toast = Toast::error(format!("{message} (request {request_id})"));
        return builder
            .insert_header(("HX-Reswap", "none"))
            .insert_header(("HX-Trigger", toast.hx_trigger()))
            .content_type("text/plain; charset=utf-8")
            .body(toast.message);
    }
    let page = ErrorPage {
        status: status.as_u16(),
        title: status.canonical_reason().unwrap_or("Error"),
        message: err.to_string(),
        fields: err.fields().map(|f| f.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
        request_id,
        assets: &URLS,
    };
    let body = page.render().unwrap_or_else(|_| format!("{} (request {request_id})", err));
    builder.content_type("text/html; charset=utf-8").body(body)
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|v| v.trim_start_matches('=').to_string()).unwrap_or_default()
}

/// Double-submit CSRF check on every state-changing request. The token lives in a SameSite=Strict cookie;
/// forms echo it in a hidden field, HTMX in the X-CSRF-Token header. Bearer-authenticated API calls carry
/// no ambient credentials and skip the check. Also clears a shown flash toast.
pub async fn csrf(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let cookie_token = req.cookie(CSRF_COOKIE).map(|c| c.value().to_string()).filter(|v| v.len() >= 32 && v.len() <= 64);
    let token = cookie_token.clone().unwrap_or_else(|| random_token(32));
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let had_flash = req.cookie(FLASH_COOKIE).is_some();
    let secure = req.app_data::<web::Data<AppState>>().map(|s| s.config.secure_cookies()).unwrap_or(false);

    let mut req = req;
    if needs_check(&req) {
        let provided = match header_or_query_token(&req) {
            Some(t) => Ok(Some(t)),
            None => form_token(&mut req).await,
        };
        let refusal = match provided {
            Ok(p) if matches!((&cookie_token, &p), (Some(c), Some(p)) if constant_time_eq(c, p)) => None,
            Ok(_) => Some(AppError::Csrf),
            Err(e) => Some(e),
        };
        if let Some(e) = refusal {
            return Ok(req.error_response(e).map_into_right_body());
        }
    }

    let api_sign_in = is_json_sign_in(&req);
    let mut res = next.call(req).await?.map_into_left_body();
    if cookie_token.is_none() && !api_sign_in {
        let c = Cookie::build(CSRF_COOKIE, token).path("/").http_only(true).secure(secure).same_site(SameSite::Strict).finish();
        let _ = res.response_mut().add_cookie(&c);
    }
    if had_flash && !res.status().is_redirection() {
        let _ = res.response_mut().add_cookie(&flash_cookie(String::new(), CookieDuration::ZERO));
    }
    Ok(res)
}

fn needs_check(req: &ServiceRequest) -> bool {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let bearer = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("Bearer "));
    // Stripe's webhook is no browser form: it carries no cookie to forge with, and its body is authenticated
    // by its own signature (billing::signature), so it is exempt — that one path only.
    unsafe_method && !bearer && req.path() != "/webhooks/stripe" && !is_json_sign_in(req)
}

/// `POST /api/auth/login` with a JSON body: it answers a bearer token in the body and sets no cookie (not even
/// the CSRF one), so a forged request signs no browser in, and a page on another site cannot send JSON here
/// without a CORS preflight this app never grants. The browser form (`POST /login`, which sets the session
/// cookie) keeps its check.
fn is_json_sign_in(req: &ServiceRequest) -> bool {
    req.method() == Method::POST
        && req.path() == "/api/auth/login"
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/json"))
}

fn header_or_query_token(req: &ServiceRequest) -> Option<String> {
    if let Some(v) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return Some(v.to_string());
    }
    // Multipart uploads cannot be read here without buffering the file; they pass the token in the query.
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string()).ok().and_then(|q| q.get(CSRF_FIELD).cloned())
}

/// Reads an urlencoded body to find the token, then puts the body back for the handler.
async fn form_token(req: &mut ServiceRequest) -> Result<Option<String>, AppError> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok(None);
    }
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AppError::BadRequest("The form could not be read".into()))?;
        if body.len() + chunk.len() > MAX_FORM_BYTES {
            return Err(AppError::BadRequest(format!("The form is larger than {} kB", MAX_FORM_BYTES / 1024)));
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let token = form_urlencoded_token(&body);
    req.set_payload(Payload::from(body));
    Ok(token)
}

fn form_urlencoded_token(body: &[u8]) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    pairs.into_iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_token_in_a_form_body() {
        assert_eq!(form_urlencoded_token(b"a=1&csrf_token=abc&b=2"), Some("abc".into()));
        assert_eq!(form_urlencoded_token(b"a=1"), None);
    }
}
