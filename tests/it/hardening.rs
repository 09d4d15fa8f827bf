//! Hostile input and response hardening: control characters refused with a 4xx on every kind of input (nothing
//! written, exports refused before their 200), `next` never leaves the site, the JSON sign-in needs no CSRF token
//! while the form does, security headers on every response (errors too), `no-store`, and over https HSTS and
//! `Secure` on every cookie; a sync of another workspace's site is not found.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::harness::{PASSWORD, TestApp, extract_csrf};

fn assert_refused(status: u16, body: &str, label: &str) {
    assert!(status == 400 || status == 422, "{label}: {status} {body}");
    assert!(body.contains("control character"), "{label}: a message says why: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn control_characters_are_refused_on_every_kind_of_input_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.signup("Nina", "nina@example.com", "Nul Co").await;

    // Query strings: list filters of pages and the API, and both CSV exports (refused before any 200).
    let gets = [
        "/planner/keywords?q=a%00b",
        "/planner/keywords?status=%00",
        "/api/planner/keywords?q=%00",
        "/planner/clusters?q=a%00",
        "/api/planner/clusters?q=%01",
        "/planner/ideas?q=%00",
        "/api/planner/ideas?q=%1B",
        "/writer/tasks?q=%00",
        "/api/writer/tasks?status=%00",
        "/api/system/audit?action=%00",
        "/billing?reason=%00",
        "/api/billing/ledger?reason=%00",
        "/planner/keywords/export?q=%00",
        "/api/planner/keywords/export?q=a%00b",
        "/billing/ledger.csv?reason=%00",
        "/api/billing/ledger.csv?from=%00",
        "/login?next=%00",
    ];
    for path in gets {
        let (status, body) = owner.get_text(path).await;
        assert_refused(status, &body, path);
    }
    // A NUL in the path itself.
    let (status, body) = owner.get_text("/invite/ab%00cd").await;
    assert_refused(status, &body, "path");

    // Anonymous sign-in, form and JSON.
    let anon = app.browser();
    let r = anon.post_form("/login", &[("email", "nina@example.com\0"), ("password", PASSWORD)]).await;
    let status = r.status().as_u16();
    assert_refused(status, &r.text().await.unwrap(), "POST /login");
    let r = reqwest::Client::new()
        .post(format!("{}/api/auth/login", app.base))
        .json(&json!({ "email": "nina@example.com", "password": "a\u{0}b" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "validation_failed");
    assert!(body["error"]["fields"]["password"].as_str().unwrap().contains("control character"), "{body}");

    // Writes, form and JSON (nested fields too).
    let forms: [(&str, Vec<(&str, &str)>); 3] = [
        ("/planner/keywords", vec![("keyword", "nul\0shoes")]),
        ("/writer/tasks", vec![("title", "Winter\u{7}running")]),
        ("/team/tokens", vec![("name", "bot\0")]),
    ];
    for (path, fields) in forms {
        let r = owner.post_form(path, &fields).await;
        let status = r.status().as_u16();
        assert_refused(status, &r.text().await.unwrap(), path);
    }
    let jsons = [
        ("/api/planner/keywords", json!({ "keyword": "nul\u{0}shoes", "volume": 10 })),
        ("/api/writer/tasks", json!({ "title": "Ok", "outline": "Layers\u{0}Shoes" })),
        ("/api/team/tokens", json!({ "name": "bot\u{0}" })),
        ("/api/team/invites", json!({ "email": "x@example.com", "role": "editor", "extra": ["\u{0}"] })),
    ];
    for (path, body) in jsons {
        let r = owner.api_post(path, body).await;
        assert_eq!(r.status(), 422, "{path}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"]["message"].as_str().is_some() && v["error"]["fields"].as_object().is_some_and(|f| !f.is_empty()), "{path}: {v}");
    }
    assert_eq!(app.count("keywords").await, 0);
    assert_eq!(app.count("tasks").await, 0);
    assert_eq!(app.count("api_tokens").await, 0);
    assert_eq!(app.count("invitations").await, 0);

    // Tabs and line breaks stay text where text allows them.
    let r = owner.api_post("/api/writer/tasks", json!({ "title": "Winter running", "outline": "Layers\r\n\tShoes" })).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn next_after_sign_in_never_leaves_the_site() {
    let app = TestApp::spawn().await;
    app.signup("Ned", "ned@example.com", "Next Co").await;
    let long = format!("/{}", "a".repeat(3000));
    let hostile = [
        "/\t/evil.example",
        "/\n/evil.example",
        "/x\r\nSet-Cookie: a=b",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        " //evil.example",
        "/\u{3000}/evil.example",
        "/café",
        long.as_str(),
    ];
    for next in hostile {
        let b = app.browser();
        let r = b.post_form("/login", &[("email", "ned@example.com"), ("password", PASSWORD), ("next", next)]).await;
        assert_eq!(r.status(), 303, "{next:?}");
        assert_eq!(r.headers()["location"], "/dashboard", "{next:?}");
    }
    let b = app.browser();
    let r = b.post_form("/login", &[("email", "ned@example.com"), ("password", PASSWORD), ("next", "/planner/keywords?q=a%20b")]).await;
    assert_eq!(r.headers()["location"], "/planner/keywords?q=a%20b", "a local path is kept");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_sign_in_needs_no_csrf_token_but_the_form_does() {
    let app = TestApp::spawn().await;
    app.signup("Ada", "ada@example.com", "Api Co").await;
    let plain = reqwest::Client::new();
    let r = plain
        .post(format!("{}/api/auth/login", app.base))
        .json(&json!({ "email": "ada@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("set-cookie").is_none(), "no cookie at all");
    let token = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    let me = plain.get(format!("{}/api/me", app.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(me.status(), 200);

    // The browser form, and a form-encoded call to the API route, still need the token.
    let b = app.browser();
    let r = b.post_form_no_csrf("/login", &[("email", "ada@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("set-cookie").is_none_or(|c| !c.to_str().unwrap().contains("igny8_session")));
    let r = b.post_form_no_csrf("/api/auth/login", &[("email", "ada@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), 403);
}

fn assert_security_headers(r: &reqwest::Response, label: &str) {
    for h in ["content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"] {
        assert!(r.headers().get(h).is_some(), "{label}: {h}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn security_headers_are_on_every_response_and_signed_in_pages_are_not_stored() {
    let app = TestApp::spawn().await;
    let (owner, tid) = app.signup("Hal", "hal@example.com", "Head Co").await;
    app.set_plan(tid, "agency").await;
    let anon = app.browser();

    let r = anon.get("/no/such/page").await;
    assert_eq!(r.status(), 404);
    assert_security_headers(&r, "404");
    let r = anon.get("/api/me").await;
    assert_eq!(r.status(), 401);
    assert_security_headers(&r, "401");
    let r = anon.post_form_no_csrf("/login", &[("email", "x@example.com")]).await;
    assert_eq!(r.status(), 403);
    assert_security_headers(&r, "403");
    let r = anon.get("/login").await;
    assert_eq!(r.status(), 200);
    assert_security_headers(&r, "page");
    assert!(app.browser().get("/static/nope.css").await.headers().get("x-frame-options").is_some());

    let r = owner.get("/dashboard").await;
    assert_eq!(r.status(), 200);
    assert_security_headers(&r, "dashboard");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(r.headers().get("strict-transport-security").is_none(), "no HSTS over plain http");
    let r = owner.post_form("/team/tokens", &[("name", "deploy bot")]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(r.text().await.unwrap().contains("igy8_"), "the page shows the new secret");
}

/// `name=value` of a `Set-Cookie` header named `name`.
fn cookie_pair(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn over_https_every_cookie_is_secure_and_hsts_is_sent() {
    let app =
        TestApp::spawn_with(&crate::harness::redis_url(), HashMap::from([("IGNY8_BASE_URL", "https://app.example.com".to_string())])).await;
    // A client that keeps no cookies: Secure cookies would not come back over the test's plain http.
    let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let url = |p: &str| format!("{}{p}", app.base);
    let r = c.get(url("/login")).send().await.unwrap();
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    let all_secure = |r: &reqwest::Response, label: &str| {
        let cookies: Vec<String> = r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
        assert!(!cookies.is_empty(), "{label}: cookies set");
        for cookie in cookies {
            assert!(cookie.split(';').any(|a| a.trim().eq_ignore_ascii_case("secure")), "{label}: {cookie}");
        }
    };
    all_secure(&r, "csrf cookie");
    let csrf_cookie = cookie_pair(&r, "igny8_csrf").unwrap();
    let token = extract_csrf(&r.text().await.unwrap()).unwrap();
    let signup =
        [("csrf_token", token.as_str()), ("name", "Sam"), ("email", "sam@example.com"), ("workspace", "Sec Co"), ("password", PASSWORD)];
    let r = c.post(url("/signup")).header("cookie", &csrf_cookie).form(&signup).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let login = [("csrf_token", token.as_str()), ("email", "sam@example.com"), ("password", PASSWORD)];
    let r = c.post(url("/login")).header("cookie", &csrf_cookie).form(&login).send().await.unwrap();
    assert_eq!(r.status(), 303);
    all_secure(&r, "session cookie");
    let session = cookie_pair(&r, "igny8_session").expect("session cookie");
    let r = c
        .post(url("/logout"))
        .header("cookie", format!("{csrf_cookie}; {session}"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(cookie_pair(&r, "igny8_flash").is_some(), "the sign-out toast rides in the flash cookie");
    all_secure(&r, "flash and cleared session cookies");
    let r = c.get(url("/no/such/page")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000", "errors too");
}

#[tokio::test(flavor = "multi_thread")]
async fn syncing_another_workspaces_site_is_not_found_and_queues_nothing() {
    let app = TestApp::spawn().await;
    let (a, tid) = app.signup("Ann", "ann@example.com", "Site Co").await;
    app.set_plan(tid, "agency").await;
    let site = json!({ "name": "Shop blog", "base_url": "https://93.184.216.34/", "username": "editor", "app_password": "abcd EFGH ijkl MNOP qrst UVWX", "default_status": "draft", "seo_plugin": "yoast" });
    let r = a.api_post("/api/sites", site).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let (b, _) = app.signup("Bob", "bob@example.com", "Other Co").await;
    let jobs = app.count("jobs").await;
    assert_eq!(b.api_post(&format!("/api/sites/{id}/sync"), json!({})).await.status(), 404);
    assert_eq!(b.api_post("/api/publish/sync", json!({ "site_id": id })).await.status(), 404);
    assert_eq!(b.api_post("/api/publish/sync", json!({ "site_id": id.to_string() })).await.status(), 404, "an id as text");
    assert_eq!(b.api_post("/api/publish/sync", json!({ "site_id": "seven" })).await.status(), 400);
    assert_eq!(b.post_form(&format!("/sites/{id}/sync"), &[]).await.status(), 404);
    assert_eq!(app.count("jobs").await, jobs, "nothing queued");
    // The owner's own syncs are accepted, with or without a body.
    assert_eq!(a.api_post(&format!("/api/sites/{id}/sync"), json!({})).await.status(), 202);
    assert_eq!(a.api_post("/api/publish/sync", json!({ "site_id": id })).await.status(), 202);
    assert_eq!(a.api(reqwest::Method::POST, "/api/publish/sync", None).await.status(), 202);
}
