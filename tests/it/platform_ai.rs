//! Platform AI: the platform's providers serve a fresh workspace for credits; the dev provider is free and its
//! output labelled "sample"; with nothing configured nothing is queued or charged; a workspace's own key follows
//! its plan; AI calls never follow a redirect; only system administrators see the platform's providers.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::{ai_calls, content_ideas, credit_ledger, jobs, sites, tasks};
use serde_json::{Value, json};

use crate::fake_ai::{FakeAi, PLATFORM_KEY};
use crate::harness::{Browser, TestApp};
use crate::planner::support::{balance, wait_job};

async fn app(dev_provider: bool) -> TestApp {
    let env: HashMap<&str, String> = HashMap::from([
        ("IGNY8_WORKERS", "2".to_string()),
        ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string()),
        ("IGNY8_AI_DEV_PROVIDER", if dev_provider { "on" } else { "off" }.to_string()),
    ]);
    TestApp::spawn_with(&crate::harness::redis_url(), env).await
}

async fn task(app: &TestApp, b: &Browser, tenant_id: i64) -> i64 {
    let mut conn = app.db().await;
    let idea: i64 = diesel::insert_into(content_ideas::table)
        .values((
            content_ideas::tenant_id.eq(tenant_id),
            content_ideas::title.eq("Trail running for beginners"),
            content_ideas::target_keywords.eq(vec!["trail running".to_string()]),
            content_ideas::outline.eq(vec!["Shoes".to_string(), "Pace".to_string()]),
            content_ideas::estimated_words.eq(300),
        ))
        .returning(content_ideas::id)
        .get_result(&mut conn)
        .await
        .unwrap();
    let r = b.api_post("/api/planner/ideas/send-to-writer", json!({ "ids": [idea] })).await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["task_ids"][0].as_i64().unwrap()
}

fn article() -> String {
    let para = format!("<p>{}</p>", vec!["grippy"; 180].join(" "));
    json!({ "title": "Trail Running for Beginners", "meta_title": "Trail running for beginners", "meta_description": "Start on trails.",
            "slug": "trail-running", "primary_keyword": "trail running", "content_html": format!("<h2>Shoes</h2>{para}<h2>Pace</h2>{para}") })
    .to_string()
}

