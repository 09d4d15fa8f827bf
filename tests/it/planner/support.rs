//! Shared steps for the planner tests.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Browser, TestApp};

/// An app with two workers (imports and AI run as jobs) that may call the loopback fake provider.
pub async fn app() -> TestApp {
    let env: HashMap<&str, String> = HashMap::from([("IGNY8_WORKERS", "2".to_string()), ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())]);
    let app = TestApp::spawn_with(&crate::harness::redis_url(), env).await;
    app.allow_own_ai_keys().await;
    app
}

/// Uploads a file through the JSON API (the body is the file); returns the status and body.
pub async fn upload(b: &Browser, name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let token = b.csrf().await;
    let r = b
        .client
        .post(b.url(&format!("/api/planner/imports?filename={name}")))
        .header("x-csrf-token", token)
        .header("content-type", "text/csv")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Waits until the import's current step has finished; returns the import and its rejects.
pub async fn settle(b: &Browser, id: i64) -> (Value, Vec<Value>) {
    let start = Instant::now();
    loop {
        let v: Value = b.get(&format!("/api/planner/imports/{id}?per_page=200")).await.json().await.unwrap();
        let status = v["import"]["status"].as_str().unwrap_or("").to_string();
        if !matches!(status.as_str(), "uploading" | "analyzing" | "importing") {
            return (v["import"].clone(), v["rejects"].as_array().cloned().unwrap_or_default());
        }
        assert!(start.elapsed() < Duration::from_secs(60), "import {id} still {status}");
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

/// Upload, analyse, and (when the analysis succeeds) import with `on_existing`.
pub async fn import(b: &Browser, name: &str, bytes: Vec<u8>, on_existing: &str) -> (Value, Vec<Value>) {
    let (status, body) = upload(b, name, bytes).await;
    assert_eq!(status, 202, "upload: {body}");
    let id = body["id"].as_i64().unwrap();
    let (analysed, rejects) = settle(b, id).await;
    if analysed["status"] != "ready" {
        return (analysed, rejects);
    }
    let r = b.api_post(&format!("/api/planner/imports/{id}/confirm"), json!({ "on_existing": on_existing })).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let (done, _) = settle(b, id).await;
    (done, rejects)
}

/// Every keyword of the workspace through the API, as keyword → full row.
pub async fn keywords(b: &Browser) -> HashMap<String, Value> {
    let v: Value = b.get("/api/planner/keywords?per_page=200&sort=keyword").await.json().await.unwrap();
    v["keywords"].as_array().unwrap().iter().map(|k| (k["keyword"].as_str().unwrap().to_string(), k.clone())).collect()
}

pub async fn add_keyword(b: &Browser, keyword: &str, volume: i64) -> i64 {
    let r = b.api_post("/api/planner/keywords", json!({ "keyword": keyword, "volume": volume })).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// Waits for a job to end; returns (status, result, last_error).
pub async fn wait_job(app: &TestApp, id: i64) -> (String, Value, Option<String>) {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use igny8::db::schema::jobs;
    let mut conn = app.db().await;
    let start = Instant::now();
    loop {
        let (status, result, err): (String, Option<Value>, Option<String>) =
            jobs::table.filter(jobs::id.eq(id)).select((jobs::status, jobs::result, jobs::last_error)).first(&mut conn).await.unwrap();
        if !matches!(status.as_str(), "queued" | "running") {
            return (status, result.unwrap_or(Value::Null), err);
        }
        assert!(start.elapsed() < Duration::from_secs(60), "job {id} still {status}");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

pub async fn balance(b: &Browser) -> i64 {
    let me: Value = b.get("/api/me").await.json().await.unwrap();
    me["tenant"]["credits_balance"].as_i64().expect("balance in /api/me")
}

/// cluster name → its keywords (sorted), plus the unclustered keywords.
pub async fn snapshot(b: &Browser) -> (BTreeMap<String, Vec<String>>, Vec<String>) {
    let mut clusters: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut loose = Vec::new();
    for (k, v) in keywords(b).await {
        match v["cluster_name"].as_str() {
            Some(c) => clusters.entry(c.to_string()).or_default().push(k),
            None => loose.push(k),
        }
    }
    clusters.values_mut().for_each(|v| v.sort());
    loose.sort();
    (clusters, loose)
}
