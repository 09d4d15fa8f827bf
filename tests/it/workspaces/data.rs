//! Export and delete against a database with rows in every tenant table for two workspaces: the export of A holds
//! exactly A's rows (counted per table against the database) and nothing of B, secrets left out; deleting A needs
//! the owner, the typed name, a recent export and no running subscription, then removes every row with A's
//! tenant_id from every table that has the column, its Redis keys, and nothing of B.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::{audit_events, tenants, users};
use igny8::kv::redis;
use serde_json::Value;

use super::support::{counts, fill, tenant_tables, unzip};
use crate::harness::TestApp;

const SECRETS: [&str; 8] =
    ["SEALEDPASSWORD", "SEALEDPLUGIN", "SEALEDKEY", "SEALEDIMGKEY", "TOKENHASH", "INVITEHASH", "SEALEDMAIL", "$argon2"];

async fn user_id(app: &TestApp, email: &str) -> i64 {
    let mut conn = app.db().await;
    users::table.filter(users::email.eq(email)).select(users::id).first(&mut conn).await.unwrap()
}

/// Workspace A (a team) and workspace B (another owner), each with rows in every tenant table.
async fn two_filled(app: &TestApp) -> (crate::harness::Team, i64) {
    let team = app.team("exa").await;
    let (_b, b_tid) = app.signup("Bea B", "bea@example.com", "Bee Co").await;
    let mut conn = app.db().await;
    fill(&mut conn, team.tenant_id, user_id(app, "owner-exa@example.com").await, "alphatag").await;
    fill(&mut conn, b_tid, user_id(app, "bea@example.com").await, "betatag").await;
    (team, b_tid)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_export_holds_every_tenant_table_of_the_workspace_and_nothing_of_another() {
    let app = TestApp::spawn().await;
    let (team, b_tid) = two_filled(&app).await;
    let a = team.tenant_id;

    // Owners only.
    for b in [&team.admin, &team.editor, &team.viewer] {
        assert_eq!(b.get("/api/workspace/export").await.status(), 403);
    }
    let r = team.owner.get("/tenants/export").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains(&format!("igny8-workspace-{a}-")));
    let bytes = r.bytes().await.unwrap();
    let files = unzip(&bytes);

    // The manifest counts every tenant table, and each count is the database's and the file's.
    let mut conn = app.db().await;
    let expected = counts(&mut conn, a).await;
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let listed: BTreeMap<String, i64> = manifest["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["table"].as_str().unwrap().to_string(), t["rows"].as_i64().unwrap()))
        .collect();
    assert_eq!(listed.keys().cloned().collect::<Vec<_>>(), tenant_tables(&mut conn).await, "one file per tenant table");
    // The export's own audit row is written after the snapshot.
    let mut in_db = expected.clone();
    *in_db.get_mut("audit_events").unwrap() -= 1;
    assert_eq!(listed, in_db);
    for (table, n) in &listed {
        let text = String::from_utf8(files[&format!("tables/{table}.jsonl")].clone()).unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len() as i64, *n, "{table}");
        assert!(*n > 0, "{table} has rows of A");
        assert!(lines.iter().all(|l| l["tenant_id"] == a), "{table}: only A's rows");
    }
    let workspace: Value = serde_json::from_slice(&files["workspace.json"]).unwrap();
    assert_eq!(workspace["id"], a);

    // A's data is there; B's strings and secrets are not, anywhere in the archive.
    let all = String::from_utf8_lossy(&bytes).to_string();
    assert!(all.contains("keyword alphatag") && all.contains("<h2>article alphatag</h2>"));
    let image: Value = serde_json::from_slice(files["tables/images.jsonl"].split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(image["data"], "\\x89504e470d0a", "bytea kept, as hex");
    assert!(!all.contains("betatag") && !all.contains("Bee Co"), "nothing of workspace B");
    for s in SECRETS {
        assert!(!all.contains(s), "{s} must not be exported");
    }
    let sites: Value =
        serde_json::from_str(String::from_utf8(files["tables/sites.jsonl"].clone()).unwrap().lines().next().unwrap()).unwrap();
    assert!(sites.get("app_password_enc").is_none() && sites.get("plugin_secret_enc").is_none() && sites["name"] == "site alphatag");
    assert_eq!(manifest["omitted_columns"]["ai_settings"], serde_json::json!(["text_api_key_enc", "image_api_key_enc"]));

    // Recorded in A.
    let exported: i64 = audit_events::table
        .filter(audit_events::tenant_id.eq(a))
        .filter(audit_events::action.eq("workspace.exported"))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(exported, 1);
    let _ = b_tid;
}

async fn delete(b: &crate::harness::Browser, confirm: &str) -> (u16, Value) {
    let r = b.api(reqwest::Method::DELETE, "/api/workspace", Some(serde_json::json!({ "confirm": confirm }))).await;
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_removes_every_row_of_the_workspace_and_only_those() {
    let app = TestApp::spawn().await;
    let (team, b_tid) = two_filled(&app).await;
    let a = team.tenant_id;
    let name = "Workspace exa";
    let mut conn = app.db().await;
    let b_before = counts(&mut conn, b_tid).await;

    // Refused: a non-owner, a missing or wrong name, no export yet, a running subscription.
    assert_eq!(delete(&team.admin, name).await.0, 403);
    assert_eq!(team.admin.post_form("/tenants/delete", &[("confirm", name)]).await.status(), 403);
    let (status, body) = delete(&team.owner, "").await;
    assert_eq!(status, 422);
    assert!(body["error"]["fields"]["confirm"].as_str().unwrap().contains(name));
    assert_eq!(delete(&team.owner, "workspace exa").await.0, 422);
    let (status, body) = delete(&team.owner, name).await;
    assert_eq!(status, 409);
    assert!(body["error"]["message"].as_str().unwrap().contains("/tenants/export"), "{body}");
    let (_, page) = team.owner.get_text("/account/profile").await;
    assert!(page.contains("Download an export first"));
    assert_eq!(team.owner.get("/api/workspace/export").await.status(), 200);
    diesel::update(tenants::table.find(a))
        .set((tenants::stripe_subscription_id.eq("sub_live"), tenants::status.eq("active")))
        .execute(&mut conn)
        .await
        .unwrap();
    let (status, body) = delete(&team.owner, name).await;
    assert_eq!(status, 409);
    assert!(body["error"]["message"].as_str().unwrap().contains("Customer Portal"));
    assert_eq!(counts(&mut conn, a).await.values().filter(|n| **n == 0).count(), 0, "nothing deleted by a refusal");
    // Cancelled in the portal (at the end of the period): deletion goes ahead.
    diesel::update(tenants::table.find(a)).set(tenants::cancel_at_period_end.eq(true)).execute(&mut conn).await.unwrap();

    // Redis keys of both workspaces: A's go, B's stay.
    let ns = &app.config.redis_namespace;
    let keys = [
        igny8::kv::key(ns, &a.to_string(), "automation:cluster"),
        igny8::kv::key(ns, &format!("keywords{a}"), "count:1:abc"),
        igny8::kv::key(ns, &b_tid.to_string(), "automation:cluster"),
        igny8::kv::key(ns, &format!("keywords{b_tid}"), "count:1:abc"),
    ];
    let mut redis_conn = app.state.redis.get().await.unwrap();
    for k in &keys {
        redis::cmd("SET").arg(k).arg(1).query_async::<()>(&mut redis_conn).await.unwrap();
    }

    // The page form, with the typed name: the owner has no other workspace and lands on the create page.
    let r = team.owner.post_form("/tenants/delete", &[("confirm", name)]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/workspaces/new");

    // Every table with tenant_id (from the catalog) has no row of A; B is exactly as before.
    for (table, n) in counts(&mut conn, a).await {
        assert_eq!(n, 0, "{table} still has rows of the deleted workspace");
    }
    assert_eq!(counts(&mut conn, b_tid).await, b_before, "workspace B untouched");
    assert_eq!(tenants::table.find(a).count().get_result::<i64>(&mut conn).await.unwrap(), 0);
    // Members stay users, and land on the create page.
    for email in ["owner-exa@example.com", "admin-exa@example.com", "editor-exa@example.com", "viewer-exa@example.com"] {
        assert_eq!(users::table.filter(users::email.eq(email)).count().get_result::<i64>(&mut conn).await.unwrap(), 1);
    }
    let r = team.editor.get("/dashboard").await;
    assert_eq!(r.headers()["location"], "/workspaces/new");
    let exists: Vec<bool> = {
        let mut v = vec![];
        for k in &keys {
            v.push(redis::cmd("EXISTS").arg(k).query_async::<i64>(&mut redis_conn).await.unwrap() == 1);
        }
        v
    };
    assert_eq!(exists, vec![false, false, true, true], "A's Redis keys are gone, B's are not");
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_of_a_deleted_workspace_go_with_it_and_the_workers_carry_on() {
    use igny8::db::schema::jobs;
    use igny8::jobs::probe::PROBE;
    use igny8::jobs::queue::{self, NewJob};
    let env = std::collections::HashMap::from([("IGNY8_WORKERS", "2".to_string())]);
    let app = TestApp::spawn_with(&crate::harness::redis_url(), env).await;
    let (owner, a) = app.signup("Dee Doomed", "dee@example.com", "Doomed Co").await;
    let (_kay, b) = app.signup("Kay Kept", "kay@example.com", "Kept Co").await;
    // Jobs of A: running (sleeping) when the workspace goes, and queued behind them.
    let mut ids = vec![];
    for _ in 0..4 {
        ids.push(queue::enqueue(&app.state.db, NewJob::new(a, PROBE, serde_json::json!({ "sleep_ms": 1500 }))).await.unwrap());
    }
    igny8::jobs::worker::wake(&app.state).await;
    let mut conn = app.db().await;
    let start = std::time::Instant::now();
    while jobs::table.filter(jobs::id.eq(ids[0])).select(jobs::status).first::<String>(&mut conn).await.unwrap() != "running" {
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "the first job did not start");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(owner.get("/api/workspace/export").await.status(), 200);
    let (status, body) = delete(&owner, "Doomed Co").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["next_workspace"], Value::Null);
    assert_eq!(jobs::table.filter(jobs::tenant_id.eq(a)).count().get_result::<i64>(&mut conn).await.unwrap(), 0, "queued jobs deleted");

    // The running jobs end without writing anything back, and the workers go on serving other workspaces.
    tokio::time::sleep(std::time::Duration::from_millis(2000)).await;
    let next = queue::enqueue(&app.state.db, NewJob::new(b, PROBE, serde_json::json!({}))).await.unwrap();
    igny8::jobs::worker::wake(&app.state).await;
    let start = std::time::Instant::now();
    while jobs::table.filter(jobs::id.eq(next)).select(jobs::status).first::<String>(&mut conn).await.unwrap() != "succeeded" {
        assert!(start.elapsed() < std::time::Duration::from_secs(15), "another workspace's job did not run after the deletion");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for (table, n) in counts(&mut conn, a).await {
        assert_eq!(n, 0, "{table} got rows of the deleted workspace back");
    }
}
