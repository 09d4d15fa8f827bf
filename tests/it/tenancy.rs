use reqwest::Method;

use crate::harness::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn another_tenants_ids_answer_404_and_lists_never_mix() {
    let app = TestApp::spawn().await;
    let a = app.team("ta").await;
    let b = app.team("tb").await;

    let inv: serde_json::Value = a
        .owner
        .api_post("/api/team/invites", serde_json::json!({"email": "a-pending@example.com", "role": "viewer"}))
        .await
        .json()
        .await
        .unwrap();
    let a_invite = inv["invite"]["id"].as_i64().unwrap();
    let tok: serde_json::Value = a.owner.api_post("/api/team/tokens", serde_json::json!({"name": "a-cron"})).await.json().await.unwrap();
    let a_token = tok["token"]["id"].as_i64().unwrap();
    let members: serde_json::Value = a.owner.get("/api/team/members").await.json().await.unwrap();
    let a_member = members["members"][1]["user_id"].as_i64().unwrap();
    let audit: serde_json::Value = a.owner.get("/api/system/audit").await.json().await.unwrap();
    let a_audit = audit["events"][0]["id"].as_i64().unwrap();

    // B's owner asks for A's rows by id.
    for path in [
        format!("/api/team/members/{a_member}"),
        format!("/api/team/invites/{a_invite}"),
        format!("/api/team/tokens/{a_token}"),
        format!("/api/system/audit/{a_audit}"),
    ] {
        let r = b.owner.get(&path).await;
        assert_eq!(r.status(), 404, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }
    // …and tries to change them.
    for (m, path, body) in [
        (Method::PATCH, format!("/api/team/members/{a_member}"), Some(serde_json::json!({"role": "viewer"}))),
        (Method::DELETE, format!("/api/team/members/{a_member}"), None),
        (Method::DELETE, format!("/api/team/invites/{a_invite}"), None),
        (Method::DELETE, format!("/api/team/tokens/{a_token}"), None),
    ] {
        assert_eq!(b.owner.api(m, &path, body).await.status(), 404, "{path}");
    }
    for path in
        [format!("/team/members/{a_member}/remove"), format!("/team/invites/{a_invite}/revoke"), format!("/team/tokens/{a_token}/revoke")]
    {
        assert_eq!(b.owner.post_form(&path, &[]).await.status(), 404, "{path}");
    }
    // A's rows are intact.
    assert_eq!(a.owner.get(&format!("/api/team/invites/{a_invite}")).await.status(), 200);
    let tok: serde_json::Value = a.owner.get(&format!("/api/team/tokens/{a_token}")).await.json().await.unwrap();
    assert!(tok["revoked_at"].is_null());

    // Lists hold only the caller's tenant.
    let b_members = b.owner.get("/api/team/members").await.text().await.unwrap();
    assert!(b_members.contains("owner-tb@") && !b_members.contains("-ta@"));
    let b_audit = b.owner.get("/api/system/audit?per_page=200").await.text().await.unwrap();
    assert!(!b_audit.contains("-ta@") && !b_audit.contains("a-pending"));
    let b_tokens = b.owner.get("/api/team/tokens").await.text().await.unwrap();
    assert!(!b_tokens.contains("a-cron"));
    let b_page = b.owner.get("/team").await.text().await.unwrap();
    assert!(!b_page.contains("-ta@") && !b_page.contains("a-pending") && !b_page.contains("a-cron"));
    // Switching to a tenant you do not belong to is a 404 too.
    assert_eq!(b.owner.post_form("/tenants/switch", &[("tenant_id", &a.tenant_id.to_string())]).await.status(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_of_two_workspaces_switches_between_them() {
    let app = TestApp::spawn().await;
    let a = app.team("sa").await;
    let (b_owner, b_tid) = app.signup("Bea", "bea@example.com", "Bea Books").await;
    app.set_plan(b_tid, "starter").await;
    // Invite A's editor (an existing user) to B as a viewer; they accept with their password.
    let inv: serde_json::Value = b_owner
        .api_post("/api/team/invites", serde_json::json!({"email": "editor-sa@example.com", "role": "viewer"}))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/invite/{}", inv["accept_url"].as_str().unwrap().split("/invite/").nth(1).unwrap());
    let (status, html) = a.editor.get_text(&path).await;
    assert_eq!(status, 200);
    assert!(html.contains("already have an IGNY8 account"));
    let r = a.editor.post_form(&path, &[("password", "wrong password")]).await;
    assert_eq!(r.status(), 422);
    let r = a.editor.post_form(&path, &[("password", crate::harness::PASSWORD)]).await;
    assert_eq!(r.status(), 303);
    let me: serde_json::Value = a.editor.get("/api/me").await.json().await.unwrap();
    assert_eq!((me["tenant"]["id"].as_i64(), me["role"].as_str()), (Some(b_tid), Some("viewer")));
    let dash = a.editor.get("/dashboard").await.text().await.unwrap();
    assert!(dash.contains("Bea Books") && dash.contains("Workspace sa"), "switcher lists both");
    assert_eq!(a.editor.post_form("/tenants/switch", &[("tenant_id", &a.tenant_id.to_string())]).await.status(), 303);
    let me: serde_json::Value = a.editor.get("/api/me").await.json().await.unwrap();
    assert_eq!((me["tenant"]["id"].as_i64(), me["role"].as_str()), (Some(a.tenant_id), Some("editor")));
    // The used link does not work twice.
    assert_eq!(app.browser().get(&path).await.status(), 400);
}
