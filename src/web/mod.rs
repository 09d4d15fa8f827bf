//! Shared view helpers: rendering, redirects with toasts, client IP, form checks, pagination, static files,
//! middleware and the page context every layout needs.

pub mod assets;
pub mod chart;
pub mod csv;
pub mod headers;
pub mod input_guard;
pub mod json_object;
pub mod metrics;
pub mod middleware;
pub mod page;
pub mod rate_limit;
pub mod shown_form;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, http::StatusCode};
use askama::Template;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::AppResult;

pub const FLASH_COOKIE: &str = "igny8_flash";

/// A toast message: shown from the flash cookie after a redirect, or sent in `HX-Trigger` to HTMX.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Toast {
    pub level: String,
    pub message: String,
}

impl Toast {
    pub fn success(message: impl Into<String>) -> Self {
        Toast { level: "success".into(), message: message.into() }
    }
    pub fn error(message: impl Into<String>) -> Self {
        Toast { level: "error".into(), message: message.into() }
    }
    pub fn to_cookie_value(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }
    pub fn from_cookie_value(v: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(v).ok()?;
        let t: Toast = serde_json::from_slice(&bytes).ok()?;
        (t.message.len() <= 500).then_some(t)
    }
    /// Value of an `HX-Trigger` header that app.js turns into a toast.
    pub fn hx_trigger(&self) -> String {
        serde_json::json!({ "toast": self }).to_string()
    }
}

pub fn render<T: Template>(tpl: &T) -> AppResult<HttpResponse> {
    render_status(tpl, StatusCode::OK)
}

pub fn render_status<T: Template>(tpl: &T, status: StatusCode) -> AppResult<HttpResponse> {
    let body = tpl.render()?;
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body))
}

/// 303 to `location` with a toast for the next page. Works for plain forms and boosted HTMX forms alike.
pub fn redirect_with(location: &str, toast: Option<Toast>) -> HttpResponse {
    let mut res = HttpResponse::SeeOther();
    res.insert_header((header::LOCATION, location.to_string()));
    if let Some(t) = toast {
        res.cookie(flash_cookie(t.to_cookie_value(), CookieDuration::seconds(60)));
    }
    res.finish()
}

/// The end of a form post: back to `back` with a success toast, or with the user's mistake as an error
/// toast (see `AppError::is_for_the_user`); anything else is an error page.
pub fn back_to(back: &str, result: AppResult<String>) -> AppResult<HttpResponse> {
    match result {
        Ok(message) => Ok(redirect_with(back, Some(Toast::success(message)))),
        Err(e) if e.is_for_the_user() => Ok(redirect_with(back, Some(Toast::error(e.summary())))),
        Err(e) => Err(e),
    }
}

/// A form's fields in order with repeated names kept (bulk forms send `ids` once per ticked row).
pub fn form_pairs(body: &[u8]) -> AppResult<Vec<(String, String)>> {
    serde_urlencoded::from_bytes(body).map_err(|e| crate::error::AppError::BadRequest(format!("The form could not be read: {e}")))
}

/// The ids a JSON bulk action names: `{"ids": [1, 2]}` (forms send repeated `ids` fields, see [`form_ids`]).
#[derive(Debug, serde::Deserialize)]
pub struct IdsBody {
    pub ids: Vec<i64>,
}

/// The `ids` of a bulk form (values that are not ids are ignored).
pub fn form_ids(pairs: &[(String, String)]) -> Vec<i64> {
    pairs.iter().filter(|(k, _)| k == "ids").filter_map(|(_, v)| v.parse().ok()).collect()
}

/// The first value of `name` in a form, or "".
pub fn form_value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
}

pub fn flash_cookie(value: String, max_age: CookieDuration) -> Cookie<'static> {
    Cookie::build(FLASH_COOKIE, value).path("/").http_only(true).same_site(SameSite::Lax).max_age(max_age).finish()
}

/// True for an HTMX request that wants a fragment (not a boosted whole-page navigation, nor a history restore:
/// Back onto an address a fragment request pushed must show the whole page).
pub fn wants_fragment(req: &HttpRequest) -> bool {
    let h = req.headers();
    h.contains_key("hx-request") && !h.contains_key("hx-boosted") && !h.contains_key("hx-history-restore-request")
}

/// The caller's IP: the socket peer, or — with `trust_proxy` on — the right-most untrusted hop of
/// `X-Forwarded-For`. Each of our `trusted_proxies` proxies appends the address it was reached from, so the
/// client is the hop that many places from the right; whatever stands further left was written by the client
/// and is not believed (rotating it must not make a new client for the rate limits).
pub fn client_ip(req: &HttpRequest, cfg: &crate::config::Config) -> Option<String> {
    if cfg.trust_proxy {
        let hops: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        if let Some(ip) = forwarded_client(&hops, cfg.trusted_proxies) {
            return Some(ip.to_string());
        }
    }
    req.peer_addr().map(|a| a.ip().to_string())
}

