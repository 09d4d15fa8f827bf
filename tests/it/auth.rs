use igny8::auth::jwt::{Claims, JwtKeys};

use crate::harness::{Browser, PASSWORD, SECRET, TestApp};

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find(|v| v.starts_with("igny8_session=")).map(String::from)
}

#[tokio::test(flavor = "multi_thread")]
async fn signup_login_dashboard_and_logout() {
    let app = TestApp::spawn().await;
    let (b, _) = app.signup("Ada Lovelace", "ada@example.com", "Analytical Engines").await;
    let (status, html) = b.get_text("/dashboard").await;
    assert_eq!(status, 200);
    assert!(html.contains("Analytical Engines") && html.contains("<h1>Dashboard</h1>"));
    assert!(html.contains("25 credits"), "free plan opening balance shown");

    // A second browser signs in with the password.
    let b2 = app.browser();
    let res = b2.post_form("/login", &[("email", "ADA@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/dashboard");
    let cookie = session_cookie(&res).expect("session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http base URL → no Secure flag");
    assert!(cookie.contains("Max-Age=43200"), "12 h session: {cookie}");
    assert_eq!(b2.get("/dashboard").await.status(), 200);

    // Log out ends the session for real: the same token no longer works.
    let token = cookie.split(';').next().unwrap().trim_start_matches("igny8_session=").to_string();
    let res = b2.post_form("/logout", &[]).await;
    assert_eq!(res.status(), 303);
    let audit = b.get("/api/system/audit?action=user.").await.text().await.unwrap();
    assert!(audit.contains("user.signed_in") && audit.contains("user.signed_out"), "{audit}");
    assert_eq!(b2.get("/dashboard").await.status(), 303, "signed out → redirected to login");
    let replay = reqwest::Client::new().get(format!("{}/api/me", app.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(replay.status(), 401, "a logged-out session token is refused");
    // The first browser's session is untouched.
    assert_eq!(b.get("/dashboard").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_is_a_clear_error_and_no_session() {
    let app = TestApp::spawn().await;
    app.signup("Bob", "bob@example.com", "Bob Co").await;
    let b = app.browser();
    let sessions_before = app.count("sessions").await;
    let res = b.post_form("/login", &[("email", "bob@example.com"), ("password", "not the password")]).await;
    assert_eq!(res.status(), 401);
    assert!(session_cookie(&res).is_none());
    let html = res.text().await.unwrap();
    assert!(html.contains("The email or password is not right"), "{html}");
    assert_eq!(app.count("sessions").await, sessions_before);
    assert_eq!(b.get("/dashboard").await.status(), 303);
    // Unknown email: the same message.
    let res = b.post_form("/login", &[("email", "nobody@example.com"), ("password", "whatever it is")]).await;
    assert!(res.text().await.unwrap().contains("The email or password is not right"));
}

#[tokio::test(flavor = "multi_thread")]
async fn tampered_expired_and_foreign_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let (b, tid) = app.signup("Cy", "cy@example.com", "Cy Co").await;
    let me: serde_json::Value = b.get("/api/me").await.json().await.unwrap();
    let uid = me["actor"]["id"].as_i64().unwrap();
    let res = app.browser().post_form("/login", &[("email", "cy@example.com"), ("password", PASSWORD)]).await;
    let good = session_cookie(&res).unwrap().split(';').next().unwrap().trim_start_matches("igny8_session=").to_string();
    let keys = JwtKeys::new(SECRET);
    let claims = keys.verify(&good).expect("our own token verifies");
    assert_eq!((claims.uid, claims.tid), (uid, tid));

    let call = |token: String| {
        let url = format!("{}/api/me", app.base);
        async move { reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(call(good.clone()).await, 200);

    let now = chrono::Utc::now().timestamp();
    let expired = keys.sign(&Claims { iat: now - 100_000, exp: now - 10, ..claims.clone() });
    assert_eq!(call(expired).await, 401, "expired");
    let foreign = JwtKeys::new("another-secret-entirely-0123456789abcdef").sign(&claims);
    assert_eq!(call(foreign).await, 401, "signed with a foreign key");
    let mut parts: Vec<String> = good.split('.').map(String::from).collect();
    let forged = Claims { uid: uid + 1, ..claims.clone() };
    parts[1] = base64_json(&forged);
    assert_eq!(call(parts.join(".")).await, 401, "payload tampered");
    assert_eq!(call("garbage".into()).await, 401);

    // The same refusals hold for the cookie on pages: a bad cookie redirects to sign-in.
    let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = c.get(format!("{}/dashboard", app.base)).header("cookie", format!("igny8_session={}x", good)).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert!(res.headers()["location"].to_str().unwrap().starts_with("/login"));
}

fn base64_json(c: &Claims) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(c).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_is_throttled_per_email() {
    let app = TestApp::spawn().await;
    app.signup("Dee", "dee@example.com", "Dee Co").await;
    let b = app.browser();
    for _ in 0..5 {
        let r = b.post_form("/login", &[("email", "dee@example.com"), ("password", "wrong password!")]).await;
        assert_eq!(r.status(), 401);
    }
    // Even the right password is refused while throttled.
    let r = b.post_form("/login", &[("email", "dee@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().await.unwrap().contains("Too many failed sign-in attempts"));
}

#[tokio::test(flavor = "multi_thread")]
async fn change_password_and_other_sessions_end() {
    let app = TestApp::spawn().await;
    let (b, _) = app.signup("Eve", "eve@example.com", "Eve Co").await;
    let other = app.browser();
    assert_eq!(other.post_form("/login", &[("email", "eve@example.com"), ("password", PASSWORD)]).await.status(), 303);

    let r = b.post_form("/account/password", &[("current", "wrong"), ("new", "a brand new pass"), ("confirm", "a brand new pass")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("not your current password"));
    let r = b.post_form("/account/password", &[("current", PASSWORD), ("new", "short"), ("confirm", "short")]).await;
    assert_eq!(r.status(), 422);

    let r = b.post_form("/account/password", &[("current", PASSWORD), ("new", "a brand new pass"), ("confirm", "a brand new pass")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(b.get("/dashboard").await.status(), 200, "this session stays");
    assert_eq!(other.get("/dashboard").await.status(), 303, "other sessions end");
    let fresh = Browser::new(&app.base);
    assert_eq!(fresh.post_form("/login", &[("email", "eve@example.com"), ("password", PASSWORD)]).await.status(), 401);
    assert_eq!(fresh.post_form("/login", &[("email", "eve@example.com"), ("password", "a brand new pass")]).await.status(), 303);
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_is_throttled_per_ip_across_emails() {
    let app = TestApp::spawn_with(
        &crate::harness::redis_url(),
        std::collections::HashMap::from([("IGNY8_LOGIN_MAX_FAILURES_IP", "3".to_string())]),
    )
    .await;
    app.signup("Fox", "fox@example.com", "Fox Co").await;
    let b = app.browser();
    for i in 0..3 {
        let r = b.post_form("/login", &[("email", &format!("guess{i}@example.com")), ("password", "wrong password!")]).await;
        assert_eq!(r.status(), 401);
    }
    // A fourth address from the same IP is refused before its password is even checked.
    let r = b.post_form("/login", &[("email", "fox@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), 429);
    assert_eq!(app.count("sessions").await, 1, "only the sign-up's session exists");
}
