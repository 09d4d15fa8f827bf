//! One place that refuses control characters in request input, before any handler runs: the path, the query
//! string, url-encoded form bodies and JSON bodies. Postgres refuses NUL in text (a query with one fails with a
//! 500, an export already streaming is cut off), and no field of this app takes other control characters, so
//! they are refused here with a 4xx naming the field. Tab, CR and LF stay allowed in the query and bodies (text
//! areas hold line breaks; the field validators in `crate::validate` refuse them where a line is expected).
//! Multipart uploads are read by their own parser (planner::import) and pass through untouched.

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use futures_util::StreamExt;

use crate::error::AppError;

/// The largest body checked here: the JSON limit (forms and raw bodies have smaller limits). A larger body is
/// passed on unread past this point, and its extractor refuses it by its own limit.
const MAX_CHECKED_BODY: usize = 1024 * 1024;

/// True for a character no field accepts: every control character except tab, CR and LF.
pub fn disallowed(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// The message of a refused field.
fn refusal(field: &str) -> AppError {
    let name = if field.is_empty() { "input" } else { field };
    AppError::field(name, format!("{name} contains a control character (such as NUL), which is not allowed"))
}

/// The first url-encoded field (name or value) that holds a disallowed character.
pub fn bad_urlencoded_field(bytes: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(bytes).find(|(k, v)| k.chars().any(disallowed) || v.chars().any(disallowed)).map(|(k, _)| {
        let name: String = k.chars().filter(|c| !c.is_control()).take(60).collect();
        name
    })
}

/// The first JSON field (by key path) whose key or string value holds a disallowed character.
pub fn bad_json_field(v: &serde_json::Value, path: &str) -> Option<String> {
    match v {
        serde_json::Value::String(s) => s.chars().any(disallowed).then(|| path.to_string()),
        serde_json::Value::Array(items) => items.iter().find_map(|i| bad_json_field(i, path)),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            let clean: String = k.chars().filter(|c| !c.is_control()).take(60).collect();
            let here = if path.is_empty() { clean } else { format!("{path}.{clean}") };
            if k.chars().any(disallowed) { Some(here) } else { bad_json_field(v, &here) }
        }),
        _ => None,
    }
}

/// The path with its percent-escapes decoded, for the check (routing decodes it the same way).
fn decoded_path(path: &str) -> String {
    url::form_urlencoded::parse(format!("p={}", path.replace('+', "%2B")).as_bytes())
        .map(|(_, v)| v.into_owned())
        .next()
        .unwrap_or_default()
}

enum BodyKind {
    Form,
    Json,
}

fn body_kind(req: &ServiceRequest) -> Option<BodyKind> {
    // The Stripe webhook's body is verified byte for byte by its own signature (billing::signature).
    if req.path().starts_with("/webhooks/") {
        return None;
    }
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if ct.starts_with("application/x-www-form-urlencoded") {
        Some(BodyKind::Form)
    } else if ct.starts_with("application/json") || (ct.starts_with("application/") && ct.contains("+json")) {
        Some(BodyKind::Json)
    } else {
        None
    }
}

pub async fn input_guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if decoded_path(req.path()).chars().any(|c| c.is_control()) {
        return Err(AppError::BadRequest("The address contains a control character (such as NUL), which is not allowed".into()).into());
    }
    if let Some(field) = bad_urlencoded_field(req.query_string().as_bytes()) {
        return Err(refusal(&field).into());
    }
    if let Some(kind) = body_kind(&req) {
        let mut payload = req.take_payload();
        let mut body = web::BytesMut::new();
        let mut rest = None;
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| AppError::BadRequest("The request body could not be read".into()))?;
            body.extend_from_slice(&chunk);
            if body.len() > MAX_CHECKED_BODY {
                rest = Some(payload);
                break;
            }
        }
        let body = body.freeze();
        match rest {
            // Too large to check: handed on whole (what was read, then the rest) for its extractor to refuse.
            Some(rest) => {
                let stream = futures_util::stream::once(async move { Ok(body) }).chain(rest);
                req.set_payload(Payload::Stream { payload: Box::pin(stream) });
            }
            None => {
                let bad = match kind {
                    BodyKind::Form => bad_urlencoded_field(&body),
                    BodyKind::Json => serde_json::from_slice::<serde_json::Value>(&body).ok().and_then(|v| bad_json_field(&v, "")),
                };
                if let Some(field) = bad {
                    return Err(refusal(&field).into());
                }
                req.set_payload(Payload::from(body));
            }
        }
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_control_characters_in_forms_queries_and_json() {
        assert_eq!(bad_urlencoded_field(b"q=abc&status=new"), None);
        assert_eq!(bad_urlencoded_field(b"q=a%0Ab%09c%0D"), None, "line breaks and tabs are text");
        assert_eq!(bad_urlencoded_field(b"q=a%00b"), Some("q".into()));
        assert_eq!(bad_urlencoded_field(b"a=1&na%01me=x"), Some("name".into()));
        assert_eq!(bad_urlencoded_field("q=a\u{85}".as_bytes()), Some("q".into()), "C1 controls too");
        assert_eq!(bad_urlencoded_field(b"q=%7F"), Some("q".into()));
        let v = serde_json::json!({"name": "ok", "items": [{"title": "a\u{0}b"}]});
        assert_eq!(bad_json_field(&v, ""), Some("items.title".into()));
        assert_eq!(bad_json_field(&serde_json::json!({"text": "one\ntwo\tthree"}), ""), None);
        assert_eq!(bad_json_field(&serde_json::json!(["\u{1b}[31m"]), ""), Some("".into()));
        assert!(decoded_path("/keywords/%00").contains('\0'));
        assert_eq!(decoded_path("/a+b%20c"), "/a+b c");
    }
}
