use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use igny8::db::schema::{audit_events, users};
use serde_json::{Value, json};

use super::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn only_system_administrators_reach_the_operator_tools_and_the_ledger_always_sums_to_the_balance() {
    let app = app().await;
    let t = app.team("ops").await;
    let tid = t.tenant_id;
    let (ops, ops_tid) = app.signup("Opal Operator", "opal@example.com", "Operators").await;

    // Not yet a system administrator: the owner of a workspace is refused too.
    for b in [&t.owner, &t.admin, &ops] {
        assert_eq!(b.get("/system/workspaces").await.status(), 403);
        assert_eq!(b.get("/api/system/workspaces").await.status(), 403);
        assert_eq!(b.api_post(&format!("/api/system/workspaces/{tid}/credits"), json!({"delta": 5, "reason": "x"})).await.status(), 403);
        assert_eq!(b.api_post(&format!("/api/system/workspaces/{tid}/status"), json!({"action": "suspend"})).await.status(), 403);
    }
    let mut conn = app.db().await;
    diesel::update(users::table.filter(users::email.eq("opal@example.com")))
        .set(users::is_system_admin.eq(true))
        .execute(&mut conn)
        .await
        .unwrap();

    // A mix of movements: a paid invoice, a pack, job spends and a refund, operator grants and deductions.
    assert_eq!(
        deliver(&app, &event("evt_o1", "invoice.paid", now(), invoice("in_o1", tid, "cus_o", PRICE_PRO, now() + 86400))).await.0,
        200
    );
    let pack = json!({"id": "cs_o", "object": "checkout.session", "mode": "payment", "payment_status": "paid", "customer": "cus_o",
                      "metadata": {"tenant_id": tid.to_string(), "kind": "credit_pack", "credits": "100"}});
    assert_eq!(deliver(&app, &event("evt_o2", "checkout.session.completed", now(), pack)).await.0, 200);
    for (delta, reason, reference) in [(-3, "reserve", "job:1"), (-1, "reserve", "job:2"), (1, "refund", "job:2"), (0, "settle", "job:1")] {
        conn.transaction::<_, igny8::error::AppError, _>(async move |c| {
            igny8::billing::ledger::post_in_tx(c, tid, delta, reason, reference).await?;
            Ok(())
        })
        .await
        .unwrap();
    }
    let r = ops.api_post(&format!("/api/system/workspaces/{tid}/credits"), json!({"delta": 50, "reason": "goodwill for the outage"})).await;
    assert_eq!(r.status(), 200);
    let r = ops.api_post(&format!("/api/system/workspaces/{tid}/credits"), json!({"delta": "-20", "reason": "duplicate pack"})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["balance"], 25 + 600 + 100 - 3 - 1 + 1 + 50 - 20);
    // Bad adjustments are field errors and write nothing.
    let rows = app.count("credit_ledger").await;
    for bad in [json!({"delta": 0, "reason": "nothing"}), json!({"delta": 5, "reason": "  "}), json!({"delta": "lots", "reason": "x"})] {
        assert_eq!(ops.api_post(&format!("/api/system/workspaces/{tid}/credits"), bad.clone()).await.status(), 422, "{bad}");
    }
    assert_eq!(app.count("credit_ledger").await, rows);
    let balance = workspace(&app, tid).await.balance;
    assert_eq!(balance, 25 + 600 + 100 - 3 - 1 + 1 + 50 - 20);
    assert_eq!(ledger_sum(&app, tid).await, balance);

    // The adjustment is in the workspace's own audit trail, with its reason.
    let reasons: Vec<Value> = audit_events::table
        .filter(audit_events::tenant_id.eq(tid))
        .filter(audit_events::action.eq("billing.credits_adjusted"))
        .select(audit_events::detail)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(reasons.len(), 2);
    assert!(reasons.iter().any(|d| d["reason"] == "goodwill for the outage" && d["delta"] == 50));

    // The list: plan, status, balance and this month's spend (3 reserved, 1 reserved and refunded).
    let list: Value = ops.get("/api/system/workspaces").await.json().await.unwrap();
    let row = list["workspaces"].as_array().unwrap().iter().find(|w| w["id"] == tid).unwrap().clone();
    assert_eq!(
        (row["plan_code"].as_str(), row["status"].as_str(), row["credits_balance"].as_i64(), row["spent_this_month"].as_i64()),
        (Some("pro"), Some("active"), Some(balance), Some(3))
    );
    let (status, html) = ops.get_text("/system/workspaces").await;
    assert_eq!(status, 200);
    assert!(html.contains("Workspace ops"), "the page lists the workspace");

    // Plan change, suspend (writes refused), reinstate (writes again).
    assert_eq!(ops.api_post(&format!("/api/system/workspaces/{tid}/plan"), json!({"plan": "enterprise"})).await.status(), 204);
    assert_eq!(ops.api_post(&format!("/api/system/workspaces/{tid}/plan"), json!({"plan": "gold"})).await.status(), 422);
    assert_eq!(workspace(&app, tid).await.plan, "enterprise");
    assert_eq!(ops.api_post(&format!("/api/system/workspaces/{tid}/status"), json!({"action": "suspend"})).await.status(), 204);
    assert_eq!(t.editor.api_post("/api/planner/keywords", json!({"keyword": "x shoes"})).await.status(), 402);
    assert_eq!(ops.api_post(&format!("/api/system/workspaces/{tid}/status"), json!({"action": "reinstate"})).await.status(), 204);
    assert_eq!(t.editor.api_post("/api/planner/keywords", json!({"keyword": "x shoes"})).await.status(), 201);
    // An operator whose own workspace is suspended still runs the platform: its tools act outside that workspace.
    let own = format!("/api/system/workspaces/{ops_tid}/status");
    assert_eq!(ops.api_post(&own, json!({"action": "suspend"})).await.status(), 204);
    assert_eq!(ops.api_post("/api/planner/keywords", json!({"keyword": "own shoes"})).await.status(), 402);
    let rate = json!({"provider": "openai", "model": "gpt-ops", "input_usd": 1, "output_usd": 2, "image_usd": 0});
    assert_eq!(ops.api(reqwest::Method::PUT, "/api/system/model-rates", Some(rate)).await.status(), 200);
    assert_eq!(ops.api_post(&own, json!({"action": "reinstate"})).await.status(), 204);
    // The page form too.
    let r = ops.post_form(&format!("/system/workspaces/{tid}/credits"), &[("delta", "7"), ("reason", "form grant")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(ledger_sum(&app, tid).await, workspace(&app, tid).await.balance);
    assert_eq!(workspace(&app, tid).await.balance, balance + 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_cannot_see_billing_and_an_admin_sees_it_read_only() {
    let app = app().await;
    let t = app.team("bill").await;
    assert_eq!(t.viewer.get("/billing").await.status(), 403);
    assert_eq!(t.editor.get("/billing").await.status(), 403);
    assert_eq!(t.viewer.get("/api/billing/ledger").await.status(), 403);
    let (status, html) = t.admin.get_text("/billing").await;
    assert_eq!(status, 200);
    assert!(!html.contains("action=\"/billing/checkout\"") && !html.contains("action=\"/billing/cap\""), "no buttons for admins");
    assert_eq!(t.admin.api(reqwest::Method::PUT, "/api/billing/cap", Some(json!({"monthly_credit_cap": 5}))).await.status(), 403);
    let (status, html) = t.owner.get_text("/billing").await;
    assert_eq!(status, 200);
    assert!(html.contains("action=\"/billing/checkout\""), "owners get the plan buttons");
}
