use reqwest::Method;

use crate::harness::{Browser, TestApp};

/// Every state-changing team/token route, as (HTML form route, API route).
async fn attempt_all(b: &Browser, member_id: i64, invite_id: i64, token_id: i64) -> Vec<(String, u16)> {
    let mut out = vec![];
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/team/invites".into(), vec![("email", "new@example.com"), ("role", "viewer")]),
        (format!("/team/invites/{invite_id}/revoke"), vec![]),
        (format!("/team/members/{member_id}/role"), vec![("role", "admin")]),
        (format!("/team/members/{member_id}/remove"), vec![]),
        ("/team/tokens".into(), vec![("name", "sneaky")]),
        (format!("/team/tokens/{token_id}/revoke"), vec![]),
    ];
    for (path, fields) in forms {
        let s = b.post_form(&path, &fields).await.status().as_u16();
        out.push((format!("POST {path}"), s));
    }
    let api: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::POST, "/api/team/invites".into(), Some(serde_json::json!({"email": "new2@example.com", "role": "viewer"}))),
        (Method::DELETE, format!("/api/team/invites/{invite_id}"), None),
        (Method::PATCH, format!("/api/team/members/{member_id}"), Some(serde_json::json!({"role": "admin"}))),
        (Method::DELETE, format!("/api/team/members/{member_id}"), None),
        (Method::POST, "/api/team/tokens".into(), Some(serde_json::json!({"name": "sneaky"}))),
        (Method::DELETE, format!("/api/team/tokens/{token_id}"), None),
    ];
    for (m, path, body) in api {
        let s = b.api(m.clone(), &path, body).await.status().as_u16();
        out.push((format!("{m} {path}"), s));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn viewers_and_editors_cannot_manage_team_or_tokens() {
    let app = TestApp::spawn().await;
    let t = app.team("rbac").await;
    // Something to aim at: an open invite, a token, and a member (the editor).
    let inv: serde_json::Value = t
        .owner
        .api_post("/api/team/invites", serde_json::json!({"email": "pending@example.com", "role": "viewer"}))
        .await
        .json()
        .await
        .unwrap();
    let invite_id = inv["invite"]["id"].as_i64().unwrap();
    let tok: serde_json::Value = t.owner.api_post("/api/team/tokens", serde_json::json!({"name": "cron"})).await.json().await.unwrap();
    let token_id = tok["token"]["id"].as_i64().unwrap();
    let members: serde_json::Value = t.owner.get("/api/team/members").await.json().await.unwrap();
    let editor_id = members["members"].as_array().unwrap().iter().find(|m| m["role"] == "editor").unwrap()["user_id"].as_i64().unwrap();

    let before =
        (app.count("invitations").await, app.count("api_tokens").await, app.count("memberships").await, app.count("audit_events").await);
    for (who, b) in [("viewer", &t.viewer), ("editor", &t.editor)] {
        for (route, status) in attempt_all(b, editor_id, invite_id, token_id).await {
            assert_eq!(status, 403, "{who} at {route}");
        }
    }
    let after =
        (app.count("invitations").await, app.count("api_tokens").await, app.count("memberships").await, app.count("audit_events").await);
    assert_eq!(before, after, "refused attempts wrote nothing");
    let member: serde_json::Value = t.owner.get(&format!("/api/team/members/{editor_id}")).await.json().await.unwrap();
    assert_eq!(member["role"], "editor");

    // Editors and viewers also cannot read admin areas.
    for b in [&t.editor, &t.viewer] {
        assert_eq!(b.get("/system").await.status(), 403);
        assert_eq!(b.get("/api/system/audit").await.status(), 403);
        assert_eq!(b.get("/api/team/tokens").await.status(), 403);
        assert_eq!(b.get("/api/team/invites").await.status(), 403);
        assert_eq!(b.get("/billing").await.status(), 403);
    }
    // An admin can, but cannot touch owners or create owners.
    assert_eq!(t.admin.get("/system").await.status(), 200);
    let owner_id = members["members"].as_array().unwrap().iter().find(|m| m["role"] == "owner").unwrap()["user_id"].as_i64().unwrap();
    let r = t.admin.api(Method::PATCH, &format!("/api/team/members/{owner_id}"), Some(serde_json::json!({"role": "viewer"}))).await;
    assert_eq!(r.status(), 403);
    let r = t.admin.api_post("/api/team/invites", serde_json::json!({"email": "boss@example.com", "role": "owner"})).await;
    assert_eq!(r.status(), 403);
    let r = t.admin.api(Method::PATCH, &format!("/api/team/members/{editor_id}"), Some(serde_json::json!({"role": "viewer"}))).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_tokens_act_as_system_bot() {
    let app = TestApp::spawn().await;
    let t = app.team("bot").await;
    let tok: serde_json::Value = t.admin.api_post("/api/team/tokens", serde_json::json!({"name": "nightly"})).await.json().await.unwrap();
    let secret = tok["secret"].as_str().unwrap().to_string();
    let id = tok["token"]["id"].as_i64().unwrap();
    let c = reqwest::Client::new();
    let me: serde_json::Value = c.get(format!("{}/api/me", app.base)).bearer_auth(&secret).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["role"], "system_bot");
    assert_eq!(me["tenant"]["id"], t.tenant_id);
    assert_eq!(me["actor"]["type"], "api_token");
    // No CSRF needed with a bearer token, but a bot cannot manage the team.
    let r = c
        .post(format!("{}/api/team/invites", app.base))
        .bearer_auth(&secret)
        .json(&serde_json::json!({"email":"z@example.com","role":"viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The list shows the token without its secret; revoking stops it.
    let list = t.owner.get("/api/team/tokens").await.text().await.unwrap();
    assert!(list.contains("nightly") && !list.contains(&secret));
    let mut conn = app.db().await;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let stored: String = igny8::db::schema::api_tokens::table
        .filter(igny8::db::schema::api_tokens::id.eq(id))
        .select(igny8::db::schema::api_tokens::token_hash)
        .first(&mut conn)
        .await
        .unwrap();
    assert_ne!(stored, secret, "only a digest is stored");
    assert_eq!(t.owner.api(Method::DELETE, &format!("/api/team/tokens/{id}"), None).await.status(), 204);
    let r = c.get(format!("{}/api/me", app.base)).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // Pages refuse tokens.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/dashboard", app.base))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), 200);
}
