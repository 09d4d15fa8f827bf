use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::credit_ledger;

use crate::harness::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn invites_past_the_plan_user_limit_are_refused_with_the_limit_named() {
    let app = TestApp::spawn().await;
    let (owner, tid) = app.signup("Fay", "fay@example.com", "Fay Co").await;
    // Free plan: 1 user, already taken by the owner.
    let r = owner.post_form("/team/invites", &[("email", "one@example.com"), ("role", "editor")]).await;
    assert_eq!(r.status(), 409);
    let html = r.text().await.unwrap();
    assert!(html.contains("Free / Trial plan allows 1 user"), "{html}");
    let r = owner.api_post("/api/team/invites", serde_json::json!({"email": "one@example.com", "role": "editor"})).await;
    assert_eq!(r.status(), 409);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "plan_limit");
    assert_eq!(app.count("invitations").await, 0);

    // Starter: 3 users. Owner + 2 open invites fill it; the third is refused; revoking frees a seat.
    app.set_plan(tid, "starter").await;
    let first: serde_json::Value =
        owner.api_post("/api/team/invites", serde_json::json!({"email": "a@example.com", "role": "editor"})).await.json().await.unwrap();
    assert_eq!(owner.api_post("/api/team/invites", serde_json::json!({"email": "b@example.com", "role": "viewer"})).await.status(), 201);
    let r = owner.api_post("/api/team/invites", serde_json::json!({"email": "c@example.com", "role": "viewer"})).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("Starter plan allows 3 users"));
    let id = first["invite"]["id"].as_i64().unwrap();
    assert_eq!(owner.api(reqwest::Method::DELETE, &format!("/api/team/invites/{id}"), None).await.status(), 204);
    assert_eq!(owner.api_post("/api/team/invites", serde_json::json!({"email": "c@example.com", "role": "viewer"})).await.status(), 201);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_balance_shown_is_the_ledger_sum() {
    let app = TestApp::spawn().await;
    let (owner, tid) = app.signup("Gus", "gus@example.com", "Gus Co").await;
    // Post a few movements through the one ledger writer, one of them twice (idempotent).
    let mut conn = app.db().await;
    use diesel_async::AsyncConnection;
    for (delta, reason, reference) in
        [(-3, "article", "task:1"), (-1, "image", "img:1"), (-3, "article", "task:1"), (10, "topup", "manual:1")]
    {
        conn.transaction::<_, igny8::error::AppError, _>(async move |c| {
            igny8::billing::ledger::post_in_tx(c, tid, delta, reason, reference).await?;
            Ok(())
        })
        .await
        .unwrap();
    }
    let rows: Vec<i64> =
        credit_ledger::table.filter(credit_ledger::tenant_id.eq(tid)).select(credit_ledger::delta).load(&mut conn).await.unwrap();
    assert_eq!(rows.len(), 4, "opening grant + 3 distinct movements");
    let sum: i64 = rows.iter().sum();
    assert_eq!(sum, 25 - 3 - 1 + 10);
    assert_eq!(igny8::billing::ledger::sum(&mut conn, tid).await.unwrap(), sum);

    let me: serde_json::Value = owner.get("/api/me").await.json().await.unwrap();
    assert_eq!(me["tenant"]["credits_balance"], sum);
    let html = owner.get("/billing").await.text().await.unwrap();
    assert!(html.contains(&format!("id=\"credit-balance\">{sum}<")), "billing page shows Σ ledger");
    assert!(owner.get("/dashboard").await.text().await.unwrap().contains(&format!("{sum} credits")));
    let ledger: serde_json::Value = owner.get("/api/billing/ledger").await.json().await.unwrap();
    assert_eq!(ledger["entries"].as_array().unwrap().len(), 4);
    assert_eq!(ledger["entries"][0]["balance_after"], sum);
}
