//! What refused and foreign attempts send: where an empty body would be turned away before the permission or
//! tenancy check is reached, a body that would do real work on A's rows if the check let it through (the
//! digests then show it did not). Allowed attempts always send the empty body.

use serde_json::{Value, json};

use super::fixture::Ids;

pub enum Body {
    Json(Value),
    Form(Vec<(String, String)>),
}

pub fn attempt(method: &str, pattern: &str, ids: &Ids) -> Option<Body> {
    let form = |pairs: &[(&str, String)]| Some(Body::Form(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()));
    let site = json!({"name": "x", "base_url": "https://93.184.215.14", "username": "u", "app_password": "p",
        "default_status": "draft", "default_category": "", "seo_plugin": "auto", "plugin_secret": ""});
    match (method, pattern) {
        ("POST", "/planner/keywords/bulk") => form(&[("action", "delete".into()), ("ids", ids.keyword.to_string())]),
        ("POST", "/planner/clusters/bulk") => form(&[("action", "delete".into()), ("ids", ids.cluster.to_string())]),
        ("POST", "/planner/ideas/bulk") => form(&[("action", "delete".into()), ("ids", ids.idea.to_string())]),
        ("POST", "/writer/tasks/bulk") => form(&[("action", "generate".into()), ("ids", ids.task.to_string())]),
        ("POST", "/planner/clusters/{id}") => form(&[("name", "renamed".into()), ("status", "active".into())]),
        ("POST", "/planner/clusters/{id}/merge") => form(&[("into", ids.cluster2.to_string())]),
        ("POST", "/thinker/profiles/{id}") => form(&[("name", "renamed".into())]),
        ("POST", "/thinker/strategies/{id}") => form(&[("name", "renamed".into())]),
        ("POST", "/sites/{id}") => {
            Some(Body::Form(site.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect()))
        }
        ("POST", "/writer/tasks/{id}/publish") => form(&[("site_id", ids.b_site.to_string())]),
        ("POST", "/team/members/{id}/role") => form(&[("role", "admin".into())]),
        ("POST", "/system/workspaces/{id}/credits") => form(&[("delta", "500".into()), ("reason", "matrix".into())]),
        ("POST", "/system/workspaces/{id}/status") => form(&[("action", "suspend".into())]),
        ("POST", "/api/planner/keywords/bulk") => Some(Body::Json(json!({"action": "delete", "ids": [ids.keyword]}))),
        ("POST", "/api/planner/cluster") => Some(Body::Json(json!({"mode": "local", "ids": [ids.keyword]}))),
        ("POST", "/api/planner/clusters/ideas") => Some(Body::Json(json!({"cluster_ids": [ids.cluster], "count": 3}))),
        ("POST", "/api/planner/ideas/send-to-writer") => Some(Body::Json(json!({"ids": [ids.idea]}))),
        ("POST", "/api/writer/tasks/generate" | "/api/writer/tasks/reparse" | "/api/writer/tasks/images") => {
            Some(Body::Json(json!({"ids": [ids.task]})))
        }
        ("PUT", "/api/planner/clusters/{id}") => Some(Body::Json(json!({"name": "renamed", "status": "active"}))),
        ("POST", "/api/planner/clusters/{id}/merge") => Some(Body::Json(json!({"into": ids.cluster2}))),
        ("PUT", "/api/planner/ideas/{id}") => {
            Some(Body::Json(json!({"title": "renamed", "content_type": "post", "structure": "guide", "estimated_words": "1000"})))
        }
        ("PUT", "/api/writer/tasks/{id}") => Some(Body::Json(json!({"title": "renamed", "status": "draft", "content_html": "<p>x</p>"}))),
        ("PUT", "/api/sites/{id}") => Some(Body::Json(site)),
        ("POST", "/api/publish/tasks/{id}") => Some(Body::Json(json!({"site_id": ids.b_site}))),
        ("PATCH", "/api/team/members/{id}") => Some(Body::Json(json!({"role": "admin"}))),
        ("POST", "/api/system/workspaces/{id}/credits") => Some(Body::Json(json!({"delta": 500, "reason": "matrix"}))),
        ("POST", "/api/system/workspaces/{id}/status") => Some(Body::Json(json!({"action": "suspend"}))),
        _ => None,
    }
}
