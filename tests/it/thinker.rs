//! The prompt library: a workspace's own version changes what the provider receives; placeholders are
//! checked on save; history and reset; only owners and admins change prompts.

use serde_json::{Value, json};

use crate::fake_ai::{FakeAi, Reply};
use crate::harness::TestApp;
use crate::planner::support::wait_job;

/// A playground run once it has ended.
async fn run_finished(b: &crate::harness::Browser, id: i64) -> Value {
    let start = std::time::Instant::now();
    loop {
        let v: Value = b.get(&format!("/api/thinker/playground/runs/{id}")).await.json().await.unwrap();
        if !matches!(v["status"].as_str(), Some("queued" | "running")) {
            return v;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "run {id}: {v}");
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workspace_prompt_changes_what_is_sent_and_bad_placeholders_are_refused() {
    let env = std::collections::HashMap::from([("IGNY8_WORKERS", "2".to_string()), ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())]);
    let app = TestApp::spawn_with(&crate::harness::redis_url(), env).await;
    app.allow_own_ai_keys().await;
    let fake = FakeAi::start();
    let team = app.team("thk").await;
    let owner = &team.owner;
    fake.use_for_text(owner).await;

    // Refused on save: an unknown placeholder, a missing required one, placeholders in the system message.
    let r = owner
        .api(
            reqwest::Method::PUT,
            "/api/thinker/prompts/content",
            Some(json!({ "template": "Write about [IGNY8_TITLE] for [IGNY8_AUDIENCE]" })),
        )
        .await;
    assert_eq!(r.status(), 422);
    let msg = r.json::<Value>().await.unwrap()["error"]["fields"]["template"].as_str().unwrap().to_string();
    assert!(msg.contains("[IGNY8_AUDIENCE]") && msg.contains("[IGNY8_WORD_COUNT]"), "names the unknown one and lists the allowed: {msg}");
    let r = owner.api(reqwest::Method::PUT, "/api/thinker/prompts/content", Some(json!({ "template": "Write something good" }))).await;
    assert_eq!(r.status(), 422, "the title placeholder is required");
    let r = owner
        .api(
            reqwest::Method::PUT,
            "/api/thinker/prompts/content",
            Some(json!({ "system": "Be [IGNY8_TONE]", "template": "[IGNY8_TITLE]" })),
        )
        .await;
    assert_eq!(r.status(), 422);
    // Editors and viewers read prompts but cannot change them.
    for b in [&team.editor, &team.viewer] {
        let r = b.api(reqwest::Method::PUT, "/api/thinker/prompts/content", Some(json!({ "template": "[IGNY8_TITLE]" }))).await;
        assert_eq!(r.status(), 403);
        assert_eq!(b.get("/api/thinker/prompts/content").await.status(), 200);
    }
    assert_eq!(owner.get("/api/thinker/prompts/nope").await.status(), 404);

    // The workspace's version is what the provider receives.
    let custom = "HOUSE STYLE: write “[IGNY8_TITLE]” in about [IGNY8_WORD_COUNT] words, in [IGNY8_LANGUAGE]. Outline:\n[IGNY8_OUTLINE]\nReturn JSON with content_html.";
    let r = owner
        .api(
            reqwest::Method::PUT,
            "/api/thinker/prompts/content",
            Some(json!({ "system": "You are the house writer.", "template": custom })),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["version"], 1);
    let r = team
        .editor
        .api_post("/api/writer/tasks", json!({ "title": "Winter running", "outline": "Layers\nShoes", "word_count_goal": "300" }))
        .await;
    let task = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let body = format!("<h2>Layers</h2><p>{}</p>", vec!["warm"; 200].join(" "));
    fake.then([Reply::Ok(json!({ "title": "Winter running", "content_html": body }).to_string())]);
    let r = team.editor.api_post("/api/writer/tasks/generate", json!({ "ids": [task] })).await;
    let job = r.json::<Value>().await.unwrap()["job_ids"][0].as_i64().unwrap();
    assert_eq!(wait_job(&app, job).await.0, "succeeded");
    let sent = &fake.seen()[0].body["messages"];
    assert_eq!(sent[0]["content"], "You are the house writer.");
    assert_eq!(
        sent[1]["content"],
        "HOUSE STYLE: write “Winter running” in about 300 words, in English. Outline:\n- Layers\n- Shoes\nReturn JSON with content_html."
    );

    // Back to the built-in prompt: the next request carries it again; the history keeps both versions.
    let r = owner.api_post("/api/thinker/prompts/content/reset", json!({})).await;
    assert_eq!(r.status(), 200);
    fake.then([Reply::Ok(json!({ "title": "Winter running", "content_html": body }).to_string())]);
    let r = team.editor.api_post("/api/writer/tasks/generate", json!({ "ids": [task] })).await;
    let job = r.json::<Value>().await.unwrap()["job_ids"][0].as_i64().unwrap();
    assert_eq!(wait_job(&app, job).await.0, "succeeded");
    let sent = fake.seen()[1].body["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(sent.starts_with("Write an article.\nTitle: Winter running"), "{sent}");
    let v: Value = owner.get("/api/thinker/prompts/content").await.json().await.unwrap();
    assert_eq!(v["versions"].as_array().unwrap().len(), 2);
    assert!(v["in_use"]["version"].is_null());

    // The clustering prompt is overridable too, and its keywords still arrive.
    let r = owner
        .api(
            reqwest::Method::PUT,
            "/api/thinker/prompts/clustering",
            Some(json!({ "template": "Cluster these [IGNY8_KEYWORD_COUNT]:\n[IGNY8_KEYWORDS]" })),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = team.editor.api_post("/api/planner/keywords", json!({ "keyword": "snow running shoes" })).await;
    let kw = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    fake.then([Reply::Ok(json!({ "clusters": [{ "name": "Snow", "keywords": ["snow running shoes"] }] }).to_string())]);
    let r = team.editor.api_post("/api/planner/cluster", json!({ "mode": "ai", "ids": [kw] })).await;
    assert_eq!(wait_job(&app, r.json::<Value>().await.unwrap()["job_id"].as_i64().unwrap()).await.0, "succeeded");
    assert_eq!(fake.seen()[2].body["messages"][1]["content"], "Cluster these 1:\n- snow running shoes\n");

    // The pages render, and the owner's page form refuses a bad placeholder beside the field.
    let r = owner.post_form("/thinker/prompts/ideas", &[("template", "[IGNY8_CLUSTER] [IGNY8_COUNT] [IGNY8_NOPE]")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Unknown placeholder [IGNY8_NOPE]"));
    let (status, html) = owner.get_text("/thinker/prompts").await;
    assert_eq!(status, 200);
    assert!(html.contains("workspace version") && html.contains("Article content"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tasks_author_profile_and_strategy_reach_the_content_prompt() {
    let env = std::collections::HashMap::from([("IGNY8_WORKERS", "2".to_string()), ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())]);
    let app = TestApp::spawn_with(&crate::harness::redis_url(), env).await;
    app.allow_own_ai_keys().await;
    let fake = FakeAi::start();
    let team = app.team("sty").await;
    let ed = &team.editor;
    fake.use_for_text(&team.owner).await;
    let r = ed.api_post("/api/thinker/profiles", json!({ "name": "Coach Kim", "persona": "a certified running coach", "tone": "warm and practical", "audience": "new runners", "language": "German" })).await;
    assert_eq!(r.status(), 201);
    let profile = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(ed.api_post("/api/thinker/profiles", json!({ "name": "coach kim" })).await.status(), 422, "names are unique per workspace");
    let r = ed.api_post("/api/thinker/strategies", json!({ "name": "Shop funnel", "structure": "summary box first", "cta": "book a free fitting", "internal_links": "/guides/fit" })).await;
    let strategy = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(team.viewer.api_post("/api/thinker/strategies", json!({ "name": "Viewer's" })).await.status(), 403);

    let r = ed.api_post("/api/writer/tasks", json!({ "title": "Marathon taper", "word_count_goal": "300" })).await;
    let task = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = ed
        .api(
            reqwest::Method::PUT,
            &format!("/api/writer/tasks/{task}/style"),
            Some(json!({ "author_profile_id": profile, "strategy_id": strategy })),
        )
        .await;
    assert_eq!(r.status(), 200);
    let (other, _) = app.signup("Ot", "ot@example.com", "Ot Co").await;
    let r = other.api_post("/api/thinker/profiles", json!({ "name": "Theirs" })).await;
    let foreign = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = ed.api(reqwest::Method::PUT, &format!("/api/writer/tasks/{task}/style"), Some(json!({ "author_profile_id": foreign }))).await;
    assert_eq!(r.status(), 422, "another workspace's profile cannot be picked");

    let body = format!("<h2>Taper</h2><p>{}</p>", vec!["rest"; 200].join(" "));
    fake.then([Reply::Ok(json!({ "title": "Marathon taper", "content_html": body }).to_string())]);
    let r = ed.api_post("/api/writer/tasks/generate", json!({ "ids": [task] })).await;
    assert_eq!(wait_job(&app, r.json::<Value>().await.unwrap()["job_ids"][0].as_i64().unwrap()).await.0, "succeeded");
    let prompt = fake.seen()[0].body["messages"][1]["content"].as_str().unwrap().to_string();
    for part in [
        "Tone: warm and practical. Language: German.",
        "Write as a certified running coach. Audience: new runners.",
        "Call to action: book a free fitting",
        "/guides/fit",
    ] {
        assert!(prompt.contains(part), "{part} in {prompt}");
    }
    let (status, html) = ed.get_text("/thinker/profiles").await;
    assert!(status == 200 && html.contains("Coach Kim"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_playground_runs_a_prompt_and_shows_raw_parsed_tokens_and_cost() {
    let env = std::collections::HashMap::from([("IGNY8_WORKERS", "2".to_string()), ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())]);
    let app = TestApp::spawn_with(&crate::harness::redis_url(), env).await;
    app.allow_own_ai_keys().await;
    let fake = FakeAi::start();
    let team = app.team("pg").await;
    fake.use_for_text(&team.owner).await;
    let ed = &team.editor;
    let balance = crate::planner::support::balance(ed).await;
    // Dev provider (the default): free; the ideas prompt rendered with the sample values.
    let r = ed.api_post("/api/thinker/playground", json!({ "key": "ideas", "template": "Cluster: [IGNY8_CLUSTER]\nIdeas: [IGNY8_COUNT]\n", "values": { "CLUSTER": "Trail shoes", "COUNT": "2" }, "json": true })).await;
    assert_eq!(r.status(), 202);
    let run = run_finished(ed, r.json::<Value>().await.unwrap()["run_id"].as_i64().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["prompt"], "Cluster: Trail shoes\nIdeas: 2");
    assert_eq!(run["output"]["ideas"].as_array().unwrap().len(), 2, "parsed: {run}");
    assert!(run["raw"].as_str().unwrap().contains("Trail shoes") && run["tokens_out"].as_i64().unwrap() > 0, "{run}");
    assert_eq!(crate::planner::support::balance(ed).await, balance, "dev runs are free");

    // The workspace's model: 1 credit; an answer the pipeline would refuse is shown with the reason.
    fake.then([Reply::Ok("this is not json".into())]);
    let r = ed.api_post("/api/thinker/playground", json!({ "template": "Say hello", "provider": "workspace", "json": true })).await;
    let id = r.json::<Value>().await.unwrap()["run_id"].as_i64().unwrap();
    let run = run_finished(ed, id).await;
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["raw"], "this is not json");
    assert!(run["parse_error"].as_str().unwrap().contains("not valid JSON"));
    assert_eq!((run["tokens_in"].as_i64(), run["tokens_out"].as_i64()), (Some(1200), Some(800)));
    assert!(run["cost_usd"].as_f64().unwrap() > 0.0, "{run}");
    assert_eq!(balance - crate::planner::support::balance(ed).await, 1);
    let (status, html) = ed.get_text(&format!("/thinker/playground/runs/{id}")).await;
    assert!(status == 200 && html.contains("would refuse this answer"));

    assert_eq!(team.viewer.api_post("/api/thinker/playground", json!({ "template": "x" })).await.status(), 403);
    let (other, _) = app.signup("Pp", "pp@example.com", "Pp Co").await;
    assert_eq!(other.get(&format!("/api/thinker/playground/runs/{id}")).await.status(), 404);
    let (status, html) = ed.get_text("/thinker/playground?key=clustering").await;
    assert!(status == 200 && html.contains("[IGNY8_KEYWORDS]") && html.contains("chocolate cake recipe"));
}

#[tokio::test(flavor = "multi_thread")]
async fn image_testing_runs_one_prompt_and_shows_the_image() {
    let env = std::collections::HashMap::from([("IGNY8_WORKERS", "2".to_string()), ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())]);
    let app = TestApp::spawn_with(&crate::harness::redis_url(), env).await;
    app.allow_own_ai_keys().await;
    let fake = FakeAi::start();
    let (b, _) = app.signup("Img", "img@example.com", "Img Co").await;
    let r = b
        .api(
            reqwest::Method::PUT,
            "/api/settings/ai",
            Some(json!({ "text_provider": "dev", "text_model": "dev-text", "image_provider": "openai",
            "image_base_url": fake.base, "image_api_key": "img-key-123456", "image_model": "dall-e-3" })),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let before = crate::planner::support::balance(&b).await;
    let r = b.api_post("/api/thinker/playground/image", json!({ "prompt": "a trail runner on a ridge" })).await;
    let id = r.json::<Value>().await.unwrap()["run_id"].as_i64().unwrap();
    let run = run_finished(&b, id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["image"][0], "image/svg+xml");
    let img = b.get(&format!("/thinker/playground/runs/{id}/image")).await;
    assert_eq!(img.status(), 200);
    assert!(img.headers()["content-security-policy"].to_str().unwrap().starts_with("sandbox"));
    assert!(img.text().await.unwrap().contains("<svg"));
    assert_eq!(crate::planner::support::balance(&b).await, before, "the dev provider is free");

    let r = b.api_post("/api/thinker/playground/image", json!({ "prompt": "a trail runner on a ridge", "provider": "workspace" })).await;
    let id = r.json::<Value>().await.unwrap()["run_id"].as_i64().unwrap();
    let run = run_finished(&b, id).await;
    assert_eq!((run["status"].as_str(), run["image"][0].as_str()), (Some("succeeded"), Some("image/png")), "{run}");
    assert_eq!(fake.seen()[0].path, "/v1/images/generations");
    assert_eq!(before - crate::planner::support::balance(&b).await, 1);
    let bytes = b.get(&format!("/thinker/playground/runs/{id}/image")).await.bytes().await.unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    assert_eq!(b.api_post("/api/thinker/playground/image", json!({ "prompt": "" })).await.status(), 422);
    let (other, _) = app.signup("Oth", "oth@example.com", "Oth Co").await;
    assert_eq!(other.get(&format!("/thinker/playground/runs/{id}/image")).await.status(), 404);
}
