//! The writer: idea → task → generated article (checked, sanitised, counted, charged), failures that store
//! nothing and refund, the editor's sanitising save, a preview that runs nothing, versions, roles, tenants.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::content_ideas;
use serde_json::{Value, json};

use crate::fake_ai::{FakeAi, Reply};
use crate::harness::{Browser, TestApp};
use crate::planner::support::{balance, wait_job};

async fn app() -> TestApp {
    let env: HashMap<&str, String> = HashMap::from([("IGNY8_WORKERS", "2".to_string()), ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())]);
    let app = TestApp::spawn_with(&crate::harness::redis_url(), env).await;
    app.allow_own_ai_keys().await;
    app
}

/// An idea written straight into the table, sent to the writer through the API; returns the task id.
async fn task_from_idea(app: &TestApp, b: &Browser, tenant_id: i64, words: i32) -> i64 {
    let mut conn = app.db().await;
    let idea: i64 = diesel::insert_into(content_ideas::table)
        .values((
            content_ideas::tenant_id.eq(tenant_id),
            content_ideas::title.eq("Best running shoes for beginners"),
            content_ideas::target_keywords.eq(vec!["running shoes".to_string(), "beginner running".to_string()]),
            content_ideas::outline.eq(vec!["Why shoes matter".to_string(), "What to look for".to_string()]),
            content_ideas::estimated_words.eq(words),
        ))
        .returning(content_ideas::id)
        .get_result(&mut conn)
        .await
        .unwrap();
    let r = b.api_post("/api/planner/ideas/send-to-writer", json!({ "ids": [idea] })).await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["task_ids"][0].as_i64().unwrap()
}

fn paragraph(n: usize) -> String {
    format!("<p>{}</p>", vec!["cushioned"; n].join(" "))
}

fn article(html: &str) -> Reply {
    Reply::Ok(
        json!({ "title": "Best Running Shoes for Beginners (2026)", "meta_title": "Best running shoes for beginners in 2026: tested picks, fit tips and prices compared",
                "meta_description": "Short.", "slug": "Best Running Shoes!! 2026", "primary_keyword": "running shoes", "secondary_keywords": ["beginner running"],
                "content_html": html })
        .to_string(),
    )
}

async fn generate(app: &TestApp, b: &Browser, task: i64) -> (String, Value, Option<String>) {
    let r = b.api_post("/api/writer/tasks/generate", json!({ "ids": [task] })).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let job = r.json::<Value>().await.unwrap()["job_ids"][0].as_i64().unwrap();
    wait_job(app, job).await
}