/// The client among `X-Forwarded-For` hops (left to right) behind `trusted` proxies; `None` when there are no
/// hops or that hop is not an address. Fewer hops than proxies: the left-most, the farthest our proxies saw.
fn forwarded_client(hops: &[&str], trusted: u32) -> Option<std::net::IpAddr> {
    let i = hops.len().checked_sub(1)?.saturating_sub(trusted.max(1) as usize - 1);
    let hop = hops[i];
    hop.parse::<std::net::IpAddr>().ok().or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

/// A whole number a template may show (templates pass values by reference, sometimes twice).
pub trait Figure {
    fn figure(&self) -> i64;
}
impl Figure for i64 {
    fn figure(&self) -> i64 {
        *self
    }
}
impl Figure for i32 {
    fn figure(&self) -> i64 {
        *self as i64
    }
}
impl<T: Figure + ?Sized> Figure for &T {
    fn figure(&self) -> i64 {
        (**self).figure()
    }
}

/// 1234567 → "1,234,567", for figures in tables.
pub fn thousands(n: impl Figure) -> String {
    let n: i64 = n.figure();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A `next` target that stays on this site: a path of printable ASCII starting with one `/`. Browsers drop tabs and
/// line breaks from a URL and read `\` as `/`, so `/<tab>/evil.example` or `/\evil.example` would leave the site;
/// anything with whitespace, a control character, a backslash or a non-ASCII character is refused, as is `//host`
/// and an over-long value (the redirect header takes only printable ASCII).
pub fn safe_next(next: &str) -> Option<&str> {
    let ok =
        next.starts_with('/') && !next.starts_with("//") && next.len() <= 2000 && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    ok.then_some(next)
}

#[cfg(test)]
mod safe_next_props;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toast_cookie_round_trip() {
        let t = Toast::success("Saved <b>");
        assert_eq!(Toast::from_cookie_value(&t.to_cookie_value()), Some(t));
        assert_eq!(Toast::from_cookie_value("garbage!"), None);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(
            (thousands(0), thousands(999), thousands(1000), thousands(-1234567)),
            ("0".into(), "999".into(), "1,000".into(), "-1,234,567".into())
        );
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_hop() {
        let ip = |hops: &[&str], n| forwarded_client(hops, n).map(|a| a.to_string());
        assert_eq!(ip(&["203.0.113.9"], 1), Some("203.0.113.9".into()));
        // A client sending its own header cannot choose the address: the proxy appended the real one.
        assert_eq!(ip(&["1.2.3.4", "203.0.113.9"], 1), Some("203.0.113.9".into()));
        assert_eq!(ip(&["1.2.3.4", "203.0.113.9", "10.0.0.2"], 2), Some("203.0.113.9".into()));
        assert_eq!(ip(&["203.0.113.9"], 3), Some("203.0.113.9".into()), "fewer hops than proxies");
        assert_eq!(ip(&["[2001:db8::1]:443"], 1), Some("2001:db8::1".into()));
        assert_eq!(ip(&["1.2.3.4", "garbage"], 1), None);
        assert_eq!(ip(&[], 1), None);
    }

    #[test]
    fn client_ip_reads_the_header_only_behind_a_trusted_proxy() {
        let mut cfg = crate::config::Config::from_lookup(|k| match k {
            "DATABASE_URL" => Some("postgres://x@127.0.0.1/x".into()),
            "IGNY8_SECRET_KEY" => Some("0123456789abcdef0123456789abcdef".into()),
            _ => None,
        })
        .unwrap();
        let req = actix_web::test::TestRequest::default()
            .peer_addr("10.0.0.1:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "6.6.6.6, 203.0.113.9"))
            .to_http_request();
        assert_eq!(client_ip(&req, &cfg).as_deref(), Some("10.0.0.1"), "header ignored with trust-proxy off");
        cfg.trust_proxy = true;
        assert_eq!(client_ip(&req, &cfg).as_deref(), Some("203.0.113.9"));
        cfg.trusted_proxies = 2;
        assert_eq!(client_ip(&req, &cfg).as_deref(), Some("6.6.6.6"));
        let bare = actix_web::test::TestRequest::default().peer_addr("10.0.0.1:5000".parse().unwrap()).to_http_request();
        assert_eq!(client_ip(&bare, &cfg).as_deref(), Some("10.0.0.1"), "no header: the peer");
    }

    #[test]
    fn next_must_stay_local() {
        for good in ["/team", "/dashboard?tab=1&x=%2F", "/planner/keywords?q=a%20b", "/", "/a/../b"] {
            assert_eq!(safe_next(good), Some(good), "{good:?}");
        }
        let long = format!("/{}", "a".repeat(2000));
        let hostile = [
            "",
            "dashboard",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "\t//evil.example",
            " /x",
            "/ /evil.example",
            "/x\u{0}",
            "/x\u{7f}",
            "/x\u{85}",
            "/\u{a0}/evil.example",
            "/\u{2028}/evil.example",
            "/\u{3000}",
            "/é",
            "https://evil.example",
            "javascript:alert(1)",
            "http:/evil.example",
            "/x\nLocation: //evil.example",
            "/\\/evil.example",
            "/\u{ff0f}evil.example",
            long.as_str(),
        ];
        for bad in hostile {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
        // Whatever is accepted is a header-safe path on this host.
        for c in (0u32..0x3100).filter_map(char::from_u32) {
            for candidate in [format!("/{c}/evil.example"), format!("{c}/evil.example"), format!("/{c}{c}evil")] {
                if let Some(ok) = safe_next(&candidate) {
                    assert!(ok.starts_with('/') && !ok.starts_with("//") && !ok.contains('\\'), "{candidate:?}");
                    assert!(actix_web::http::header::HeaderValue::from_str(ok).is_ok(), "{candidate:?}");
                }
            }
        }
    }
}
