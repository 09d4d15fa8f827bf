//! Creating, leaving and starting over: a new workspace has 0 credits (the trial comes once per person), any
//! member but the last owner can leave, and someone with no workspace left signs in and creates one.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::{audit_events, memberships, tenants, users};
use serde_json::Value;

use crate::harness::{Browser, PASSWORD, TestApp};

async fn me(b: &Browser) -> Value {
    b.get("/api/me").await.json().await.unwrap()
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    let mut conn = app.db().await;
    users::table.filter(users::email.eq(email)).select(users::id).first(&mut conn).await.unwrap()
}

async fn member_of(app: &TestApp, email: &str) -> Vec<i64> {
    let uid = user_id(app, email).await;
    let mut conn = app.db().await;
    memberships::table
        .filter(memberships::user_id.eq(uid))
        .select(memberships::tenant_id)
        .order(memberships::tenant_id)
        .load(&mut conn)
        .await
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_created_workspace_starts_free_with_0_credits_and_the_user_as_owner() {
    let app = TestApp::spawn().await;
    let (b, first) = app.signup("Cora Create", "cora@example.com", "First Co").await;
    let trial = me(&b).await["tenant"]["credits_balance"].as_i64().unwrap();
    assert!(trial > 0, "sign-up grants the trial credits");

    // The form says so, and a bad name is refused beside the field.
    let (status, page) = b.get_text("/account/profile").await;
    assert_eq!(status, 200);
    assert!(page.contains("0 credits"), "the form says the new workspace starts with 0 credits");
    let r = b.post_form("/tenants/create", &[("name", "   ")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Workspace name is required"));

    let r = b.post_form("/tenants/create", &[("name", "Second Co")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/dashboard");
    // Switched to it: the session now works in the new workspace.
    let now = me(&b).await;
    let second = now["tenant"]["id"].as_i64().unwrap();
    assert_ne!(second, first);
    assert_eq!(now["tenant"]["name"], "Second Co");
    assert_eq!(now["tenant"]["plan"], "free");
    assert_eq!(now["tenant"]["credits_balance"], 0);
    assert_eq!(now["role"], "owner");
    assert_eq!(b.get("/dashboard").await.status(), 200);

    // The API does the same; neither grants credits, and the ledger agrees with every balance.
    let r = b.api_post("/api/workspaces", serde_json::json!({ "name": "Third Co" })).await;
    assert_eq!(r.status(), 201);
    let third = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = b.api_post("/api/workspaces", serde_json::json!({ "name": "" })).await;
    assert_eq!(r.status(), 422);
    let mut conn = app.db().await;
    for (tid, expected) in [(first, trial), (second, 0), (third, 0)] {
        let (plan, balance): (String, i64) =
            tenants::table.find(tid).select((tenants::plan_code, tenants::credits_balance)).first(&mut conn).await.unwrap();
        assert_eq!(balance, expected, "workspace {tid}");
        assert_eq!(plan, "free");
        assert_eq!(igny8::billing::ledger::sum(&mut conn, tid).await.unwrap(), balance, "Σ ledger = balance for {tid}");
    }
    assert_eq!(member_of(&app, "cora@example.com").await, vec![first, second, third]);
    // Audited in the new workspace.
    let created: Vec<Value> = audit_events::table
        .filter(audit_events::tenant_id.eq(second))
        .filter(audit_events::action.eq("workspace.created"))
        .select(audit_events::detail)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["credits"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn members_leave_the_last_owner_cannot_and_each_lands_somewhere_sensible() {
    let app = TestApp::spawn().await;
    let team = app.team("lv").await;
    // The admin has a workspace of their own as well.
    assert_eq!(team.admin.api_post("/api/workspaces", serde_json::json!({ "name": "Admin Own" })).await.status(), 201);
    let own = *member_of(&app, "admin-lv@example.com").await.iter().find(|t| **t != team.tenant_id).unwrap();

    // The last owner is told what to do instead, on the page and by the API; nothing changes.
    let (_, page) = team.owner.get_text("/account/profile").await;
    assert!(page.contains("last owner"), "the page explains why the owner cannot leave");
    let r = team.owner.post_form("/tenants/leave", &[]).await;
    assert_eq!(r.status(), 303);
    let r = team.owner.api_post("/api/workspace/leave", serde_json::json!({})).await;
    assert_eq!(r.status(), 409);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().contains("Make someone else owner"));
    assert_eq!(member_of(&app, "owner-lv@example.com").await, vec![team.tenant_id]);

    // The admin leaves and lands in their own workspace.
    let r = team.admin.post_form("/tenants/leave", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/dashboard");
    assert_eq!(me(&team.admin).await["tenant"]["id"], own);
    assert_eq!(member_of(&app, "admin-lv@example.com").await, vec![own]);

    // The editor has nothing else: the page that offers to create one, never an error or a loop.
    let r = team.editor.api_post("/api/workspace/leave", serde_json::json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["next_workspace"], Value::Null);
    assert!(member_of(&app, "editor-lv@example.com").await.is_empty());
    let r = team.editor.get("/dashboard").await;
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/workspaces/new".to_string()));
    let (status, page) = team.editor.get_text("/workspaces/new").await;
    assert_eq!(status, 200);
    assert!(page.contains("not a member of any workspace"));
    assert_eq!(team.editor.get("/api/me").await.json::<Value>().await.unwrap()["error"]["code"], "no_workspace");

    // Audited in the workspace they left. Once the viewer is made owner, the first owner can leave too.
    let mut conn = app.db().await;
    let left: i64 = audit_events::table
        .filter(audit_events::tenant_id.eq(team.tenant_id))
        .filter(audit_events::action.eq("workspace.left"))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 2);
    let viewer_id = user_id(&app, "viewer-lv@example.com").await;
    let r = team.owner.post_form(&format!("/team/members/{viewer_id}/role"), &[("role", "owner")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(team.owner.api_post("/api/workspace/leave", serde_json::json!({})).await.status(), 200);
    assert_eq!(me(&team.viewer).await["role"], "owner");
}

#[tokio::test(flavor = "multi_thread")]
async fn someone_with_no_workspace_signs_in_creates_one_and_signs_out() {
    let app = TestApp::spawn().await;
    let team = app.team("none").await;
    assert_eq!(team.viewer.post_form("/tenants/leave", &[]).await.status(), 303);

    // A fresh sign-in: a session without a workspace, then the create page (no 500, no redirect loop).
    let b = app.browser();
    let r = b.post_form("/login", &[("email", "viewer-none@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), 303);
    let target = location(&r);
    let r = b.get(&target).await;
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/workspaces/new".to_string()));
    assert_eq!(b.get("/workspaces/new").await.status(), 200);
    for path in ["/planner/keywords", "/account/profile", "/team"] {
        let r = b.get(path).await;
        assert_eq!((r.status().as_u16(), location(&r)), (303, "/workspaces/new".to_string()), "{path}");
    }
    // The API sign-in works too and says why nothing else does.
    let r =
        app.browser().api_post("/api/auth/login", serde_json::json!({ "email": "viewer-none@example.com", "password": PASSWORD })).await;
    assert_eq!(r.status(), 200);
    let token: Value = r.json().await.unwrap();
    let r = reqwest::Client::new().get(format!("{}/api/me", app.base)).bearer_auth(token["token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "no_workspace");

    let r = b.post_form("/tenants/create", &[("name", "Fresh Start")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(b.get("/dashboard").await.status(), 200);
    let now = me(&b).await;
    assert_eq!(
        (now["tenant"]["name"].as_str(), now["role"].as_str(), now["tenant"]["credits_balance"].as_i64()),
        (Some("Fresh Start"), Some("owner"), Some(0))
    );

    // Signing out works with or without a workspace.
    assert_eq!(team.viewer.post_form("/logout", &[]).await.status(), 303);
    assert_eq!(team.viewer.get("/workspaces/new").await.status(), 303, "signed out: back to the sign-in page");
    assert_eq!(b.post_form("/logout", &[]).await.status(), 303);
    assert_eq!(b.get("/dashboard").await.status(), 303);
}
