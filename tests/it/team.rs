use reqwest::Method;

use crate::harness::{PASSWORD, TestApp};

#[tokio::test(flavor = "multi_thread")]
async fn invite_accept_change_role_and_remove_through_the_pages() {
    let app = TestApp::spawn().await;
    let (owner, tid) = app.signup("Jo", "jo@example.com", "Jo Media").await;
    app.set_plan(tid, "pro").await;

    let r = owner.post_form("/team/invites", &[("email", "kim@example.com"), ("role", "editor")]).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let at = html.find("/invite/inv_").expect("the invite link is shown");
    let link: String = html[at..].chars().take_while(|c| *c != '"').collect();
    // Duplicate open invite → field message.
    let r = owner.post_form("/team/invites", &[("email", "kim@example.com"), ("role", "viewer")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("already open"));

    let kim = app.browser();
    let (status, page) = kim.get_text(&link).await;
    assert_eq!(status, 200);
    assert!(page.contains("Join Jo Media") && page.contains("kim@example.com"));
    let r = kim.post_form(&link, &[("name", ""), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), 422);
    let r = kim.post_form(&link, &[("name", "Kim"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), 303);
    let me: serde_json::Value = kim.get("/api/me").await.json().await.unwrap();
    assert_eq!(me["role"], "editor");
    assert_eq!(me["tenant"]["id"], tid);
    let kim_id = me["actor"]["id"].as_i64().unwrap();

    let r = owner.post_form(&format!("/team/members/{kim_id}/role"), &[("role", "admin")]).await;
    assert_eq!(r.status(), 303);
    let me: serde_json::Value = kim.get("/api/me").await.json().await.unwrap();
    assert_eq!(me["role"], "admin");

    let r = owner.post_form(&format!("/team/members/{kim_id}/remove"), &[]).await;
    assert_eq!(r.status(), 303);
    let r = kim.get("/api/me").await;
    assert_eq!(r.status(), 403, "removed from the only workspace");
    let team = owner.get("/team").await.text().await.unwrap();
    assert!(!team.contains("kim@example.com"));

    // Every change above is in the audit trail, with actor and target.
    let audit: serde_json::Value = owner.get("/api/system/audit?per_page=50").await.json().await.unwrap();
    let actions: Vec<&str> = audit["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["workspace.created", "team.invited", "team.invite_accepted", "team.role_changed", "team.member_removed"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    let removed = audit["events"].as_array().unwrap().iter().find(|e| e["action"] == "team.member_removed").unwrap();
    assert_eq!(removed["actor_label"], "jo@example.com");
    assert_eq!(removed["target_id"], kim_id.to_string());
    assert_eq!(removed["ip"], "127.0.0.1");
    // Filters on the System page narrow the list.
    let filtered: serde_json::Value = owner.get("/api/system/audit?action=team.role").await.json().await.unwrap();
    assert_eq!(filtered["events"].as_array().unwrap().len(), 1);
    let page = owner.get("/system?action=team.invited").await.text().await.unwrap();
    assert!(page.contains("team.invited") && !page.contains("<span class=\"mono\">team.member_removed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_last_owner_cannot_be_removed_or_demoted() {
    let app = TestApp::spawn().await;
    let t = app.team("own").await;
    let me: serde_json::Value = t.owner.get("/api/me").await.json().await.unwrap();
    let owner_id = me["actor"]["id"].as_i64().unwrap();
    let r = t.owner.api(Method::DELETE, &format!("/api/team/members/{owner_id}"), None).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("last owner"));
    let r = t.owner.api(Method::PATCH, &format!("/api/team/members/{owner_id}"), Some(serde_json::json!({"role": "admin"}))).await;
    assert_eq!(r.status(), 409);
    let r = t.owner.post_form(&format!("/team/members/{owner_id}/remove"), &[]).await;
    assert_eq!(r.status(), 409);
    // With a second owner, the first may step down.
    let members: serde_json::Value = t.owner.get("/api/team/members").await.json().await.unwrap();
    let admin_id = members["members"].as_array().unwrap().iter().find(|m| m["role"] == "admin").unwrap()["user_id"].as_i64().unwrap();
    assert_eq!(
        t.owner.api(Method::PATCH, &format!("/api/team/members/{admin_id}"), Some(serde_json::json!({"role": "owner"}))).await.status(),
        200
    );
    assert_eq!(
        t.owner.api(Method::PATCH, &format!("/api/team/members/{owner_id}"), Some(serde_json::json!({"role": "editor"}))).await.status(),
        200
    );
    let me: serde_json::Value = t.owner.get("/api/me").await.json().await.unwrap();
    assert_eq!(me["role"], "editor");
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_from_the_team_page_are_shown_once() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.signup("Lu", "lu@example.com", "Lu Co").await;
    let r = owner.post_form("/team/tokens", &[("name", "")]).await;
    assert_eq!(r.status(), 422);
    let r = owner.post_form("/team/tokens", &[("name", "Zapier")]).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let at = html.find("value=\"igy8_").expect("secret shown once") + 7;
    let secret: String = html[at..].chars().take_while(|c| *c != '"').collect();
    let again = owner.get("/team").await.text().await.unwrap();
    assert!(again.contains("Zapier") && !again.contains(&secret));
    let me: serde_json::Value =
        reqwest::Client::new().get(format!("{}/api/me", app.base)).bearer_auth(&secret).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["actor"]["name"], "Zapier");
}
