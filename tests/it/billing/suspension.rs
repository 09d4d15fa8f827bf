use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::tenants;
use reqwest::Method;
use serde_json::{Value, json};

use super::support::*;
use crate::harness::TestApp;

async fn counts(app: &TestApp, tid: i64) -> Vec<i64> {
    let mut out = vec![];
    for t in ["jobs", "keywords", "keyword_imports", "tasks", "clusters", "publications", "cron_runs", "credit_ledger", "api_tokens"] {
        out.push(app.count(t).await);
    }
    out.push(workspace(app, tid).await.balance);
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_suspended_workspace_reads_and_pays_but_every_kind_of_write_is_402() {
    let app = app().await;
    let (b, tid) = app.signup("Sue", "sue@example.com", "Sue Co").await;
    // Some work while active: a keyword, a task, an API token.
    assert_eq!(b.api_post("/api/planner/keywords", json!({"keyword": "trail shoes"})).await.status(), 201);
    let r = b
        .api_post(
            "/api/writer/tasks",
            json!({"title": "Trail shoes guide", "target_keywords": "trail shoes", "outline": "Fit\nGrip", "word_count_goal": "800"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let task: i64 = {
        let mut conn = app.db().await;
        igny8::db::schema::tasks::table.select(igny8::db::schema::tasks::id).first(&mut conn).await.unwrap()
    };
    let tok: Value = b.api_post("/api/team/tokens", json!({"name": "cron"})).await.json().await.unwrap();
    let secret = tok["secret"].as_str().unwrap().to_string();

    // A failed payment past its grace period: suspended by the scheduler's sweep.
    let failed = event("evt_f", "invoice.payment_failed", now() - 10, invoice("in_f", tid, "cus_sue", PRICE_STARTER, now()));
    assert_eq!(deliver(&app, &failed).await.0, 200);
    let mut conn = app.db().await;
    igny8::billing::subscription::suspend_overdue(&mut conn, chrono::Utc::now() + chrono::Duration::days(4)).await.unwrap();
    assert_eq!(workspace(&app, tid).await.status, "suspended");

    let before = counts(&app, tid).await;
    let attempts: Vec<(&str, Method, String, Value)> = vec![
        ("AI clustering", Method::POST, "/api/planner/cluster".into(), json!({"mode": "ai", "all": true})),
        ("AI article", Method::POST, "/api/writer/tasks/generate".into(), json!({"ids": [task]})),
        ("AI images", Method::POST, "/api/writer/tasks/images".into(), json!({"ids": [task]})),
        ("publish", Method::POST, format!("/api/publish/tasks/{task}"), json!({})),
        ("automation run", Method::POST, "/api/automation/cluster/run".into(), json!({})),
        ("API write", Method::POST, "/api/planner/keywords".into(), json!({"keyword": "road shoes"})),
        ("API edit", Method::DELETE, "/api/planner/keywords/1".into(), json!({})),
        ("token", Method::POST, "/api/team/tokens".into(), json!({"name": "another"})),
    ];
    for (what, method, path, body) in attempts {
        let r = b.api(method, &path, Some(body)).await;
        assert_eq!(r.status(), 402, "{what}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "workspace_suspended", "{what}");
        assert!(v["error"]["message"].as_str().unwrap().contains("/billing"), "{what}: says where to go");
    }
    // An import (the body is the file).
    let token = b.csrf().await;
    let r = b
        .client
        .post(b.url("/api/planner/imports?filename=k.csv"))
        .header("x-csrf-token", token)
        .header("content-type", "text/csv")
        .body("keyword\nroad shoes\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 402, "import");
    // The API token (Bearer) is refused the same way.
    let r = reqwest::Client::new()
        .post(format!("{}/api/planner/keywords", app.base))
        .bearer_auth(&secret)
        .json(&json!({"keyword": "bearer shoes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 402, "bearer API write");
    // A page form too.
    let r = b.post_form("/planner/keywords", &[("keyword", "form shoes")]).await;
    assert_ne!(r.status(), 201);
    assert_eq!(counts(&app, tid).await, before, "nothing was written");

    // Reads go on, with the banner pointing at billing; billing itself still works.
    assert_eq!(b.get("/api/planner/keywords").await.status(), 200);
    let (status, html) = b.get_text("/planner/keywords").await;
    assert_eq!(status, 200);
    assert!(html.contains("This workspace is suspended") && html.contains("href=\"/billing\""), "banner");
    assert_eq!(b.get("/billing").await.status(), 200);
    assert_eq!(b.api(Method::PUT, "/api/billing/cap", Some(json!({"monthly_credit_cap": 50}))).await.status(), 200);

    // Payment lifts it.
    let paid = event("evt_p", "invoice.paid", now(), invoice("in_f", tid, "cus_sue", PRICE_STARTER, now() + 86400));
    assert_eq!(deliver(&app, &paid).await.0, 200);
    let st: String = tenants::table.find(tid).select(tenants::status).first(&mut conn).await.unwrap();
    assert_eq!(st, "active");
    assert_eq!(b.api_post("/api/planner/keywords", json!({"keyword": "road shoes"})).await.status(), 201);
}