async fn ledger_rows(app: &TestApp, tid: i64) -> Vec<(i64, String)> {
    let mut conn = app.db().await;
    credit_ledger::table
        .filter(credit_ledger::tenant_id.eq(tid))
        .select((credit_ledger::delta, credit_ledger::reason))
        .order(credit_ledger::id)
        .load(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fresh_workspace_writes_on_the_platform_provider_and_pays_credits() {
    let app = app(false).await;
    let fake = FakeAi::start();
    fake.serve_platform(&app, false).await;
    let (b, tid) = app.signup("Ola", "ola@example.com", "Ola Co").await;
    let task = task(&app, &b, tid).await;
    let before = balance(&b).await;
    fake.then([crate::fake_ai::Reply::Ok(article())]);
    let r = b.api_post("/api/writer/tasks/generate", json!({ "ids": [task] })).await;
    assert_eq!(r.status(), 202, "no workspace setting needed: {}", r.text().await.unwrap());
    let job = r.json::<Value>().await.unwrap()["job_ids"][0].as_i64().unwrap();
    let (status, _, err) = wait_job(&app, job).await;
    assert_eq!(status, "succeeded", "{err:?}");
    assert_eq!(before - balance(&b).await, 3, "3 credits, as seed §8.4 says");
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].authorization.as_deref(), Some(format!("Bearer {PLATFORM_KEY}").as_str()), "the platform's key");
    let mut conn = app.db().await;
    let (source, provider): (String, String) =
        ai_calls::table.filter(ai_calls::tenant_id.eq(tid)).select((ai_calls::source, ai_calls::provider)).first(&mut conn).await.unwrap();
    assert_eq!((source.as_str(), provider.as_str()), ("platform", "openai"));
    let sample: bool = tasks::table.filter(tasks::id.eq(task)).select(tasks::sample).first(&mut conn).await.unwrap();
    assert!(!sample);
    let (_, page) = b.get_text("/settings").await;
    assert!(
        page.contains("IGNY8 platform — Platform chat") && page.contains("IGNY8 pays the provider"),
        "the page says who serves and pays"
    );
    assert!(!page.contains(PLATFORM_KEY));

    // Cost transparency: the task shows credits charged and what its calls cost (1,200 + 800 tokens of gpt-4o-mini at
    // $0.15 / $0.60 per million = $0.00066); a system administrator sees spend per workspace, purpose and model.
    let (_, page) = b.get_text(&format!("/writer/tasks/{task}")).await;
    assert!(page.contains("3 credits charged · provider cost $0.0007"), "task cost shown");
    diesel::update(igny8::db::schema::users::table.filter(igny8::db::schema::users::email.eq("ola@example.com")))
        .set(igny8::db::schema::users::is_system_admin.eq(true))
        .execute(&mut conn)
        .await
        .unwrap();
    let (_, page) = b.get_text("/system/ai-calls").await;
    let row = "<td>Ola Co</td><td>article_content</td><td class=\"mono\">gpt-4o-mini</td><td>platform</td><td class=\"num\">1</td><td class=\"num\">$0.0007</td><td class=\"num\">3</td>";
    assert!(page.contains(row), "margin row: {}", page.split("margins").nth(1).unwrap_or(""));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dev_provider_is_free_and_what_it_writes_is_a_labelled_sample_automation_never_publishes() {
    let app = app(true).await;
    let (b, tid) = app.signup("Pia", "pia@example.com", "Pia Co").await;
    let task = task(&app, &b, tid).await;
    let before = balance(&b).await;
    let r = b.api_post("/api/writer/tasks/generate", json!({ "ids": [task] })).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let job = r.json::<Value>().await.unwrap()["job_ids"][0].as_i64().unwrap();
    let (status, _, err) = wait_job(&app, job).await;
    assert_eq!(status, "succeeded", "{err:?}");
    assert_eq!(balance(&b).await, before, "sample text costs nothing");
    let rows = ledger_rows(&app, tid).await;
    assert!(rows.contains(&(0, "sample".to_string())), "a ledger entry of 0 marks the free sample: {rows:?}");
    assert!(!rows.iter().any(|(_, r)| ["reserve", "settle", "refund"].contains(&r.as_str())), "no reservation or settlement: {rows:?}");
    let mut conn = app.db().await;
    let (sample, spent): (bool, i64) =
        tasks::table.filter(tasks::id.eq(task)).select((tasks::sample, tasks::credits_spent)).first(&mut conn).await.unwrap();
    assert!(sample && spent == 0);
    let source: String = ai_calls::table.filter(ai_calls::tenant_id.eq(tid)).select(ai_calls::source).first(&mut conn).await.unwrap();
    assert_eq!(source, "sample");
    let (_, list) = b.get_text("/writer/tasks").await;
    assert!(list.contains("badge-sample"), "the task list labels it");
    let (_, page) = b.get_text(&format!("/writer/tasks/{task}")).await;
    assert!(page.contains("badge-sample") && page.contains("Automation will not publish it"), "the editor labels it");

    // Automation's publish step never takes it, even with a site chosen and the article ready.
    let site: i64 = diesel::insert_into(sites::table)
        .values((
            sites::tenant_id.eq(tid),
            sites::name.eq("Blog"),
            sites::base_url.eq("https://93.184.216.34"),
            sites::username.eq("u"),
            sites::app_password_enc.eq("x"),
        ))
        .returning(sites::id)
        .get_result(&mut conn)
        .await
        .unwrap();
    diesel::update(tasks::table.filter(tasks::id.eq(task))).set(tasks::status.eq("ready")).execute(&mut conn).await.unwrap();
    let (_, panel) = b.get_text(&format!("/writer/tasks/{task}/publishing")).await;
    assert!(panel.contains(r#"name="confirm_sample" value="true" required"#), "publishing by hand asks to confirm");
    let body = json!({ "enabled": true, "publish_site_id": site,
                       "steps": [{ "step": "publish", "enabled": true, "items_per_run": 10 }, { "step": "images", "enabled": false }] });
    let r = b.api(reqwest::Method::PUT, "/api/automation", Some(body)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let dry: Value = b.get("/api/automation/publish/dry-run").await.json().await.unwrap();
    assert_eq!(dry["items"], json!([]), "a sample is not picked: {dry}");
    diesel::update(tasks::table.filter(tasks::id.eq(task))).set(tasks::sample.eq(false)).execute(&mut conn).await.unwrap();
    let dry: Value = b.get("/api/automation/publish/dry-run").await.json().await.unwrap();
    assert_eq!(dry["items"].as_array().map(|a| a.len()), Some(1), "the same article, not a sample, is: {dry}");

    // By hand, publishing a sample needs the confirmation.
    diesel::update(tasks::table.filter(tasks::id.eq(task))).set(tasks::sample.eq(true)).execute(&mut conn).await.unwrap();
    let r = b.api_post(&format!("/api/publish/tasks/{task}"), json!({ "site_id": site })).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("Publish sample text anyway"));
}

#[tokio::test(flavor = "multi_thread")]
async fn with_no_provider_ai_buttons_are_disabled_and_the_api_answers_503_before_anything_is_queued() {
    let app = app(false).await;
    let (b, tid) = app.signup("Quin", "quin@example.com", "Quin Co").await;
    let task = task(&app, &b, tid).await;
    let before = ledger_rows(&app, tid).await;
    for (path, body) in [
        ("/api/writer/tasks/generate", json!({ "ids": [task] })),
        ("/api/writer/tasks/reparse", json!({ "ids": [task] })),
        ("/api/writer/tasks/images", json!({ "ids": [task] })),
    ] {
        let r = b.api_post(path, body).await;
        assert_eq!(r.status(), 503, "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "ai_not_configured", "{path}: {v}");
        assert!(v["error"]["message"].as_str().unwrap().contains("System → AI providers"));
    }
    let mut conn = app.db().await;
    let queued: i64 = jobs::table.filter(jobs::tenant_id.eq(tid)).count().get_result(&mut conn).await.unwrap();
    assert_eq!(queued, 0, "nothing queued");
    assert_eq!(ledger_rows(&app, tid).await, before, "nothing charged");
    let (_, page) = b.get_text(&format!("/writer/tasks/{task}")).await;
    assert!(page.contains("AI actions are unavailable"), "the reason is on the page");
    assert!(page.contains(r#"type="submit" disabled title="AI is not set up"#), "the Generate button is disabled with the reason");
    assert!(page.contains("Settings → AI"), "an owner is told what they can do");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workspace_key_is_used_only_where_the_plan_allows_it() {
    let app = app(false).await;
    let platform = FakeAi::start();
    platform.serve_platform(&app, false).await;
    let own = FakeAi::start();
    let (b, tid) = app.signup("Rui", "rui@example.com", "Rui Co").await;
    let body = json!({ "text_provider": "openai", "text_base_url": own.base, "text_api_key": "sk-own-OWNKEY-123456", "text_model": "gpt-4o",
                       "image_model": "dall-e-3" });
    let r = b.api(reqwest::Method::PUT, "/api/settings/ai", Some(body.clone())).await;
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    assert!(v["error"]["fields"]["text_provider"].as_str().unwrap().contains("plan does not include"), "{v}");
    app.set_plan(tid, "pro").await;
    app.state.ai_settings.forget(tid);
    let r = b.api(reqwest::Method::PUT, "/api/settings/ai", Some(body)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let task = task(&app, &b, tid).await;
    own.then([crate::fake_ai::Reply::Ok(article())]);
    let r = b.api_post("/api/writer/tasks/generate", json!({ "ids": [task] })).await;
    let job = r.json::<Value>().await.unwrap()["job_ids"][0].as_i64().unwrap();
    let (status, _, err) = wait_job(&app, job).await;
    assert_eq!(status, "succeeded", "{err:?}");
    assert_eq!(own.seen().len(), 1, "the workspace's own provider served it");
    assert_eq!(own.seen()[0].authorization.as_deref(), Some("Bearer sk-own-OWNKEY-123456"));
    assert!(platform.seen().is_empty(), "not the platform's");
    let (_, page) = b.get_text("/settings").await;
    assert!(page.contains("Your own key — OpenAI-compatible") && page.contains("your own provider account is billed"));
    assert!(!page.contains("OWNKEY"), "the key is only shown masked");
    // Back on a plan without it, the platform serves the workspace again.
    app.set_plan(tid, "free").await;
    app.state.ai_settings.forget(tid);
    let (_, page) = b.get_text("/settings").await;
    assert!(page.contains("IGNY8 platform — Platform chat"));
}

/// A loopback server that counts the requests it gets.
async fn counting_server() -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let hits = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let h = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            h.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let body = r#"{"choices":[{"message":{"content":"internal secret"},"finish_reason":"stop"}]}"#;
            let _ = s
                .write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).as_bytes())
                .await;
        }
    });
    (format!("http://{addr}"), hits)
}

/// A server answering every request with a redirect to `to`.
async fn redirector(status: u16, to: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let head = format!("HTTP/1.1 {status} Moved\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = s.write_all(head.as_bytes()).await;
        }
    });
    format!("http://{addr}/v1")
}

