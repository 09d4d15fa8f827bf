//! Headers every response carries, error pages (401/403/404/500) and middleware refusals included: set by the
//! outermost middleware (`middleware::request_id_and_errors`) after the error page is rendered, because an
//! inner layer's headers are lost when an error replaces the response. Also `Cache-Control: no-store` on
//! everything but static files (signed-in pages, new API tokens and invitation links must not be kept by a
//! browser or proxy), and over https: HSTS and `Secure` on every cookie. And on the direct answer to an htmx
//! POST (a boosted form that did not redirect — typically re-shown with its errors) `HX-Push-Url: false`: that
//! address serves no GET, so the address bar keeps the page the form was on and reload or a bookmark still works.

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
                   frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

/// One year; no `includeSubDomains` (other hosts of the domain are not ours to decide for).
pub const HSTS: &str = "max-age=31536000";

const FIXED: [(&str, &str); 5] = [
    ("content-security-policy", CSP),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
];

/// Adds the security headers a response lacks. `secure`: the app is served over https (`Config::secure_cookies`);
/// `htmx_write`: the request was an htmx one with another method than GET.
pub fn apply(headers: &mut HeaderMap, path: &str, secure: bool, htmx_write: bool) {
    let history = ["hx-push-url", "hx-replace-url", "hx-redirect", "hx-location"];
    if htmx_write && !history.iter().any(|h| headers.contains_key(*h)) {
        headers.insert(HeaderName::from_static("hx-push-url"), HeaderValue::from_static("false"));
    }
    for (name, value) in FIXED {
        let name = HeaderName::from_static(name);
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if !path.starts_with("/static/") && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if secure {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
        let cookies: Vec<HeaderValue> = headers.get_all(header::SET_COOKIE).cloned().collect();
        if !cookies.is_empty() {
            headers.remove(header::SET_COOKIE);
            for c in cookies {
                headers.append(header::SET_COOKIE, secure_cookie(c));
            }
        }
    }
}

/// A `Set-Cookie` value with the `Secure` attribute (added when missing).
fn secure_cookie(v: HeaderValue) -> HeaderValue {
    let Ok(s) = v.to_str() else { return v };
    if s.split(';').skip(1).any(|a| a.trim().eq_ignore_ascii_case("secure")) {
        return v;
    }
    HeaderValue::from_str(&format!("{s}; Secure")).unwrap_or(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_become_secure_over_https_only() {
        let mut h = HeaderMap::new();
        h.append(header::SET_COOKIE, HeaderValue::from_static("igny8_flash=x; Path=/; HttpOnly"));
        h.append(header::SET_COOKIE, HeaderValue::from_static("igny8_session=y; Path=/; Secure; HttpOnly"));
        let mut plain = h.clone();
        apply(&mut plain, "/dashboard", false, false);
        assert!(!plain.contains_key(header::STRICT_TRANSPORT_SECURITY));
        assert_eq!(plain.get_all(header::SET_COOKIE).filter(|v| v.to_str().unwrap().contains("Secure")).count(), 1);
        apply(&mut h, "/dashboard", true, false);
        assert_eq!(h.get(header::STRICT_TRANSPORT_SECURITY).unwrap(), HSTS);
        let cookies: Vec<&str> = h.get_all(header::SET_COOKIE).map(|v| v.to_str().unwrap()).collect();
        assert_eq!(cookies, ["igny8_flash=x; Path=/; HttpOnly; Secure", "igny8_session=y; Path=/; Secure; HttpOnly"]);
        assert_eq!(h.get(header::CACHE_CONTROL).unwrap(), "no-store");
    }

    #[test]
    fn static_files_keep_their_caching() {
        let mut h = HeaderMap::new();
        apply(&mut h, "/static/app.css", false, false);
        assert!(!h.contains_key(header::CACHE_CONTROL));
        assert_eq!(h.get("x-frame-options").unwrap(), "DENY");
    }

    #[test]
    fn an_htmx_write_answered_directly_pushes_no_address() {
        let mut h = HeaderMap::new();
        apply(&mut h, "/billing/cap", false, true);
        assert_eq!(h.get("hx-push-url").unwrap(), "false");
        let mut get = HeaderMap::new();
        apply(&mut get, "/billing", false, false);
        assert!(!get.contains_key("hx-push-url"), "a GET's address can be pushed");
        let mut chosen = HeaderMap::new();
        chosen.insert(HeaderName::from_static("hx-redirect"), HeaderValue::from_static("/login"));
        apply(&mut chosen, "/logout", false, true);
        assert!(!chosen.contains_key("hx-push-url"), "a handler's own history header stands");
    }
}
