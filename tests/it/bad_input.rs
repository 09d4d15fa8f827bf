use crate::harness::{PASSWORD, TestApp};

/// Form fields, the message expected, and what the case is.
type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);

#[tokio::test(flavor = "multi_thread")]
async fn bad_form_input_gets_field_messages_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    let long = "x".repeat(10_000);
    let cases: Vec<Case> = vec![
        (vec![("name", ""), ("email", "a@example.com"), ("workspace", "W"), ("password", PASSWORD)], "Your name is required", "empty"),
        (
            vec![("name", &long), ("email", "a@example.com"), ("workspace", "W"), ("password", PASSWORD)],
            "at most 120 characters",
            "10 kB name",
        ),
        (
            vec![("name", "A"), ("email", "a@example.com"), ("workspace", &long), ("password", PASSWORD)],
            "at most 120 characters",
            "10 kB workspace",
        ),
        (vec![("name", "A"), ("email", "not-an-email"), ("workspace", "W"), ("password", PASSWORD)], "Enter an email address", "bad email"),
        (
            vec![("name", "A"), ("email", "a@example.com"), ("workspace", "W"), ("password", "short")],
            "at least 10 characters",
            "short password",
        ),
        (vec![("email", "a@example.com")], "Your name is required", "missing fields"),
    ];
    for (fields, message, label) in cases {
        let r = b.post_form("/signup", &fields).await;
        assert_eq!(r.status(), 422, "{label}");
        let html = r.text().await.unwrap();
        assert!(html.contains("class=\"field-error\"") && html.contains(message), "{label}: {message}");
    }
    // Non-UTF-8 bytes (percent-encoded and raw) in a form field.
    let token = b.csrf().await;
    for body in [
        format!("csrf_token={token}&name=%FF%FE&email=a%40example.com&workspace=W&password=correct+horse+battery"),
        format!("csrf_token={token}&name=ok&email=a%40example.com&workspace=\u{FFFD}&password=correct+horse+battery"),
    ] {
        let r =
            b.client.post(b.url("/signup")).header("content-type", "application/x-www-form-urlencoded").body(body).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("not valid UTF-8"));
    }
    let mut raw = format!("csrf_token={token}&name=").into_bytes();
    raw.extend_from_slice(&[0xC3, 0x28, 0xFF]);
    raw.extend_from_slice(b"&email=a%40example.com&workspace=W&password=correct+horse+battery");
    let r = b.client.post(b.url("/signup")).header("content-type", "application/x-www-form-urlencoded").body(raw).send().await.unwrap();
    assert!(r.status().is_client_error(), "raw non-UTF-8 → {}", r.status());
    assert_eq!(app.count("users").await, 0, "no partial write");
    assert_eq!(app.count("tenants").await, 0);
    assert_eq!(app.count("credit_ledger").await, 0);

    // A duplicate email gets the same answer as a new one (its owner is told by mail, when mail is set up);
    // nothing is created and the first account is untouched.
    app.signup("First", "dup@example.com", "First Co").await;
    let r = app
        .browser()
        .post_form("/signup", &[("name", "Second"), ("email", "DUP@example.com"), ("workspace", "Second Co"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/signup/sent");
    assert_eq!(app.count("tenants").await, 1, "the duplicate sign-up left no workspace behind");
    assert_eq!(app.count("users").await, 1);

    // An over-large form is refused with a message, not a 500.
    let huge = "y".repeat(300 * 1024);
    let r = b.post_form("/signup", &[("name", &huge)]).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("larger than"));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_json_bodies_get_json_errors() {
    let app = TestApp::spawn().await;
    let (owner, tid) = app.signup("Ivy", "ivy@example.com", "Ivy Co").await;
    app.set_plan(tid, "pro").await;
    let invites_before = app.count("invitations").await;
    let send = |body: &'static str, ct: &'static str| {
        let owner = &owner;
        async move {
            let token = owner.csrf().await;
            owner
                .client
                .post(owner.url("/api/team/invites"))
                .header("x-csrf-token", token)
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    for (body, ct, code, status) in [
        ("{\"email\": 42, \"role\": \"viewer\"}", "application/json", "bad_request", 400),
        ("{not json", "application/json", "bad_request", 400),
        ("\u{0}\u{1}", "application/json", "bad_request", 400),
        ("{\"email\": \"a@example.com\"}", "text/plain", "bad_request", 400),
        ("{\"email\": \"\", \"role\": \"viewer\"}", "application/json", "validation_failed", 422),
        ("{\"email\": \"a@example.com\", \"role\": \"god\"}", "application/json", "validation_failed", 422),
    ] {
        let r = send(body, ct).await;
        assert_eq!(r.status().as_u16(), status, "{body}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], code, "{body}");
        assert!(!v["error"]["message"].as_str().unwrap().is_empty());
        assert!(!v["error"]["request_id"].as_str().unwrap().is_empty());
    }
    let r = send("{\"email\": \"\", \"role\": \"viewer\"}", "application/json").await;
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["fields"]["email"], "Email is required");
    let long_email = format!("{{\"email\": \"{}@example.com\", \"role\": \"viewer\"}}", "x".repeat(10_000));
    let token = owner.csrf().await;
    let r = owner
        .client
        .post(owner.url("/api/team/invites"))
        .header("x-csrf-token", token)
        .header("content-type", "application/json")
        .body(long_email)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = owner.api(reqwest::Method::PATCH, "/api/team/members/not-a-number", Some(serde_json::json!({"role": "viewer"}))).await;
    assert_eq!(r.status(), 404);
    assert_eq!(app.count("invitations").await, invites_before);
    // Unknown API paths answer JSON 404.
    let r = owner.get("/api/nothing/here").await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"]["code"], "not_found");
}
