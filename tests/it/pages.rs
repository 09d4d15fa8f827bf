use crate::harness::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn every_module_has_a_page_in_the_layout() {
    let app = TestApp::spawn().await;
    let (b, _) = app.signup("Max", "max@example.com", "Max Co").await;
    for path in [
        "/dashboard",
        "/team",
        "/system",
        "/system/jobs",
        "/system/ai-calls",
        "/billing",
        "/settings",
        "/account/password",
        "/planner/keywords",
        "/planner/clusters",
        "/planner/ideas",
        "/planner/imports",
        "/writer/tasks",
        "/writer/images",
        "/thinker/prompts",
        "/thinker/prompts/content",
        "/thinker/profiles",
        "/thinker/strategies",
        "/thinker/playground",
        "/sites",
        "/automation",
    ] {
        let (status, html) = b.get_text(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.contains("class=\"sidebar\"") && html.contains("Max Co"), "{path} in layout");
    }
    // Every module is built: no page says "coming next" any more.
    let (_, html) = b.get_text("/automation").await;
    assert!(!html.contains("Coming next") && html.contains("No runs yet"), "the automation page with its empty history");
    let nav = b.get("/dashboard").await.text().await.unwrap();
    for label in ["Dashboard", "Planner", "Writer", "Thinker", "Sites", "Automation", "Billing", "Settings", "Team", "System"] {
        assert!(nav.contains(&format!(">{label}</a>")), "nav has {label}");
    }
    // Signed out, pages redirect to sign-in keeping the target.
    let anon = app.browser();
    let r = anon.get("/team").await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?next=%2Fteam");
    let r = anon.get("/api/me").await;
    assert_eq!(r.status(), 401);
    // An unknown page is a 404 page with a request id.
    let (status, html) = b.get_text("/no/such/page").await;
    assert_eq!(status, 404);
    assert!(html.contains("request <code>"));
}

#[tokio::test(flavor = "multi_thread")]
async fn static_files_are_embedded_with_cache_headers_and_htmx_fragments_work() {
    let app = TestApp::spawn().await;
    let (b, _) = app.signup("Ned", "ned@example.com", "Ned Co").await;
    let html = b.get("/dashboard").await.text().await.unwrap();
    let at = html.find("/static/vendor/htmx/htmx.min.js?v=").expect("versioned htmx url");
    let url: String = html[at..].chars().take_while(|c| *c != '"').collect();
    let r = b.get(&url).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(r.text().await.unwrap().contains("htmx"));
    assert_eq!(b.get("/static/vendor/htmx/LICENSE").await.status(), 200);
    assert_eq!(b.get("/static/../Cargo.toml").await.status(), 404);

    // An HTMX request for the audit list gets only the table fragment; a boosted one the whole page.
    let frag = b.client.get(b.url("/system?action=workspace")).header("hx-request", "true").send().await.unwrap().text().await.unwrap();
    assert!(frag.contains("workspace.created") && !frag.contains("<html"));
    let full = b
        .client
        .get(b.url("/system"))
        .header("hx-request", "true")
        .header("hx-boosted", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(full.contains("<html"));
    // HTMX errors come back as a toast trigger, leaving the page as it is.
    let r = b
        .client
        .post(b.url("/team/members/999999/remove"))
        .header("hx-request", "true")
        .header("x-csrf-token", b.csrf().await)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["hx-reswap"], "none");
    assert!(r.headers()["hx-trigger"].to_str().unwrap().contains("toast"));
    // Toasts after a redirect arrive through the flash cookie on the next page.
    let r = b.post_form("/team/tokens", &[("name", "t1")]).await;
    assert_eq!(r.status(), 200);
    let list: serde_json::Value = b.get("/api/team/tokens").await.json().await.unwrap();
    let id = list["tokens"][0]["id"].as_i64().unwrap();
    assert_eq!(b.post_form(&format!("/team/tokens/{id}/revoke"), &[]).await.status(), 303);
    let page = b.get("/team").await.text().await.unwrap();
    assert!(page.contains("Token revoked"));
    let page = b.get("/team").await.text().await.unwrap();
    assert!(!page.contains("Token revoked"), "a toast shows once");
}
