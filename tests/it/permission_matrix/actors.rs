//! Who sends the requests, and how one request of the matrix is sent: JSON routes get `{}` and forms only their
//! CSRF field, so a request that gets past the gate stops at validation instead of changing the workspace.

use reqwest::Method;

use super::bodies::Body;
use crate::harness::Browser;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    Viewer,
    Editor,
    Admin,
    Owner,
    /// A's API token (the system bot).
    Bot,
    /// Workspace B's owner, sent A's ids.
    Foreign,
    /// A system administrator, sent only the platform routes (System → …).
    Operator,
}

pub const ALL: [Actor; 8] =
    [Actor::Anonymous, Actor::Viewer, Actor::Editor, Actor::Admin, Actor::Owner, Actor::Bot, Actor::Foreign, Actor::Operator];

/// How the actor is signed in: a browser (cookies and CSRF token) or a bearer token.
pub enum Sender<'a> {
    Browser(&'a Browser),
    Bearer { base: &'a str, token: &'a str, client: &'a reqwest::Client },
}

pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// Sends `method path` as the sender with `body` (or the empty one); returns (status, Location header).
pub async fn send(s: &Sender<'_>, method: &str, path: &str, body: Option<&Body>) -> (u16, String) {
    let m = Method::from_bytes(method.as_bytes()).unwrap();
    let empty = if is_api(path) { Body::Json(serde_json::json!({})) } else { Body::Form(vec![]) };
    let body = if m == Method::GET { None } else { Some(body.unwrap_or(&empty)) };
    let req = match s {
        Sender::Browser(b) => {
            let token = b.csrf().await;
            let req = b.client.request(m, b.url(path));
            match body {
                Some(Body::Form(fields)) => {
                    let mut all = vec![("csrf_token".to_string(), token)];
                    all.extend(fields.iter().cloned());
                    req.form(&all)
                }
                Some(Body::Json(v)) => req.header("x-csrf-token", token).json(v),
                None => req,
            }
        }
        Sender::Bearer { base, token, client } => {
            let req = client.request(m, format!("{base}{path}")).bearer_auth(token);
            match body {
                Some(Body::Form(fields)) => req.form(fields),
                Some(Body::Json(v)) => req.json(v),
                None => req,
            }
        }
    };
    let res = req.send().await.unwrap();
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (res.status().as_u16(), location)
}