#[tokio::test(flavor = "multi_thread")]
async fn idea_to_task_to_a_sanitised_counted_charged_draft_with_versions() {
    let app = app().await;
    let fake = FakeAi::start();
    let (b, tid) = app.signup("Wren", "wren@example.com", "Wren Co").await;
    fake.use_for_text(&b).await;
    let task = task_from_idea(&app, &b, tid, 600).await;
    let before = balance(&b).await;
    let html = format!(
        "<h2 onclick=\"steal()\">Why shoes matter</h2>{}<script>alert('x')</script><h2>What to look for</h2>{}<img src=x onerror=\"alert(1)\"><a href=\"javascript:alert(1)\">link</a>",
        paragraph(200),
        paragraph(200)
    );
    fake.then([article(&html)]);
    let (status, result, err) = generate(&app, &b, task).await;
    assert_eq!(status, "succeeded", "{err:?}");
    let t: Value = b.get(&format!("/api/writer/tasks/{task}")).await.json().await.unwrap();
    assert_eq!(t["status"], "draft");
    let stored = t["content_html"].as_str().unwrap();
    for banned in ["script", "onclick", "onerror", "javascript:", "alert("] {
        assert!(!stored.contains(banned), "{banned} stored: {stored}");
    }
    assert!(stored.contains("<h2>Why shoes matter</h2>"));
    assert_eq!(t["word_count"], 408, "words counted from the stored text: 3 + 200 + 4 + 200 + 1 (the link text)");
    assert_eq!(result["words"], 408);
    assert!(t["meta_title"].as_str().unwrap().chars().count() <= 60, "{}", t["meta_title"]);
    assert_eq!(t["slug"], "best-running-shoes-2026");
    assert_eq!(t["primary_keyword"], "running shoes");
    assert_eq!(before - balance(&b).await, 3, "3 credits settled");
    let logged: i64 = {
        use igny8::db::schema::ai_calls;
        let mut conn = app.db().await;
        ai_calls::table
            .filter(ai_calls::operation.eq("article_content"))
            .filter(ai_calls::status.eq("ok"))
            .count()
            .get_result(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(logged, 1, "the call is in the AI-call log under its purpose");
    let prompt = fake.seen()[0].body["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(
        prompt.contains("Title: Best running shoes for beginners")
            && prompt.contains("- What to look for")
            && prompt.contains("about 600 words"),
        "{prompt}"
    );

    // Again: the first article becomes version 1, and can be restored.
    fake.then([article(&format!("<h2>New take</h2>{}", paragraph(400)))]);
    assert_eq!(generate(&app, &b, task).await.0, "succeeded");
    let v: Value = b.get(&format!("/api/writer/tasks/{task}/versions")).await.json().await.unwrap();
    assert_eq!(v["versions"].as_array().unwrap().len(), 1);
    assert_eq!(v["versions"][0]["replaced_by"], "generate");
    let r = b.api_post(&format!("/api/writer/tasks/{task}/versions/1/restore"), json!({})).await;
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    assert!(t["content_html"].as_str().unwrap().contains("Why shoes matter"));
    assert_eq!(
        b.get(&format!("/api/writer/tasks/{task}/versions")).await.json::<Value>().await.unwrap()["versions"].as_array().unwrap().len(),
        2
    );
    let v2: Value = b.get(&format!("/api/writer/tasks/{task}/versions/2")).await.json().await.unwrap();
    assert!(v2["content_html"].as_str().unwrap().contains("New take"), "version 2 is the article the restore replaced");
    let (status, cmp) = b.get_text(&format!("/writer/tasks/{task}/versions/2")).await;
    assert_eq!(status, 200);
    assert!(
        cmp.contains("New take") && cmp.contains("Why shoes matter") && cmp.contains("replaced by restore"),
        "both sides of the comparison"
    );

    // The editor's save is sanitised too, moves the status, and the preview runs nothing.
    let payload = "<h2>Edited</h2><p>Text</p><img src=x onerror=alert(document.cookie)><script>alert(2)</script>";
    let r = b
        .api(
            reqwest::Method::PUT,
            &format!("/api/writer/tasks/{task}"),
            Some(json!({ "title": "Edited title", "meta_title": "Edited", "meta_description": "D",
            "slug": "", "content_html": payload, "status": "review" })),
        )
        .await;
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    assert_eq!((t["status"].as_str(), t["slug"].as_str()), (Some("review"), Some("edited-title")));
    assert!(!t["content_html"].as_str().unwrap().contains("onerror") && !t["content_html"].as_str().unwrap().contains("script"));
    let (status, page) = b.get_text(&format!("/writer/tasks/{task}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("sandbox=\"\"") && page.contains("srcdoc=\""), "the preview is a sandboxed srcdoc iframe");
    assert!(!page.contains("onerror") && !page.contains("<script>alert"), "nothing executable on the page");
    let r = b
        .api(
            reqwest::Method::PUT,
            &format!("/api/writer/tasks/{task}"),
            Some(json!({ "title": "Edited title", "meta_title": "x".repeat(61), "status": "review" })),
        )
        .await;
    assert_eq!(r.status(), 422, "meta title over 60 characters is refused in the editor");
    let audit: Value = b.get("/api/system/audit?action=task.edited").await.json().await.unwrap();
    assert!(audit.to_string().contains("\"content\"") && audit.to_string().contains("review"), "who changed what: {audit}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unusable_answers_store_nothing_fail_the_task_with_a_reason_and_refund() {
    let app = app().await;
    let fake = FakeAi::start();
    let (b, tid) = app.signup("Fae", "fae@example.com", "Fae Co").await;
    fake.use_for_text(&b).await;
    let full = format!("<h2>A</h2>{}<h2>B</h2>{}", paragraph(300), paragraph(300));
    let cases: Vec<(&str, Vec<Reply>, &str)> = vec![
        // A truncated answer will not improve by retrying: failed at once.
        ("truncated", vec![Reply::Truncated], "cut off"),
        ("empty", vec![article("")], "empty"),
        ("too short", vec![article(&format!("<h2>A</h2>{}", paragraph(50)))], "words"),
        ("no headings", vec![article(&paragraph(600))], "H2"),
        ("wrong shape", vec![Reply::Ok(json!({ "article": full }).to_string())], "shape"),
        ("only a script", vec![article("<script>alert(1)</script>")], "empty"),
    ];
    for (name, replies, reason) in cases {
        let task = task_from_idea(&app, &b, tid, 600).await;
        fake.then(replies);
        let before = balance(&b).await;
        let (status, _, err) = generate(&app, &b, task).await;
        assert!(status == "failed" || status == "dead", "{name}: {status}");
        let err = err.unwrap_or_default();
        assert!(err.to_lowercase().contains(&reason.to_lowercase()), "{name}: {err}");
        let t: Value = b.get(&format!("/api/writer/tasks/{task}")).await.json().await.unwrap();
        assert_eq!((t["status"].as_str(), t["content_html"].as_str()), (Some("failed"), Some("")), "{name}: never stored");
        assert!(t["error"].as_str().unwrap().to_lowercase().contains(&reason.to_lowercase()), "{name}: the task says why");
        assert_eq!(balance(&b).await, before, "{name}: refunded");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn viewers_cannot_generate_edit_or_delete_and_other_tenants_tasks_are_404() {
    let app = app().await;
    let team = app.team("wrt").await;
    let r = team
        .editor
        .api_post("/api/writer/tasks", json!({ "title": "Hand-made task", "target_keywords": "trail shoes", "word_count_goal": "800" }))
        .await;
    assert_eq!(r.status(), 201);
    let task = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let v = &team.viewer;
    assert_eq!(v.api_post("/api/writer/tasks/generate", json!({ "ids": [task] })).await.status(), 403);
    assert_eq!(v.api_post("/api/writer/tasks", json!({ "title": "Viewer task" })).await.status(), 403);
    assert_eq!(
        v.api(reqwest::Method::PUT, &format!("/api/writer/tasks/{task}"), Some(json!({ "title": "x y z", "status": "draft" })))
            .await
            .status(),
        403
    );
    assert_eq!(v.api(reqwest::Method::DELETE, &format!("/api/writer/tasks/{task}"), None).await.status(), 403);
    assert_eq!(v.post_form(&format!("/writer/tasks/{task}/generate"), &[]).await.status(), 403);
    assert_eq!(v.post_form("/writer/tasks/bulk", &[("action", "delete"), ("ids", &task.to_string())]).await.status(), 403);
    assert_eq!(v.get(&format!("/api/writer/tasks/{task}")).await.status(), 200, "viewers read");

    let (other, _) = app.signup("Oz", "oz@example.com", "Oz Co").await;
    assert_eq!(other.get(&format!("/api/writer/tasks/{task}")).await.status(), 404);
    assert_eq!(other.get(&format!("/writer/tasks/{task}")).await.status(), 404);
    assert_eq!(other.api_post("/api/writer/tasks/generate", json!({ "ids": [task] })).await.status(), 404);
    assert_eq!(other.api(reqwest::Method::DELETE, &format!("/api/writer/tasks/{task}"), None).await.status(), 404);
    assert_eq!(app.count("tasks").await, 1);
    // Validation on create.
    let r = team.editor.api_post("/api/writer/tasks", json!({ "title": "", "word_count_goal": "lots" })).await;
    assert_eq!(r.status(), 422);
    let fields = r.json::<Value>().await.unwrap()["error"]["fields"].clone();
    assert!(fields.get("title").is_some() && fields.get("word_count_goal").is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_offline_dev_provider_writes_a_usable_draft() {
    let app = app().await;
    let (b, _) = app.signup("Dev", "dev@example.com", "Dev Co").await;
    let r = b
        .api_post(
            "/api/writer/tasks",
            json!({ "title": "Trail running for beginners", "outline": "Gear\nTraining\nSafety", "word_count_goal": "500" }),
        )
        .await;
    let task = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let (status, _, err) = generate(&app, &b, task).await;
    assert_eq!(status, "succeeded", "{err:?}");
    let t: Value = b.get(&format!("/api/writer/tasks/{task}")).await.json().await.unwrap();
    assert!(t["word_count"].as_i64().unwrap() >= 250 && t["content_html"].as_str().unwrap().contains("<h2>Safety</h2>"), "{t}");
    let (status, html) = b.get_text("/writer/tasks").await;
    assert_eq!(status, 200);
    assert!(html.contains("Trail running for beginners") && html.contains("draft"));
}

#[tokio::test(flavor = "multi_thread")]
async fn reparse_keeps_the_previous_article_charges_one_credit_and_a_bad_answer_changes_nothing() {
    let app = app().await;
    let fake = FakeAi::start();
    let (b, tid) = app.signup("Rex", "rex@example.com", "Rex Co").await;
    fake.use_for_text(&b).await;
    let task = task_from_idea(&app, &b, tid, 400).await;
    fake.then([article(&format!("<h2>First</h2>{}", paragraph(400)))]);
    assert_eq!(generate(&app, &b, task).await.0, "succeeded");

    async fn reparse(b: &Browser, task: i64) -> i64 {
        let r = b.api_post("/api/writer/tasks/reparse", json!({ "ids": [task] })).await;
        assert_eq!(r.status(), 202);
        r.json::<Value>().await.unwrap()["job_ids"][0].as_i64().unwrap()
    }
    let before = balance(&b).await;
    fake.then([Reply::Ok(
        json!({ "content_html": format!("<h2>First</h2><h3>Part</h3>{}<ul><li>point</li></ul>", paragraph(390)) }).to_string(),
    )]);
    let (status, _, err) = wait_job(&app, reparse(&b, task).await).await;
    assert_eq!(status, "succeeded", "{err:?}");
    assert_eq!(before - balance(&b).await, 1);
    let t: Value = b.get(&format!("/api/writer/tasks/{task}")).await.json().await.unwrap();
    assert!(t["content_html"].as_str().unwrap().contains("<h3>Part</h3>"));
    assert_eq!(t["status"], "draft");
    let v: Value = b.get(&format!("/api/writer/tasks/{task}/versions")).await.json().await.unwrap();
    assert_eq!(v["versions"][0]["replaced_by"], "reparse");
    let prompt = fake.seen()[1].body["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(prompt.contains("Restructure this article") && prompt.contains("<h2>First</h2>"), "{prompt}");

    // An answer that drops most of the article: refused, refunded, the article untouched, the task says why.
    let before = balance(&b).await;
    fake.then([Reply::Ok(json!({ "content_html": "<h2>First</h2><p>Too short now.</p>" }).to_string())]);
    assert_eq!(wait_job(&app, reparse(&b, task).await).await.0, "failed");
    assert_eq!(balance(&b).await, before);
    let after: Value = b.get(&format!("/api/writer/tasks/{task}")).await.json().await.unwrap();
    assert_eq!(after["content_html"], t["content_html"]);
    assert!(after["error"].as_str().unwrap().starts_with("reparse:"));
    // A task without an article cannot be reparsed.
    let r = b.api_post("/api/writer/tasks", json!({ "title": "Empty task" })).await;
    let empty = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(b.api_post("/api/writer/tasks/reparse", json!({ "ids": [empty] })).await.status(), 409);
}

#[tokio::test(flavor = "multi_thread")]
async fn images_are_planned_rendered_stored_and_placed_after_their_h2s() {
    use std::time::{Duration, Instant};
    let app = app().await;
    let fake = FakeAi::start();
    let (b, tid) = app.signup("Ima", "ima@example.com", "Ima Co").await;
    // Text and images on the platform's provider (the fake): real providers charge, the dev provider would not.
    fake.serve_platform(&app, true).await;
    let task = task_from_idea(&app, &b, tid, 300).await;
    fake.then([article(&format!("<h2>One</h2>{}<h2>Two</h2>{}<h2>Three</h2>{}", paragraph(100), paragraph(100), paragraph(100)))]);
    assert_eq!(generate(&app, &b, task).await.0, "succeeded");
    let before = balance(&b).await;

    fake.then([Reply::Ok(
        json!({ "featured": { "prompt": "runner at dawn", "alt": "A runner at dawn" },
                "in_article": [{ "prompt": "shoe close-up", "alt": "Shoe close-up" }, { "prompt": "track", "alt": "A running track" }, { "prompt": "extra", "alt": "ignored" }] })
        .to_string(),
    )]);
    let r = b.api_post("/api/writer/tasks/images", json!({ "ids": [task] })).await;
    assert_eq!(r.status(), 202);
    let job = r.json::<Value>().await.unwrap()["job_ids"][0].as_i64().unwrap();
    assert_eq!(wait_job(&app, job).await.0, "succeeded");
    let start = Instant::now();
    let imgs = loop {
        let v: Value = b.get(&format!("/api/writer/images?task={task}")).await.json().await.unwrap();
        let list = v["images"].as_array().unwrap().clone();
        if list.len() == 3 && list.iter().all(|i| i["status"] == "ready") {
            break list;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let by_pos = |p: i64| imgs.iter().find(|i| i["position"] == p).unwrap().clone();
    assert_eq!((by_pos(0)["kind"].as_str(), by_pos(0)["alt"].as_str()), (Some("featured"), Some("A runner at dawn")));
    assert_eq!(by_pos(2)["alt"], "A running track");
    assert!(
        imgs.iter().all(|i| i["content_type"] == "image/png"
            && i["size_bytes"].as_i64().unwrap() == 70
            && i["sha256"].as_str().unwrap().len() == 64)
    );
    assert_eq!(
        before - balance(&b).await,
        3,
        "1 credit per image; the prompt step is free; the surplus prompt is ignored (2 in-article asked)"
    );

    // In-article images sit right after their H2s; the featured one is not in the body.
    let t: Value = b.get(&format!("/api/writer/tasks/{task}")).await.json().await.unwrap();
    let html = t["content_html"].as_str().unwrap();
    let u1 = by_pos(1)["url"].as_str().unwrap().to_string();
    let u2 = by_pos(2)["url"].as_str().unwrap().to_string();
    assert!(html.contains(&format!("<h2>One</h2><figure><img src=\"{u1}\" alt=\"Shoe close-up\"></figure>")), "{html}");
    assert!(html.contains(&format!("<h2>Two</h2><figure><img src=\"{u2}\" alt=\"A running track\"></figure>")), "{html}");
    assert!(!html.contains(by_pos(0)["url"].as_str().unwrap()) && html.matches("<figure>").count() == 2);

    // Served by token, with a sandbox CSP; a wrong token or another id is a 404, even signed out.
    let anon = app.browser();
    let r = anon.get(&u1).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-security-policy"].to_str().unwrap().starts_with("sandbox"));
    assert_eq!(r.headers()["content-type"], "image/png");
    let bad = format!("{}0", &u1[..u1.len() - 1]);
    assert_eq!(anon.get(&bad).await.status(), 404);

    // Regenerate one image: 1 credit, placed again in the same spot.
    let r = b.api_post(&format!("/api/writer/images/{}/regenerate", by_pos(1)["id"]), json!({})).await;
    assert_eq!(r.status(), 202);
    assert_eq!(wait_job(&app, r.json::<Value>().await.unwrap()["job_id"].as_i64().unwrap()).await.0, "succeeded");
    let t: Value = b.get(&format!("/api/writer/tasks/{task}")).await.json().await.unwrap();
    assert_eq!(t["content_html"].as_str().unwrap().matches("<figure>").count(), 2, "placed again, not twice");
    let (status, page) = b.get_text("/writer/images").await;
    assert_eq!(status, 200);
    assert!(page.contains("A runner at dawn") && page.contains("Regenerate"));
    let (status, page) = b.get_text(&format!("/writer/tasks/{task}")).await;
    assert!(status == 200 && page.contains("After H2 #2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cached_task_counts_follow_creates_status_moves_and_deletes() {
    let app = app().await;
    let (b, _) = app.signup("Cnt", "cnt@example.com", "Cnt Co").await;
    let total = |q: &'static str| {
        let b = &b;
        async move { b.get(&format!("/api/writer/tasks?{q}")).await.json::<Value>().await.unwrap()["pager"]["total"].as_i64().unwrap() }
    };
    let mut ids = Vec::new();
    for i in 0..3 {
        let r = b.api_post("/api/writer/tasks", json!({ "title": format!("Counted task {i}"), "word_count_goal": "300" })).await;
        ids.push(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
        assert_eq!(total("").await, i + 1);
    }
    assert_eq!(total("status=queued").await, 3);
    let r = b.api_post("/api/writer/tasks/generate", json!({ "ids": [ids[0]] })).await;
    assert_eq!(wait_job(&app, r.json::<Value>().await.unwrap()["job_ids"][0].as_i64().unwrap()).await.0, "succeeded");
    assert_eq!((total("status=queued").await, total("status=draft").await), (2, 1), "a status move changes the filtered counts");
    assert_eq!(b.api(reqwest::Method::DELETE, &format!("/api/writer/tasks/{}", ids[1]), None).await.status(), 204);
    assert_eq!((total("").await, total("status=queued").await), (2, 1));
    // Sorting (kept in the URL like the filters) does not change the count.
    let titles = |v: Value| v["tasks"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let asc = titles(b.get("/api/writer/tasks?sort=title").await.json().await.unwrap());
    assert_eq!(asc, vec!["Counted task 0", "Counted task 2"]);
    let desc = titles(b.get("/api/writer/tasks?sort=title&dir=desc").await.json().await.unwrap());
    assert_eq!(desc, vec!["Counted task 2", "Counted task 0"]);
    let (_, html) = b.get_text("/writer/tasks?sort=title").await;
    assert!(html.contains("Title ▲") && html.contains("dir=desc"), "the sorted column is marked and links to the other direction");
}

/// Two writers of one article wait for each other. A job finishing on a task holds the workspace's balance, then
/// the task; a restore asked for meanwhile waits its turn and answers 200 after the job's transaction ends — it
/// never deadlocks into a 500.
#[tokio::test(flavor = "multi_thread")]
async fn a_restore_waits_for_a_job_finishing_on_the_same_task() {
    use diesel::sql_query;
    let app = app().await;
    let fake = FakeAi::start();
    let (b, tid) = app.signup("Wes", "wes@example.com", "Wes Co").await;
    fake.use_for_text(&b).await;
    let task = task_from_idea(&app, &b, tid, 400).await;
    fake.then([article(&format!("<h2>One</h2>{}", paragraph(400))), article(&format!("<h2>Two</h2>{}", paragraph(400)))]);
    assert_eq!(generate(&app, &b, task).await.0, "succeeded");
    assert_eq!(generate(&app, &b, task).await.0, "succeeded");

    // A job's completion, held open after its first lock (the balance) — as queue::complete takes it.
    let mut conn = app.db().await;
    sql_query("BEGIN").execute(&mut conn).await.unwrap();
    sql_query(format!("SELECT id FROM tenants WHERE id = {tid} FOR UPDATE")).execute(&mut conn).await.unwrap();
    let restore = async {
        let r = b.api_post(&format!("/api/writer/tasks/{task}/versions/1/restore"), json!({})).await;
        (std::time::Instant::now(), r.status().as_u16(), r.text().await.unwrap())
    };
    let job_side = async {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        // Its effects next: the task (article::replace locks it), then it commits.
        let locked = sql_query(format!("SELECT id FROM tasks WHERE tenant_id = {tid} AND id = {task} FOR UPDATE")).execute(&mut conn).await;
        let committed = sql_query("COMMIT").execute(&mut conn).await;
        (std::time::Instant::now(), locked.map_err(|e| e.to_string()), committed.map_err(|e| e.to_string()))
    };
    let ((restored_at, status, body), (committed_at, locked, committed)) = tokio::join!(restore, job_side);
    assert!(locked.is_ok() && committed.is_ok(), "the job's side was not made to fail: {locked:?} {committed:?}");
    assert_eq!(status, 200, "{body}");
    assert!(restored_at >= committed_at, "the restore waited for the job's transaction");
    let t: Value = serde_json::from_str(&body).unwrap();
    assert!(t["content_html"].as_str().unwrap().contains("<h2>One</h2>"));
}

/// A reparse job and restores of the same task at once, several times over: every restore answers 200, every
/// reparse either lands or fails saying the article changed under it (and charges nothing), and the versions are
/// numbered 1..n with none lost or doubled.
#[tokio::test(flavor = "multi_thread")]
async fn reparse_and_restore_at_once_never_fail_the_request_or_lose_a_version() {
    let app = app().await;
    let fake = FakeAi::start();
    let (b, tid) = app.signup("Ria", "ria@example.com", "Ria Co").await;
    fake.use_for_text(&b).await;
    let task = task_from_idea(&app, &b, tid, 400).await;
    fake.then([article(&format!("<h2>One</h2>{}", paragraph(400))), article(&format!("<h2>Two</h2>{}", paragraph(400)))]);
    assert_eq!(generate(&app, &b, task).await.0, "succeeded");
    assert_eq!(generate(&app, &b, task).await.0, "succeeded");

    let (mut landed, mut refused) = (0, 0);
    for round in 0..6 {
        let before = balance(&b).await;
        fake.then([Reply::Ok(json!({ "content_html": format!("<h2>Round {round}</h2>{}", paragraph(395)) }).to_string())]);
        let r = b.api_post("/api/writer/tasks/reparse", json!({ "ids": [task] })).await;
        assert_eq!(r.status(), 202);
        let job = r.json::<Value>().await.unwrap()["job_ids"][0].as_i64().unwrap();
        // Restores spread over the job's run, so some land before its answer is written and some after.
        let restores = async {
            let mut statuses = Vec::new();
            for _ in 0..4 {
                let r = b.api_post(&format!("/api/writer/tasks/{task}/versions/1/restore"), json!({})).await;
                statuses.push((r.status().as_u16(), r.text().await.unwrap()));
                tokio::time::sleep(std::time::Duration::from_millis(15 * round as u64)).await;
            }
            statuses
        };
        let (statuses, (status, _, err)) = tokio::join!(restores, wait_job(&app, job));
        for (s, body) in &statuses {
            assert_eq!(*s, 200, "a restore beside a reparse: {body}");
        }
        match status.as_str() {
            "succeeded" => {
                landed += 1;
                assert_eq!(before - balance(&b).await, 1);
            }
            "failed" => {
                refused += 1;
                assert!(err.as_deref().unwrap_or("").contains("changed while it was being reparsed"), "{err:?}");
                assert_eq!(balance(&b).await, before, "a refused reparse charges nothing");
            }
            other => panic!("reparse ended {other}: {err:?}"),
        }
    }
    assert_eq!(landed + refused, 6);
    let v: Value = b.get(&format!("/api/writer/tasks/{task}/versions")).await.json().await.unwrap();
    let mut numbers: Vec<i64> = v["versions"].as_array().unwrap().iter().map(|x| x["version"].as_i64().unwrap()).collect();
    numbers.sort();
    let n = numbers.len() as i64;
    assert_eq!(numbers, (1..=n).collect::<Vec<_>>(), "versions 1..n, none doubled or skipped");
    // Two generations, 24 restores and each landed reparse kept one version apiece.
    assert_eq!(n, 1 + 24 + landed, "one version per replacement");
}