#[tokio::test(flavor = "multi_thread")]
async fn ai_calls_never_follow_a_redirect_and_the_target_receives_nothing() {
    use igny8::ai::TextProvider;
    let app = TestApp::spawn().await;
    let (target, hits) = counting_server().await;
    for status in [302, 307, 308] {
        let base = redirector(status, format!("{target}/v1/chat/completions")).await;
        let provider = igny8::ai::openai::OpenAiCompat {
            client: app.state.http.clone(),
            base_url: base,
            api_key: "sk-redirect-123456".into(),
            timeout: std::time::Duration::from_secs(5),
        };
        let err = provider.chat(&igny8::ai::ChatRequest::new("sys", "a prompt with a secret")).await.unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("redirect") && msg.contains(&status.to_string()) && msg.contains(&target), "{status}: {msg}");
        assert!(!err.is_transient(), "not retried");
    }
    assert_eq!(AtomicUsize::load(&hits, Ordering::SeqCst), 0, "the loopback service received nothing: no prompt, no key");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_system_administrators_see_or_change_platform_providers_and_keys_never_show() {
    let app = app(false).await;
    let team = app.team("plat").await;
    let body = json!({ "kind": "openai", "name": "Main", "base_url": "http://127.0.0.1:9/v1", "api_key": "sk-live-VERYSECRET-9876543210" });
    for (who, b) in [("owner", &team.owner), ("admin", &team.admin), ("editor", &team.editor), ("viewer", &team.viewer)] {
        assert_eq!(b.get("/system/ai-providers").await.status(), 403, "{who} page");
        assert_eq!(b.get("/api/system/ai-providers").await.status(), 403, "{who} api");
        assert_eq!(b.api_post("/api/system/ai-providers", body.clone()).await.status(), 403, "{who} create");
        let (_, html) = b.get_text("/system").await;
        assert!(!html.contains("/system/ai-providers"), "{who} sees no link");
    }
    let mut conn = app.db().await;
    let owner_id: i64 = igny8::db::schema::memberships::table
        .filter(igny8::db::schema::memberships::tenant_id.eq(team.tenant_id))
        .filter(igny8::db::schema::memberships::role.eq("owner"))
        .select(igny8::db::schema::memberships::user_id)
        .first(&mut conn)
        .await
        .unwrap();
    diesel::update(igny8::db::schema::users::table.find(owner_id))
        .set(igny8::db::schema::users::is_system_admin.eq(true))
        .execute(&mut conn)
        .await
        .unwrap();
    let r = team.owner.api_post("/api/system/ai-providers", body).await;
    assert_eq!(r.status(), 201);
    let text = r.text().await.unwrap();
    assert!(!text.contains("VERYSECRET") && text.contains("3210"), "masked: {text}");
    let id = serde_json::from_str::<Value>(&text).unwrap()["id"].as_i64().unwrap();
    let bad = team.owner.api_post("/api/system/ai-providers", json!({ "kind": "skynet", "name": "", "api_key": "" })).await;
    assert_eq!(bad.status(), 422);
    let v: Value = bad.json().await.unwrap();
    for f in ["kind", "name", "api_key"] {
        assert!(v["error"]["fields"][f].is_string(), "{f}: {v}");
    }
    let r = team
        .owner
        .api(reqwest::Method::PUT, "/api/system/ai-routes", Some(json!({ "purpose": "image", "provider_id": id, "model": "x" })))
        .await;
    assert_eq!(r.status(), 422, "a chat provider cannot serve images");
    let r = team
        .owner
        .api(
            reqwest::Method::PUT,
            "/api/system/ai-routes",
            Some(json!({ "purpose": "article_content", "provider_id": id, "model": "gpt-4o" })),
        )
        .await;
    assert_eq!(r.status(), 200);
    let (status, page) = team.owner.get_text("/system/ai-providers").await;
    assert_eq!(status, 200);
    assert!(page.contains("Main") && !page.contains("VERYSECRET"));
    let audit: Vec<Value> = {
        use igny8::db::schema::audit_events;
        audit_events::table.select(audit_events::detail).load(&mut conn).await.unwrap()
    };
    assert!(audit.iter().all(|d| !d.to_string().contains("VERYSECRET")), "no key in the audit trail");
}

