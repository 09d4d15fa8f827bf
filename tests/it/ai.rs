//! The AI layer end to end: jobs calling a fake provider over HTTP, with every failure path.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::ai::{self, AiError, ChatRequest, ImageRequest};
use igny8::db::schema::{ai_calls, ai_settings, credit_ledger, jobs};
use igny8::jobs::queue::{self, NewJob};
use serde_json::json;

use crate::fake_ai::{FakeAi, Reply};
use crate::harness::{Browser, TestApp};

async fn app_with_ai(extra: &[(&'static str, &str)]) -> TestApp {
    let mut env: HashMap<&str, String> = HashMap::from([
        ("IGNY8_WORKERS", "2".to_string()),
        ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string()),
        ("IGNY8_AI_TIMEOUT_SECS", "1".to_string()),
    ]);
    for (k, v) in extra {
        env.insert(k, v.to_string());
    }
    let app = TestApp::spawn_with(&crate::harness::redis_url(), env).await;
    app.allow_own_ai_keys().await;
    app
}

async fn use_fake(owner: &Browser, fake: &FakeAi, fallback: &str) {
    let r = owner
        .api(
            reqwest::Method::PUT,
            "/api/settings/ai",
            Some(json!({
                "text_provider": "openai", "text_base_url": fake.base, "text_api_key": "sk-test-SECRET-123456",
                "text_model": "gpt-4o-mini", "fallback_model": fallback,
                "image_provider": "openai", "image_base_url": fake.base, "image_api_key": "img-key-0987654321", "image_model": "dall-e-3",
            })),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

fn prompt_job(tid: i64, json_out: bool, max_attempts: i32) -> NewJob {
    NewJob { credits: 1, max_attempts, ..NewJob::new(tid, ai::jobs::PROMPT, json!({ "prompt": "Say OK", "json": json_out })) }
}

async fn run(app: &TestApp, job: NewJob) -> (String, i32, Option<String>, i64) {
    let id = queue::enqueue(&app.state.db, job).await.unwrap();
    igny8::jobs::worker::wake(&app.state).await;
    let mut conn = app.db().await;
    let start = Instant::now();
    loop {
        let (status, attempts, err): (String, i32, Option<String>) =
            jobs::table.filter(jobs::id.eq(id)).select((jobs::status, jobs::attempts, jobs::last_error)).first(&mut conn).await.unwrap();
        if !matches!(status.as_str(), "queued" | "running") {
            return (status, attempts, err, id);
        }
        assert!(start.elapsed() < Duration::from_secs(30), "job {id} still {status}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn ledger_reasons(app: &TestApp, id: i64) -> Vec<String> {
    let mut conn = app.db().await;
    credit_ledger::table
        .filter(credit_ledger::reference.eq(format!("job:{id}")))
        .select(credit_ledger::reason)
        .order(credit_ledger::id.asc())
        .load(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_with_retry_after_is_honoured_and_calls_are_logged_with_cost() {
    let fake = FakeAi::start();
    let app = app_with_ai(&[]).await;
    let (owner, tid) = app.signup("Ann", "ann@example.com", "Ann Co").await;
    use_fake(&owner, &fake, "").await;
    fake.then([Reply::RateLimited { retry_after_secs: 1 }]);
    let (status, attempts, _, id) = run(&app, prompt_job(tid, true, 3)).await;
    assert_eq!((status.as_str(), attempts), ("succeeded", 2));
    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen[1].at.duration_since(seen[0].at) >= Duration::from_millis(1000), "waited for Retry-After");
    assert_eq!(seen[0].authorization.as_deref(), Some("Bearer sk-test-SECRET-123456"));
    assert_eq!(seen[0].body["response_format"]["type"], "json_object");
    assert_eq!(ledger_reasons(&app, id).await, ["reserve", "settle"]);
    let mut conn = app.db().await;
    let calls: Vec<(String, String, i64, i32, i32)> = ai_calls::table
        .filter(ai_calls::job_id.eq(id))
        .select((ai_calls::status, ai_calls::model, ai_calls::cost_micros, ai_calls::tokens_in, ai_calls::tokens_out))
        .order(ai_calls::id.asc())
        .load(&mut conn)
        .await
        .unwrap();
    // gpt-4o-mini at $0.15 / $0.60 per 1M tokens: 1200 in + 800 out = 180 + 480 micro-dollars.
    assert_eq!(calls, vec![("error".into(), "gpt-4o-mini".into(), 0, 0, 0), ("ok".into(), "gpt-4o-mini".into(), 660, 1200, 800)]);
    let result: Option<serde_json::Value> = jobs::table.filter(jobs::id.eq(id)).select(jobs::result).first(&mut conn).await.unwrap();
    assert_eq!(result.unwrap()["output"]["answer"], "OK");
    // The System pages show the job and the calls.
    assert!(owner.get(&format!("/system/jobs/{id}")).await.text().await.unwrap().contains("ai.prompt"));
    assert!(owner.get("/system/ai-calls").await.text().await.unwrap().contains("$0.0007"));
}

#[tokio::test(flavor = "multi_thread")]
async fn timeouts_garbage_and_truncated_output_fail_the_job_and_refund_it() {
    let fake = FakeAi::start();
    let app = app_with_ai(&[]).await;
    let (owner, tid) = app.signup("Bo", "bo@example.com", "Bo Co").await;
    use_fake(&owner, &fake, "").await;
    let cases: Vec<(Reply, bool, &str, &str)> = vec![
        (Reply::Slow(Duration::from_secs(3)), false, "dead", "did not answer within 1s"),
        (Reply::Garbage, false, "failed", "not JSON"),
        (Reply::Ok("Sure! Here is your JSON: {oops".into()), true, "failed", "not valid JSON"),
        (Reply::Truncated, true, "failed", "cut off"),
        (Reply::Status(401, "Incorrect API key provided".into()), false, "failed", "HTTP 401: Incorrect API key provided"),
    ];
    for (reply, json_out, want_status, want_reason) in cases {
        fake.then([reply.clone()]);
        let (status, _, err, id) = run(&app, prompt_job(tid, json_out, 1)).await;
        assert_eq!(status, want_status, "{reply:?}");
        let err = err.unwrap_or_default();
        assert!(err.contains(want_reason), "{reply:?}: {err}");
        assert_eq!(ledger_reasons(&app, id).await, ["reserve", "refund"], "{reply:?}");
    }
    let mut conn = app.db().await;
    assert_eq!(igny8::billing::ledger::sum(&mut conn, tid).await.unwrap(), 25, "every credit came back");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fallback_model_takes_over_when_the_first_fails() {
    let fake = FakeAi::start();
    let app = app_with_ai(&[]).await;
    let (owner, tid) = app.signup("Cy", "cy@example.com", "Cy Co").await;
    use_fake(&owner, &fake, "gpt-4o").await;
    fake.then([Reply::Status(503, "overloaded".into())]);
    let (status, attempts, _, id) = run(&app, prompt_job(tid, false, 1)).await;
    assert_eq!((status.as_str(), attempts), ("succeeded", 1));
    let models: Vec<String> = fake.seen().iter().map(|s| s.body["model"].as_str().unwrap().to_string()).collect();
    assert_eq!(models, ["gpt-4o-mini", "gpt-4o"]);
    let mut conn = app.db().await;
    let outcomes: Vec<(String, String)> = ai_calls::table
        .filter(ai_calls::job_id.eq(id))
        .select((ai_calls::model, ai_calls::status))
        .order(ai_calls::id.asc())
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(outcomes, vec![("gpt-4o-mini".into(), "error".into()), ("gpt-4o".into(), "ok".into())]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_per_model_rate_limit_is_shared_through_redis() {
    let fake = FakeAi::start();
    let app = app_with_ai(&[("IGNY8_AI_RATE_PER_MIN", "2"), ("IGNY8_WORKERS", "0")]).await;
    let other =
        app.replica(HashMap::from([("IGNY8_AI_RATE_PER_MIN", "2".to_string()), ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())])).await;
    let (owner, tid) = app.signup("Di", "di@example.com", "Di Co").await;
    use_fake(&owner, &fake, "").await;
    // Stay inside one clock minute.
    let sec = chrono::Utc::now().timestamp() % 60;
    if sec > 50 {
        tokio::time::sleep(Duration::from_secs((61 - sec) as u64)).await;
    }
    assert!(ai::router::chat(&app.state, tid, None, ChatRequest::new("s", "one")).await.is_ok());
    assert!(ai::router::chat(&other.state, tid, None, ChatRequest::new("s", "two")).await.is_ok());
    let third = ai::router::chat(&app.state, tid, None, ChatRequest::new("s", "three")).await;
    assert!(matches!(third, Err(AiError::RateLimited { retry_after: Some(_), .. })), "{third:?}");
    assert_eq!(fake.seen().len(), 2, "the third call never left the building");
}

#[tokio::test(flavor = "multi_thread")]
async fn image_providers_speak_their_wire_formats() {
    let fake = FakeAi::start();
    let app = app_with_ai(&[("IGNY8_WORKERS", "0")]).await;
    let (owner, tid) = app.signup("Ed", "ed@example.com", "Ed Co").await;
    use_fake(&owner, &fake, "").await;
    let req = ImageRequest { model: String::new(), prompt: "a red bicycle".into(), width: 1024, height: 1024 };
    let img = ai::router::image(&app.state, tid, None, req.clone()).await.unwrap();
    assert_eq!(img.content_type, "image/png");
    assert_eq!(fake.seen().last().unwrap().body["size"], "1024x1024");
    // Runware: the task array with authentication first.
    let r = owner
        .api(
            reqwest::Method::PUT,
            "/api/settings/ai",
            Some(json!({
                "text_provider": "dev", "text_base_url": "https://api.openai.com/v1", "text_model": "gpt-4o-mini",
                "image_provider": "runware", "image_base_url": format!("{}/../runware", fake.base).replace("/v1/..", ""),
                "image_api_key": "rw-key-123456789", "image_model": "runware:100@1",
            })),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let img = ai::router::image(&app.state, tid, None, req.clone()).await.unwrap();
    assert_eq!(img.content_type, "image/png");
    let sent = fake.seen().last().unwrap().body.clone();
    assert_eq!(sent[0]["taskType"], "authentication");
    assert_eq!(sent[0]["apiKey"], "rw-key-123456789");
    assert_eq!(sent[1]["taskType"], "imageInference");
    assert_eq!(sent[1]["positivePrompt"], "a red bicycle");
    // The dev provider needs no network and says what it is.
    let dev = ai::dev::DevProvider { answers: app.state.dev_answers.clone() };
    let out = ai::ImageProvider::generate(&dev, &req).await.unwrap();
    assert!(String::from_utf8(out.bytes).unwrap().contains("dev provider placeholder"));
    let mut conn = app.db().await;
    let costs: Vec<i64> = ai_calls::table
        .filter(ai_calls::operation.eq("image"))
        .select(ai_calls::cost_micros)
        .order(ai_calls::id.asc())
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(costs, vec![40_000, 1_300], "dall-e-3 $0.04, runware $0.0013 per image");
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_are_stored_encrypted_and_only_owners_and_admins_see_settings() {
    let fake = FakeAi::start();
    let app = app_with_ai(&[("IGNY8_WORKERS", "0")]).await;
    let t = app.team("ai").await;
    let r = t
        .owner
        .post_form(
            "/settings/ai",
            &[
                ("text_provider", "openai"),
                ("text_base_url", &fake.base),
                ("text_api_key", "sk-live-VERYSECRET-9876"),
                ("text_model", "gpt-4o-mini"),
                ("fallback_model", ""),
                ("image_provider", "dev"),
                ("image_base_url", ""),
                ("image_api_key", ""),
                ("image_model", "dall-e-3"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let mut conn = app.db().await;
    let stored: Option<String> = ai_settings::table.find(t.tenant_id).select(ai_settings::text_api_key_enc).first(&mut conn).await.unwrap();
    let stored = stored.unwrap();
    assert!(stored.starts_with("v1:") && !stored.contains("VERYSECRET"), "{stored}");
    let page = t.owner.get("/settings").await.text().await.unwrap();
    assert!(page.contains("sk-…9876") && !page.contains("VERYSECRET"));
    let api = t.admin.get("/api/settings/ai").await.text().await.unwrap();
    assert!(api.contains("sk-…9876") && !api.contains("VERYSECRET"));
    // Saving again without a key keeps it.
    let r = t.admin.api(reqwest::Method::PUT, "/api/settings/ai", Some(json!({
        "text_provider": "openai", "text_base_url": fake.base, "text_model": "gpt-4o", "image_provider": "dev", "image_model": "dall-e-3"
    }))).await;
    assert_eq!(r.status(), 200);
    let again: Option<String> = ai_settings::table.find(t.tenant_id).select(ai_settings::text_api_key_enc).first(&mut conn).await.unwrap();
    assert_eq!(again.as_deref(), Some(stored.as_str()));

    for b in [&t.viewer, &t.editor] {
        assert_eq!(b.get("/settings").await.status(), 403);
        assert_eq!(b.get("/api/settings/ai").await.status(), 403);
        assert_eq!(
            b.post_form(
                "/settings/ai",
                &[
                    ("text_provider", "dev"),
                    ("text_model", "x"),
                    ("image_provider", "dev"),
                    ("image_model", "y"),
                    ("text_base_url", "https://api.openai.com/v1")
                ]
            )
            .await
            .status(),
            403
        );
        assert_eq!(b.api(reqwest::Method::PUT, "/api/settings/ai", Some(json!({"text_provider": "dev"}))).await.status(), 403);
        assert_eq!(b.post_form("/settings/ai/test", &[]).await.status(), 403);
    }
    let after: (String, Option<String>) = ai_settings::table
        .find(t.tenant_id)
        .select((ai_settings::text_model, ai_settings::text_api_key_enc))
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(after, ("gpt-4o".to_string(), Some(stored)));

    // Bad input: unknown provider, empty model, a URL that is not one.
    let r = t
        .owner
        .post_form(
            "/settings/ai",
            &[
                ("text_provider", "skynet"),
                ("text_base_url", "not a url"),
                ("text_model", ""),
                ("image_provider", "dev"),
                ("image_model", "m"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Choose one of platform, openai, dev") && html.contains("not a valid URL") && html.contains("Text model is required")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn test_connection_shows_the_answer_or_the_exact_error() {
    let fake = FakeAi::start();
    let app = app_with_ai(&[("IGNY8_WORKERS", "0")]).await;
    let (owner, _) = app.signup("Fi", "fi@example.com", "Fi Co").await;
    // With no provider set the dev provider answers, labelled as such.
    let page = owner.post_form("/settings/ai/test", &[]).await.text().await.unwrap();
    assert!(page.contains("Connection works") && page.contains("dev-text") && page.contains("Offline dev provider (sample text, free)"));
    use_fake(&owner, &fake, "").await;
    let page = owner.post_form("/settings/ai/test", &[]).await.text().await.unwrap();
    assert!(page.contains("Connection works") && page.contains("gpt-4o-mini"), "{page}");
    fake.then([Reply::Status(401, "Incorrect API key provided: sk-test-****".into())]);
    let page = owner.post_form("/settings/ai/test", &[]).await.text().await.unwrap();
    assert!(page.contains("Connection failed") && page.contains("HTTP 401: Incorrect API key provided"), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn private_base_urls_are_refused_unless_allowed() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.signup("Gu", "gu@example.com", "Gu Co").await;
    for url in ["http://127.0.0.1:9/v1", "http://169.254.169.254/latest", "http://10.0.0.5/v1"] {
        let r = owner
            .api(
                reqwest::Method::PUT,
                "/api/settings/ai",
                Some(json!({
                    "text_provider": "openai", "text_base_url": url, "text_api_key": "sk-x-1234567890", "text_model": "m",
                    "image_provider": "dev", "image_model": "m"
                })),
            )
            .await;
        assert_eq!(r.status(), 422, "{url}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert!(v["error"]["fields"]["text_base_url"].as_str().unwrap().contains("private or local"), "{v}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_system_admins_change_model_prices_and_costs_follow_them() {
    let fake = FakeAi::start();
    let app = app_with_ai(&[("IGNY8_WORKERS", "0")]).await;
    let (owner, tid) = app.signup("Hu", "hu@example.com", "Hu Co").await;
    use_fake(&owner, &fake, "").await;
    let body = json!({ "provider": "openai", "model": "gpt-4o-mini", "input_usd": "1", "output_usd": "2", "image_usd": "0" });
    assert_eq!(owner.api(reqwest::Method::PUT, "/api/system/model-rates", Some(body.clone())).await.status(), 403);
    let mut conn = app.db().await;
    diesel::update(igny8::db::schema::users::table.filter(igny8::db::schema::users::email.eq("hu@example.com")))
        .set(igny8::db::schema::users::is_system_admin.eq(true))
        .execute(&mut conn)
        .await
        .unwrap();
    let bad = json!({ "provider": "openai", "model": "gpt-4o-mini", "input_usd": "-1", "output_usd": "abc", "image_usd": "0" });
    let r = owner.api(reqwest::Method::PUT, "/api/system/model-rates", Some(bad)).await;
    assert_eq!(r.status(), 422);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v["error"]["fields"]["input_usd"].is_string() && v["error"]["fields"]["output_usd"].is_string());
    assert_eq!(owner.api(reqwest::Method::PUT, "/api/system/model-rates", Some(body)).await.status(), 200);
    ai::router::chat(&app.state, tid, None, ChatRequest::new("s", "price check")).await.unwrap();
    let cost: i64 = ai_calls::table.select(ai_calls::cost_micros).order(ai_calls::id.desc()).first(&mut conn).await.unwrap();
    // 1200 tokens × $1/1M + 800 × $2/1M = $0.0028.
    assert_eq!(cost, 2800);
    assert!(owner.get("/system/ai-calls").await.text().await.unwrap().contains("Save price"));
}
