use crate::harness::{PASSWORD, TestApp};

#[tokio::test(flavor = "multi_thread")]
async fn posts_without_a_valid_token_are_refused_and_write_nothing() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    b.csrf().await; // the browser has a CSRF cookie, but the form below leaves the field out
    let users = app.count("users").await;
    let r = b
        .post_form_no_csrf("/signup", &[("name", "Mallory"), ("email", "m@example.com"), ("workspace", "M"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Reload the page"));
    assert_eq!(app.count("users").await, users);
    assert_eq!(app.count("tenants").await, 0);

    let r = b
        .post_form_no_csrf(
            "/signup",
            &[
                ("csrf_token", "forged-token-forged-token-forged-token"),
                ("name", "M"),
                ("email", "m@example.com"),
                ("workspace", "M"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), 403, "a wrong token");

    // Signed in: the invite form and the JSON API both need the token.
    let (owner, tid) = app.signup("Olga", "olga@example.com", "Olga Co").await;
    app.set_plan(tid, "agency").await;
    let r = owner.post_form_no_csrf("/team/invites", &[("email", "x@example.com"), ("role", "editor")]).await;
    assert_eq!(r.status(), 403);
    let r = owner
        .client
        .post(owner.url("/api/team/invites"))
        .json(&serde_json::json!({"email": "x@example.com", "role": "editor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "csrf_failed");
    assert_eq!(app.count("invitations").await, 0);
    // Logout too (a forced sign-out is an attack as well).
    assert_eq!(owner.post_form_no_csrf("/logout", &[]).await.status(), 403);
    assert_eq!(owner.get("/dashboard").await.status(), 200);
}