/// A job priced as free sample work (queued while only the dev provider served) runs as sample work even when a
/// paid provider is set up before it runs: the provider is not called and nothing is charged. Asking again then
/// uses the provider, at its price.
#[tokio::test(flavor = "multi_thread")]
async fn a_job_queued_as_a_free_sample_runs_as_one_after_a_paid_provider_is_set_up() {
    let env: HashMap<&str, String> = HashMap::from([
        ("IGNY8_WORKERS", "0".to_string()),
        ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string()),
        ("IGNY8_AI_DEV_PROVIDER", "on".to_string()),
    ]);
    let app = TestApp::spawn_with(&crate::harness::redis_url(), env.clone()).await;
    let (b, tid) = app.signup("Sam", "sam@example.com", "Sam Co").await;
    let task = task(&app, &b, tid).await;
    let before = balance(&b).await;
    let r = b.api_post("/api/writer/tasks/generate", json!({ "ids": [task] })).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let job = r.json::<Value>().await.unwrap()["job_ids"][0].as_i64().unwrap();
    assert!(ledger_rows(&app, tid).await.contains(&(0, "sample".to_string())), "priced as a free sample");

    // The platform gets a provider while the job waits; then a worker runs it.
    let fake = FakeAi::start();
    fake.serve_platform(&app, false).await;
    let _worker = app.replica(HashMap::from([("IGNY8_WORKERS", "2".to_string()), ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())])).await;
    let (status, _, err) = wait_job(&app, job).await;
    assert_eq!(status, "succeeded", "{err:?}");
    assert!(fake.seen().is_empty(), "the paid provider was not called for a job priced as free");
    assert_eq!(balance(&b).await, before, "nothing charged");
    let mut conn = app.db().await;
    let sample: bool = tasks::table.filter(tasks::id.eq(task)).select(tasks::sample).first(&mut conn).await.unwrap();
    assert!(sample, "what it wrote is labelled sample");

    // Asking again now runs on the platform's provider and pays for it.
    fake.then([crate::fake_ai::Reply::Ok(article())]);
    let r = b.api_post("/api/writer/tasks/generate", json!({ "ids": [task] })).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let job = r.json::<Value>().await.unwrap()["job_ids"][0].as_i64().unwrap();
    let (status, _, err) = wait_job(&app, job).await;
    assert_eq!(status, "succeeded", "{err:?}");
    assert_eq!(fake.seen().len(), 1);
    assert_eq!(before - balance(&b).await, 3);
}
