//! Sites: connect, edit, remove; the plan's limit; the password sealed and masked; private URLs refused;
//! only owners and admins manage sites, editors and viewers see them.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::sites;
use serde_json::{Value, json};

use crate::harness::TestApp;

fn site(url: &str) -> Value {
    json!({ "name": "Shop blog", "base_url": url, "username": "editor", "app_password": "abcd EFGH ijkl MNOP qrst UVWX", "default_status": "draft", "seo_plugin": "yoast" })
}

#[tokio::test(flavor = "multi_thread")]
async fn sites_are_managed_within_the_plan_with_the_password_sealed() {
    let app = TestApp::spawn().await;
    let team = app.team("sit").await;
    let owner = &team.owner;

    // Loopback and private addresses are refused unless explicitly allowed (they are not, here).
    let r = owner.api_post("/api/sites", site("http://127.0.0.1:8080")).await;
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().await.unwrap()["error"]["fields"]["base_url"].is_string());
    let r = owner
        .api_post(
            "/api/sites",
            json!({ "name": "", "base_url": "not a url", "username": "", "app_password": "", "default_status": "sometime" }),
        )
        .await;
    assert_eq!(r.status(), 422);
    let fields = r.json::<Value>().await.unwrap()["error"]["fields"].clone();
    for f in ["name", "base_url", "username", "app_password", "default_status"] {
        assert!(fields.get(f).is_some(), "{f}: {fields}");
    }

    let r = owner.api_post("/api/sites", site("https://93.184.216.34/")).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["base_url"], "https://93.184.216.34");
    assert!(s["app_password"].as_str().unwrap().contains('…') && !s["app_password"].as_str().unwrap().contains("EFGH ijkl"), "masked: {s}");
    let id = s["id"].as_i64().unwrap();
    let stored: String = {
        let mut conn = app.db().await;
        sites::table.filter(sites::id.eq(id)).select(sites::app_password_enc).first(&mut conn).await.unwrap()
    };
    assert!(stored.starts_with("v1:") && !stored.contains("EFGH"), "sealed at rest");
    assert_eq!(owner.api_post("/api/sites", site("https://93.184.216.34")).await.status(), 422, "the same site twice");

    // Agency allows several; on Free (1 site) a second is refused with the plan named.
    app.set_plan(team.tenant_id, "free").await;
    let r = owner.api_post("/api/sites", site("https://93.184.216.35")).await;
    assert_eq!(r.status(), 409);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().contains("up to 1 site"));

    // Edit without a new password keeps the old one.
    let r = owner
        .api(
            reqwest::Method::PUT,
            &format!("/api/sites/{id}"),
            Some(json!({ "name": "Shop", "base_url": "https://93.184.216.34", "username": "editor", "default_status": "publish" })),
        )
        .await;
    assert_eq!(r.status(), 200);
    let after: String = {
        let mut conn = app.db().await;
        sites::table.filter(sites::id.eq(id)).select(sites::app_password_enc).first(&mut conn).await.unwrap()
    };
    assert_eq!(after, stored);

    // Editors and viewers see sites but cannot manage them.
    for b in [&team.editor, &team.viewer] {
        assert_eq!(b.get("/api/sites").await.json::<Value>().await.unwrap()["sites"].as_array().unwrap().len(), 1);
        assert_eq!(b.api_post("/api/sites", site("https://93.184.216.36")).await.status(), 403);
        assert_eq!(b.api(reqwest::Method::DELETE, &format!("/api/sites/{id}"), None).await.status(), 403);
    }
    let (other, _) = app.signup("Sx", "sx@example.com", "Sx Co").await;
    assert_eq!(other.get(&format!("/api/sites/{id}")).await.status(), 404);
    let (status, html) = owner.get_text("/sites").await;
    assert!(status == 200 && html.contains("Shop") && !html.contains("EFGH"));
    assert_eq!(owner.api(reqwest::Method::DELETE, &format!("/api/sites/{id}"), None).await.status(), 204);
    assert_eq!(app.count("sites").await, 0);
}
