//! /metrics: refused without the token (and not served at all without one configured); after a request, a job
//! with an AI call and a cron slot, every family is there with the figures those left behind.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::{ai_calls, jobs};
use igny8::jobs::queue::{self, NewJob};
use serde_json::json;

use crate::fake_ai::FakeAi;
use crate::harness::TestApp;

const TOKEN: &str = "metrics-token-0123456789";

async fn scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(format!("{}/metrics", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

/// The value of the sample with exactly this name and these labels.
fn sample(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(name_and_labels).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.parse().ok()))
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_hidden_without_a_token_and_refused_without_the_right_one() {
    let open = TestApp::spawn().await;
    assert_eq!(scrape(&open, None).await.status(), 404);
    assert_eq!(scrape(&open, Some("anything-at-all-123")).await.status(), 404);

    let app = TestApp::spawn_with(&crate::harness::redis_url(), HashMap::from([("IGNY8_METRICS_TOKEN", TOKEN.to_string())])).await;
    let r = scrape(&app, None).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("www-authenticate").is_some());
    let body = r.text().await.unwrap();
    assert!(!body.contains("igny8_"), "{body}");
    assert_eq!(scrape(&app, Some("metrics-token-wrong-0000")).await.status(), 401);
    assert_eq!(scrape(&app, Some(TOKEN)).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_family_shows_after_a_request_a_job_an_ai_call_and_a_cron_slot() {
    let fake = FakeAi::start();
    let app = TestApp::spawn_with(
        &crate::harness::redis_url(),
        HashMap::from([
            ("IGNY8_METRICS_TOKEN", TOKEN.to_string()),
            ("IGNY8_WORKERS", "2".to_string()),
            ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string()),
        ]),
    )
    .await;
    let (owner, tid) = app.signup("Mia Metrics", "mia@example.com", "Metrics Co").await;
    app.set_plan(tid, "pro").await;
    let r = owner
        .api(
            reqwest::Method::PUT,
            "/api/settings/ai",
            Some(json!({ "text_provider": "openai", "text_base_url": fake.base, "text_api_key": "sk-test-0123456789", "text_model": "gpt-4o-mini", "image_provider": "dev", "image_model": "dev-image" })),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(owner.get("/planner/keywords?page=2").await.status(), 200);

    // A paid AI job, run by the workers against the fake provider.
    let job = NewJob { credits: 1, ..NewJob::new(tid, igny8::ai::jobs::PROMPT, json!({ "prompt": "Say OK" })) };
    let id = queue::enqueue(&app.state.db, job).await.unwrap();
    igny8::jobs::worker::wake(&app.state).await;
    let mut conn = app.db().await;
    let started = Instant::now();
    loop {
        let status: String = jobs::table.filter(jobs::id.eq(id)).select(jobs::status).first(&mut conn).await.unwrap();
        if status == "succeeded" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "job still {status}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let purpose: String = ai_calls::table.filter(ai_calls::job_id.eq(id)).select(ai_calls::operation).first(&mut conn).await.unwrap();

    // With the workers stopped, a job left waiting for 90 s is the queue's depth and age.
    app.shutdown_workers(Duration::from_secs(5)).await;
    let waiting = NewJob::new(tid, igny8::ai::jobs::PROMPT, json!({ "prompt": "later" }));
    let waiting_id = queue::enqueue(&app.state.db, waiting).await.unwrap();
    diesel::update(jobs::table.filter(jobs::id.eq(waiting_id)))
        .set(jobs::run_at.eq(chrono::Utc::now() - chrono::Duration::seconds(90)))
        .execute(&mut conn)
        .await
        .unwrap();
    // A cleanup slot claimed a minute late that ran for 2.5 s.
    diesel::sql_query(
        "INSERT INTO cron_slots (step, slot, claimed_by, claimed_at, finished_at)
         VALUES ('cleanup', date_trunc('minute', now()) - interval '10 minutes', 'test',
                 date_trunc('minute', now()) - interval '9 minutes', date_trunc('minute', now()) - interval '9 minutes' + interval '2.5 seconds')",
    )
    .execute(&mut conn)
    .await
    .unwrap();

    let text = scrape(&app, Some(TOKEN)).await.text().await.unwrap();
    let has = |name_and_labels: &str| sample(&text, name_and_labels).unwrap_or_else(|| panic!("no sample {name_and_labels} in:\n{text}"));

    // Requests by route template, method and status, with latency histograms.
    assert_eq!(has(r#"igny8_http_requests_total{route="/api/settings/ai",method="PUT",status="200"}"#), 1.0);
    assert_eq!(has(r#"igny8_http_requests_total{route="/planner/keywords",method="GET",status="200"}"#), 1.0);
    assert_eq!(has(r#"igny8_http_request_duration_seconds_count{route="/planner/keywords",method="GET"}"#), 1.0);
    assert_eq!(has(r#"igny8_http_request_duration_seconds_bucket{route="/planner/keywords",method="GET",le="+Inf"}"#), 1.0);
    assert!(text.contains("# TYPE igny8_http_request_duration_seconds histogram"));
    assert!(!text.contains("page=2"), "no query strings in labels");
    // Jobs by kind and status, queue depth and the age of the oldest ready job.
    assert_eq!(has(r#"igny8_jobs_finished_last_hour{kind="ai.prompt",status="succeeded"}"#), 1.0);
    assert_eq!(has(r#"igny8_jobs{kind="ai.prompt",status="queued"}"#), 1.0);
    assert_eq!(has(r#"igny8_jobs{kind="ai.prompt",status="running"}"#), 0.0);
    assert_eq!(has(r#"igny8_jobs_ready{kind="ai.prompt"}"#), 1.0);
    let age = has(r#"igny8_jobs_oldest_ready_age_seconds{kind="ai.prompt"}"#);
    assert!((90.0..120.0).contains(&age), "age {age}");
    // AI tokens, cost and credits by purpose and model (the fake answers 1200 + 800 tokens; $0.15 / $0.60 per 1M).
    let labels = format!(r#"purpose="{purpose}",model="gpt-4o-mini""#);
    assert_eq!(has(&format!(r#"igny8_ai_calls_last_hour{{{labels},status="ok"}}"#)), 1.0);
    assert_eq!(has(&format!(r#"igny8_ai_tokens_last_hour{{{labels},direction="in"}}"#)), 1200.0);
    assert_eq!(has(&format!(r#"igny8_ai_tokens_last_hour{{{labels},direction="out"}}"#)), 800.0);
    assert!((has(&format!("igny8_ai_cost_usd_last_hour{{{labels}}}")) - 0.00066).abs() < 1e-9);
    assert_eq!(has(&format!("igny8_ai_credits_last_hour{{{labels}}}")), 1.0);
    // Cron slot lag.
    assert_eq!(has(r#"igny8_cron_slot_lag_seconds{step="cleanup"}"#), 60.0);
    assert_eq!(has(r#"igny8_cron_last_slot_duration_seconds{step="cleanup"}"#), 2.5);
    assert!(has(r#"igny8_cron_last_slot_age_seconds{step="cleanup"}"#) >= 600.0);
    // Pools.
    assert!(has(r#"igny8_pool_connections{pool="postgres",state="open"}"#) >= 1.0);
    assert_eq!(has(r#"igny8_pool_connections{pool="postgres",state="max"}"#), 6.0);
    assert_eq!(has(r#"igny8_pool_connections{pool="redis",state="max"}"#), 32.0);
    assert!(text.contains("igny8_pool_waiting{pool=\"redis\"}"));
    assert_eq!(has("igny8_metrics_database_ok"), 1.0);
}
