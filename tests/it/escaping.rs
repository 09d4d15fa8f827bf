use crate::harness::{PASSWORD, TestApp};

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(2)>";

#[tokio::test(flavor = "multi_thread")]
async fn hostile_names_and_emails_are_shown_escaped() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    let r = b
        .post_form(
            "/signup",
            &[
                ("name", &format!("Eve {IMG}")),
                ("email", "eve@example.com"),
                ("workspace", &format!("Acme {SCRIPT}")),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(b.post_form("/login", &[("email", "eve@example.com"), ("password", PASSWORD)]).await.status(), 303);
    let me: serde_json::Value = b.get("/api/me").await.json().await.unwrap();
    let tid = me["tenant"]["id"].as_i64().unwrap();
    app.set_plan(tid, "pro").await;
    // An invite email with markup is rejected as an email…
    let r = b.post_form("/team/invites", &[("email", &format!("x{IMG}@example.com")), ("role", "viewer")]).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(!html.contains("<img src=x"), "the rejected value is echoed escaped");
    // …while a valid but odd one is stored and shown escaped.
    let odd = "o'hara&sons@example.com";
    assert_eq!(b.post_form("/team/invites", &[("email", odd), ("role", "viewer")]).await.status(), 200);

    for path in ["/dashboard", "/team", "/system", "/billing", "/planner/keywords"] {
        let (status, html) = b.get_text(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(!html.contains(SCRIPT), "{path} has a raw script tag");
        assert!(!html.contains("<img src=x"), "{path} has a raw img tag");
        assert!(!html.contains("o'hara&sons"), "{path} has raw quote/ampersand");
    }
    let (_, team) = b.get_text("/team").await;
    assert!(team.contains("&#60;script&#62;") || team.contains("&lt;script&gt;"), "workspace name shown, escaped");
    assert!(team.contains("&#34;&#62;&#60;img") || team.contains("&quot;&gt;&lt;img"), "user name shown, escaped");
    assert!(team.contains("o&#39;hara&#38;sons") || team.contains("o&#x27;hara&amp;sons"), "invite email shown, escaped");
    // Responses carry the security headers.
    let r = b.get("/team").await;
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["referrer-policy"], "same-origin");
    let html = r.text().await.unwrap();
    assert!(!html.contains("<script>"), "no inline scripts");
}
