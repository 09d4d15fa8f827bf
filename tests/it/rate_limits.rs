//! Request rate limits (seed §10.7): per IP, per workspace for AI-spending requests, per API token; shared by
//! replicas through Redis; the client address behind proxies; open when Redis is down. Limits are lowered
//! through the config so the tests stay small.

use std::collections::HashMap;

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::harness::TestApp;
use crate::planner::support::add_keyword;
use crate::readiness::RedisServer;

fn env(pairs: &[(&'static str, &str)]) -> HashMap<&'static str, String> {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

fn num(h: &HeaderMap, name: &str) -> i64 {
    h.get(name).unwrap_or_else(|| panic!("{name} header")).to_str().unwrap().parse().unwrap()
}

async fn get_from(c: &reqwest::Client, base: &str, path: &str, xff: Option<&str>) -> reqwest::Response {
    let mut r = c.get(format!("{base}{path}"));
    if let Some(x) = xff {
        r = r.header("x-forwarded-for", x);
    }
    r.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ip_over_its_limit_gets_429_with_headers_a_page_or_json_and_replicas_share_the_count() {
    let cfg = env(&[("IGNY8_RATE_IP_PER_MIN", "6"), ("IGNY8_TRUST_PROXY", "on")]);
    let app = TestApp::spawn_with(&crate::harness::redis_url(), cfg.clone()).await;
    let replica = app.replica(cfg).await;
    let c = reqwest::Client::new();
    let a = Some("203.0.113.1");

    // Six requests, spread over both replicas, all pass and say what is left.
    for i in 0..6 {
        let base = if i % 2 == 0 { &app.base } else { &replica.base };
        let r = get_from(&c, base, "/login", a).await;
        assert_eq!(r.status(), 200, "request {i}");
        assert_eq!(num(r.headers(), "ratelimit-limit"), 6);
        assert_eq!(num(r.headers(), "ratelimit-remaining"), 5 - i);
    }
    // The seventh, on either replica: 429, a page for a browser…
    let r = get_from(&c, &replica.base, "/login", a).await;
    assert_eq!(r.status(), 429);
    let h = r.headers().clone();
    assert!((1..=60).contains(&num(&h, "retry-after")), "Retry-After > 0");
    assert_eq!((num(&h, "ratelimit-limit"), num(&h, "ratelimit-remaining")), (6, 0));
    assert!((1..=60).contains(&num(&h, "ratelimit-reset")));
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = r.text().await.unwrap();
    assert!(page.contains("Too many requests"), "{page}");
    // …JSON for the API, in the API's error shape.
    let r = get_from(&c, &app.base, "/api/me", a).await;
    assert_eq!(r.status(), 429);
    assert!(num(r.headers(), "retry-after") > 0);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(body["error"]["request_id"].as_str().is_some_and(|s| !s.is_empty()));
    // Sign-in and sign-up are refused too, without writing anything.
    let users = app.count("users").await;
    let r = c
        .post(format!("{}/signup", app.base))
        .header("x-forwarded-for", "203.0.113.1")
        .form(&[("name", "N"), ("email", "n@example.com"), ("workspace", "W"), ("password", crate::harness::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(app.count("users").await, users);

    // Another address is not affected; the probes and static files are never counted.
    assert_eq!(get_from(&c, &app.base, "/login", Some("203.0.113.2")).await.status(), 200);
    for path in ["/healthz", "/readyz", "/static/app.css"] {
        assert_eq!(get_from(&c, &app.base, path, a).await.status(), 200, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_forwarded_for_does_not_reset_the_count_and_is_ignored_without_trust_proxy() {
    // Behind one trusted proxy: the right-most hop is the client, whatever it put to the left.
    let app = TestApp::spawn_with(&crate::harness::redis_url(), env(&[("IGNY8_RATE_IP_PER_MIN", "3"), ("IGNY8_TRUST_PROXY", "on")])).await;
    let c = reqwest::Client::new();
    for i in 0..3 {
        let r = get_from(&c, &app.base, "/login", Some(&format!("198.51.100.{i}, 203.0.113.7"))).await;
        assert_eq!(r.status(), 200);
    }
    let r = get_from(&c, &app.base, "/login", Some("198.51.100.99, 203.0.113.7")).await;
    assert_eq!(r.status(), 429, "a new left-hand hop is no new client");
    assert_eq!(get_from(&c, &app.base, "/login", Some("203.0.113.7, 203.0.113.8")).await.status(), 200, "the right-most hop counts");

    // Trust-proxy off: the header is ignored, the socket peer counts.
    let app = TestApp::spawn_with(&crate::harness::redis_url(), env(&[("IGNY8_RATE_IP_PER_MIN", "3")])).await;
    for i in 0..3 {
        assert_eq!(get_from(&c, &app.base, "/login", Some(&format!("198.51.100.{i}"))).await.status(), 200);
    }
    assert_eq!(get_from(&c, &app.base, "/login", Some("198.51.100.200")).await.status(), 429);
}

/// A workspace with one keyword in one cluster; returns the browser and the cluster id.
async fn workspace_with_cluster(app: &TestApp, tag: &str) -> (crate::harness::Browser, i64) {
    let (b, _) = app.signup("Ann", &format!("ann-{tag}@example.com"), &format!("Ann {tag}")).await;
    let kw = add_keyword(&b, &format!("shoes {tag}"), 100).await;
    let r = b.api_post("/api/planner/clusters", json!({ "name": "Shoes", "description": "Shoes" })).await;
    assert_eq!(r.status(), 201);
    let cluster = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = b.api_post("/api/planner/keywords/bulk", json!({ "action": "move", "ids": [kw], "cluster_id": cluster.to_string() })).await;
    assert_eq!(r.status(), 200);
    (b, cluster)
}

#[tokio::test(flavor = "multi_thread")]
async fn ai_spending_requests_are_limited_per_workspace_and_a_refused_one_writes_nothing() {
    let app = TestApp::spawn_with(&crate::harness::redis_url(), env(&[("IGNY8_RATE_AI_PER_MIN", "3")])).await;
    let (b, cluster) = workspace_with_cluster(&app, "a").await;
    let (other, other_cluster) = workspace_with_cluster(&app, "b").await;

    // Reads and other writes are not AI requests.
    for _ in 0..5 {
        assert_eq!(b.get("/api/planner/clusters").await.status(), 200);
    }
    let r = b.api_post("/api/planner/keywords/bulk", json!({ "action": "set_status", "ids": [], "status": "new" })).await;
    assert_ne!(r.status(), 429);

    for i in 0..3 {
        let r = b.api_post("/api/planner/clusters/ideas", json!({ "cluster_ids": [cluster], "count": 3 })).await;
        assert_eq!(r.status(), 202, "AI request {i}: {}", r.text().await.unwrap());
    }
    let (jobs, ledger) = (app.count("jobs").await, app.count("credit_ledger").await);
    let r = b.api_post("/api/planner/clusters/ideas", json!({ "cluster_ids": [cluster], "count": 3 })).await;
    assert_eq!(r.status(), 429);
    assert!(num(r.headers(), "retry-after") > 0);
    assert_eq!(num(r.headers(), "ratelimit-limit"), 3);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "rate_limited");
    // Another AI route of the same workspace shares the limit (a bulk form's AI action included).
    let r = b.api_post("/api/planner/keywords/bulk", json!({ "action": "cluster_ai", "ids": [] })).await;
    assert_eq!(r.status(), 429);
    assert_eq!((app.count("jobs").await, app.count("credit_ledger").await), (jobs, ledger), "a refused request writes nothing");
    // A plain read still passes, and so does another workspace.
    assert_eq!(b.get("/api/planner/clusters").await.status(), 200);
    let r = other.api_post("/api/planner/clusters/ideas", json!({ "cluster_ids": [other_cluster], "count": 3 })).await;
    assert_eq!(r.status(), 202);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_token_is_limited_on_its_own() {
    let app = TestApp::spawn_with(&crate::harness::redis_url(), env(&[("IGNY8_RATE_TOKEN_PER_MIN", "4")])).await;
    let (b, _) = app.signup("Tom", "tom@example.com", "Tom Co").await;
    let secret = |v: Value| v["secret"].as_str().unwrap().to_string();
    let one = secret(b.api_post("/api/team/tokens", json!({ "name": "one" })).await.json().await.unwrap());
    let two = secret(b.api_post("/api/team/tokens", json!({ "name": "two" })).await.json().await.unwrap());
    let c = reqwest::Client::new();
    let me = |t: String| c.get(format!("{}/api/me", app.base)).bearer_auth(t).send();
    for i in 0..4 {
        let r = me(one.clone()).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(num(r.headers(), "ratelimit-remaining"), 3 - i);
    }
    let r = me(one.clone()).await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(num(r.headers(), "ratelimit-limit"), 4);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "rate_limited");
    assert_eq!(me(two).await.unwrap().status(), 200, "another token is not affected");
    assert_eq!(b.get("/api/me").await.status(), 200, "nor the session from the same address");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_redis_down_requests_pass_and_readyz_says_the_limits_are_off() {
    let mut redis = RedisServer::start();
    let app = TestApp::spawn_with(&format!("redis://127.0.0.1:{}", redis.1), env(&[("IGNY8_RATE_IP_PER_MIN", "2")])).await;
    let c = reqwest::Client::new();
    let ready: Value = get_from(&c, &app.base, "/readyz", None).await.json().await.unwrap();
    assert_eq!(ready["rate_limits"]["on"], true);
    for _ in 0..2 {
        assert_eq!(get_from(&c, &app.base, "/login", None).await.status(), 200);
    }
    assert_eq!(get_from(&c, &app.base, "/login", None).await.status(), 429, "limited while Redis answers");

    redis.0.kill().unwrap();
    redis.0.wait().unwrap();
    for _ in 0..5 {
        let r = get_from(&c, &app.base, "/login", None).await;
        assert_eq!(r.status(), 200, "fail open");
        assert!(r.headers().get("ratelimit-limit").is_none(), "nothing was counted");
    }
    // /readyz keeps its contract (503 naming Redis; 200 with redis=optional) and notes the limits are off.
    let r = get_from(&c, &app.base, "/readyz", None).await;
    assert_eq!(r.status(), 503);
    let r = get_from(&c, &app.base, "/readyz?redis=optional", None).await;
    assert_eq!(r.status(), 200);
    let ready: Value = r.json().await.unwrap();
    assert_eq!(ready["rate_limits"]["on"], false);
    assert!(ready["rate_limits"]["note"].as_str().unwrap().contains("off"));
}

/// Every route the AI limit names is a POST route the app registers, so a renamed route cannot silently stop
/// counting (read from the source, like the layers test).
#[test]
fn every_ai_spending_pattern_is_a_registered_post_route() {
    let registered = crate::source_routes::registered();
    for r in igny8::web::rate_limit::AI_SPENDING {
        assert!(registered.contains(&("POST".to_string(), r.pattern.to_string())), "{} is not a registered POST route", r.pattern);
    }
    assert!(igny8::web::rate_limit::AI_SPENDING.len() >= 20);
}
