//! Automation: ticks alone take 30 keywords to published posts on the real test WordPress (credits exactly per
//! seed §8.4, every step in the history); two replicas firing one tick enqueue once; a dead replica's slot does
//! not block the next; limits, disabled steps, out-of-credits and budget skips, suspended workspaces, dry runs
//! that write nothing; cleanup keeps what is inside retention (audit events always a year).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::{ai_calls, audit_events, cron_runs, cron_slots, jobs, keyword_imports, tasks, tenants};
use igny8::modules::automation::{Scheduled, schedule};
use serde_json::{Value, json};

use crate::fake_ai::{FakeAi, Reply};
use crate::harness::{Browser, TestApp};
use crate::planner::support::{add_keyword, balance};
use crate::wordpress::{WpAdmin, add_site};
use crate::wp_site::{unique, wp_site};

async fn topup(app: &TestApp, tenant_id: i64, credits: i64) {
    let mut conn = app.db().await;
    use diesel_async::AsyncConnection;
    conn.transaction::<_, igny8::error::AppError, _>(async |c| {
        igny8::billing::ledger::post_in_tx(c, tenant_id, credits, "topup", &unique("test")).await.map(|_| ())
    })
    .await
    .unwrap();
}

/// Waits until the workspace has no queued or running job.
pub async fn settle(app: &TestApp, tenant_id: i64) {
    let mut conn = app.db().await;
    let start = Instant::now();
    loop {
        let open: i64 = jobs::table
            .filter(jobs::tenant_id.eq(tenant_id))
            .filter(jobs::status.eq_any(["queued", "running"]))
            .count()
            .get_result(&mut conn)
            .await
            .unwrap();
        if open == 0 {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(90), "{open} jobs still open");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn settings(b: &Browser, body: Value) -> Value {
    let r = b.api(reqwest::Method::PUT, "/api/automation", Some(body)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

fn step(name: &str, items: i64) -> Value {
    json!({ "step": name, "enabled": true, "items_per_run": items })
}

/// Answers every prompt of the pipeline by what it asks; titles carry `tag` so slugs are new on the shared site.
fn pipeline_answers(fake: &FakeAi, tag: String) {
    let counter = std::sync::atomic::AtomicUsize::new(0);
    fake.respond_with(move |path, body| {
        if path.ends_with("/images/generations") {
            return None; // a PNG
        }
        let user = body.pointer("/messages/1/content").and_then(|v| v.as_str()).unwrap_or("");
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let answer = if user.starts_with("Group these") {
            let kws: Vec<&str> = user.lines().filter_map(|l| l.strip_prefix("- ")).collect();
            let (a, b) = kws.split_at(kws.len() / 2);
            json!({ "clusters": [{ "name": format!("Trail {tag}"), "description": "Trail shoes", "keywords": a },
                                 { "name": format!("Road {tag}"), "description": "Road shoes", "keywords": b }] })
        } else if user.starts_with("Cluster:") {
            let ideas: Vec<Value> = (0..3)
                .map(|i| json!({ "title": format!("Guide {tag} {n} {i}"), "description": "Why and how.", "content_type": "post", "structure": "guide",
                                  "target_keywords": ["shoes"], "outline": ["Grip", "Fit", "Care"], "estimated_words": 300 }))
                .collect();
            json!({ "ideas": ideas })
        } else if user.starts_with("Write an article.") {
            let title = user.lines().find_map(|l| l.strip_prefix("Title: ")).unwrap_or("Untitled").to_string();
            let p = format!("<p>{}</p>", vec!["grippy"; 60].join(" "));
            json!({ "title": title, "meta_title": format!("{title} meta"), "meta_description": "A guide.", "slug": title,
                    "primary_keyword": "shoes", "content_html": format!("<h2>Grip</h2>{p}<h2>Fit</h2>{p}<h2>Care</h2>{p}") })
        } else if user.starts_with("Article title:") {
            json!({ "featured": { "prompt": "a trail", "alt": "A trail" }, "in_article": [{ "prompt": "a shoe", "alt": "A shoe" }] })
        } else {
            return None;
        };
        Some(Reply::Ok(answer.to_string()))
    });
}

async fn run_count(app: &TestApp, tenant_id: i64) -> i64 {
    let mut conn = app.db().await;
    cron_runs::table.filter(cron_runs::tenant_id.eq(tenant_id)).count().get_result(&mut conn).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn thirty_keywords_become_published_posts_through_ticks_alone() {
    let wp = wp_site();
    let app = crate::wordpress::app().await;
    let fake = FakeAi::start();
    let (b, tid) = app.signup("Aut", "aut@example.com", "Aut Co").await;
    app.set_plan(tid, "agency").await;
    topup(&app, tid, 500).await;
    let r = b
        .api(
            reqwest::Method::PUT,
            "/api/settings/ai",
            Some(json!({ "text_provider": "openai", "text_base_url": fake.base, "text_api_key": "sk-test-123456", "text_model": "gpt-4o-mini",
                         "image_provider": "openai", "image_base_url": fake.base, "image_api_key": "sk-test-123456", "image_model": "dall-e-3", "images_per_article": 1 })),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let tag = unique("auto");
    pipeline_answers(&fake, tag.clone());
    for i in 0..30 {
        add_keyword(&b, &format!("trail shoe {tag} {i}"), 1000 - i).await;
    }
    let (site, _) = add_site(&b, &wp.url, &wp.user, &wp.password, &wp.secret).await;
    settings(&b, json!({ "enabled": true, "daily_credit_budget": 200, "publish_site_id": site, "publish_status": "publish",
        "steps": [step("cluster", 100), json!({ "step": "ideas", "enabled": true, "items_per_run": 10, "per_item": 3 }), step("content", 10), step("images", 10), step("publish", 10)] }))
    .await;
    let start_balance = balance(&b).await;
    // The browser signs out: from here on nobody clicks anything.
    drop(b);

    let mut slot = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let mut credits_by_step = vec![];
    let mut conn = app.db().await;
    for s in ["cluster", "ideas", "content", "images", "publish"] {
        let before: i64 = tenants::table.find(tid).select(tenants::credits_balance).first(&mut conn).await.unwrap();
        let fired = schedule::fire(&app.state, Scheduled::parse(s).unwrap(), slot).await.unwrap();
        assert!(fired.is_some(), "{s}: the slot was free");
        settle(&app, tid).await;
        let after: i64 = tenants::table.find(tid).select(tenants::credits_balance).first(&mut conn).await.unwrap();
        credits_by_step.push((s, before - after));
        slot += chrono::Duration::hours(3);
    }
    // With a provider and a site that answer well, every job succeeds on its first attempt (a completion that
    // deadlocked on the tenant row used to need a second one, after its lease ran out).
    let retried: Vec<(String, i32)> = jobs::table
        .filter(jobs::tenant_id.eq(tid))
        .filter(jobs::attempts.gt(1))
        .select((jobs::kind, jobs::attempts))
        .load(&mut conn)
        .await
        .unwrap();
    assert!(retried.is_empty(), "{retried:?}");
    // Seed §8.4: 30 keywords → 1 credit; 2 clusters × 3 ideas → 6; 6 articles × 3 → 18; 6 × (1 featured + 1 in-article) → 12; publish free.
    assert_eq!(credits_by_step, vec![("cluster", 1), ("ideas", 6), ("content", 18), ("images", 12), ("publish", 0)]);

    let admin = WpAdmin::new(&wp);
    let published: Vec<(i64, String)> =
        tasks::table.filter(tasks::tenant_id.eq(tid)).select((tasks::id, tasks::slug)).order(tasks::id).load(&mut conn).await.unwrap();
    assert_eq!(published.len(), 6);
    for (task, slug) in &published {
        let posts = admin.posts_with_slug(slug).await;
        if posts.len() != 1 {
            let publication: Vec<(Option<i64>, String, String, Option<String>)> = igny8::db::schema::publications::table
                .filter(igny8::db::schema::publications::task_id.eq(*task))
                .select((
                    igny8::db::schema::publications::remote_id,
                    igny8::db::schema::publications::remote_url,
                    igny8::db::schema::publications::state,
                    igny8::db::schema::publications::error,
                ))
                .load(&mut conn)
                .await
                .unwrap();
            let remote = match publication.as_slice().first().and_then(|p| p.0) {
                Some(id) => admin.get(&format!("/wp/v2/posts/{id}?context=edit")).await.to_string(),
                None => String::new(),
            };
            panic!("task {task} ({slug}) is one post, found {}: publication {publication:?}, remote {remote}", posts.len());
        }
        assert_eq!(posts[0]["status"], "publish");
        assert!(posts[0]["featured_media"].as_i64().unwrap() > 0, "featured image set");
        assert_eq!(posts[0]["meta"]["igny8_task_id"], format!("{tid}:{task}"));
    }
    let statuses: Vec<String> = tasks::table.filter(tasks::tenant_id.eq(tid)).select(tasks::status).load(&mut conn).await.unwrap();
    assert!(statuses.iter().all(|s| s == "published"), "{statuses:?}");

    // The history has each step once, done, with what it queued and what it spent.
    let owner = app.browser();
    let res = owner.post_form("/login", &[("email", "aut@example.com"), ("password", crate::harness::PASSWORD)]).await;
    assert_eq!(res.status(), 303, "signed in again");
    let runs: Value = owner.get("/api/automation/runs").await.json().await.unwrap();
    let runs = runs["runs"].as_array().unwrap();
    let by_step: HashMap<&str, &Value> = runs.iter().map(|r| (r["step"].as_str().unwrap(), r)).collect();
    assert_eq!(runs.len(), 5, "{runs:?}");
    for (s, queued, spent) in [("cluster", 1, 1), ("ideas", 2, 6), ("content", 6, 18), ("images", 6, 12), ("publish", 6, 0)] {
        let r = by_step[s];
        assert_eq!(
            (r["status"].as_str(), r["trigger"].as_str(), r["enqueued"].as_i64()),
            (Some("done"), Some("schedule"), Some(queued)),
            "{s}: {r}"
        );
        assert_eq!(r["credits_spent"].as_i64(), Some(spent), "{s}: {r}");
        assert_eq!(r["failed"].as_i64(), Some(0), "{s}: {r}");
    }
    assert_eq!(start_balance - balance(&owner).await, 37);
    // Each step shows its own last run.
    let overview: Value = owner.get("/api/automation").await.json().await.unwrap();
    for st in overview["steps"].as_array().unwrap() {
        assert_eq!(st["last"]["step"], st["settings"]["step"], "{st}");
        assert_eq!(st["last"]["id"], by_step[st["settings"]["step"].as_str().unwrap()]["id"], "{st}");
    }
    let (_, page) = owner.get_text("/automation").await;
    assert!(page.contains("History") && page.contains("publish"), "the automation page shows the runs");

    // A post trashed on the site: the sync tick marks it, and the next publish tick leaves it alone.
    let (trashed_task, trashed_slug) = published[0].clone();
    let post_id = admin.posts_with_slug(&trashed_slug).await[0]["id"].as_i64().unwrap();
    assert_eq!(admin.delete(&format!("/wp/v2/posts/{post_id}")).await, 200);
    schedule::fire(&app.state, Scheduled::Sync, slot).await.unwrap().expect("sync slot");
    settle(&app, tid).await;
    let p: Value = owner.get(&format!("/api/publish/tasks/{trashed_task}")).await.json().await.unwrap();
    assert_eq!(p["remote_status"], "trash");
    schedule::fire(&app.state, Scheduled::Publish, slot + chrono::Duration::hours(12)).await.unwrap().expect("publish slot");
    settle(&app, tid).await;
    let last: (String, i32) = cron_runs::table
        .filter(cron_runs::tenant_id.eq(tid))
        .filter(cron_runs::step.eq("publish"))
        .order(cron_runs::id.desc())
        .select((cron_runs::status, cron_runs::picked))
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(last, ("done".to_string(), 0), "the trashed article is not picked");
    let posts = admin.posts_with_slug(&trashed_slug).await;
    assert_eq!(posts.len(), 1, "not re-created");
    assert_eq!(posts[0]["status"], "trash");
}

/// A workspace with automation on and `n` tasks waiting for content (dev provider; jobs are not run here).
async fn waiting_tasks(app: &TestApp, b: &Browser, tid: i64, n: usize, items: i64) -> Vec<i64> {
    settings(b, json!({ "enabled": true, "daily_credit_budget": 1000, "steps": [step("content", items)] })).await;
    let mut conn = app.db().await;
    let mut ids = vec![];
    for i in 0..n {
        ids.push(
            diesel::insert_into(tasks::table)
                .values((tasks::tenant_id.eq(tid), tasks::title.eq(format!("Waiting task {i}")), tasks::status.eq("queued")))
                .returning(tasks::id)
                .get_result::<i64>(&mut conn)
                .await
                .unwrap(),
        );
    }
    ids
}

/// Rows that a run (or a dry run) could write: jobs, runs, ledger rows, queued tasks.
async fn counts(app: &TestApp) -> (i64, i64, i64, i64) {
    (
        app.count("jobs").await,
        app.count("cron_runs").await,
        app.count("credit_ledger").await,
        app.count("tasks WHERE status = 'queued'").await,
    )
}

async fn generate_jobs(app: &TestApp, tid: i64) -> i64 {
    let mut conn = app.db().await;
    jobs::table.filter(jobs::tenant_id.eq(tid)).filter(jobs::kind.eq("writer.generate")).count().get_result(&mut conn).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_firing_the_same_tick_enqueue_once_and_a_dead_replica_does_not_block_the_next() {
    let one = TestApp::spawn().await;
    let two = one.replica(HashMap::new()).await;
    let (b, tid) = one.signup("Rep", "rep@example.com", "Rep Co").await;
    topup(&one, tid, 100).await;
    waiting_tasks(&one, &b, tid, 4, 10).await;
    let slot = Utc.with_ymd_and_hms(2026, 2, 1, 3, 0, 0).unwrap();
    let (a, c) = tokio::join!(schedule::fire(&one.state, Scheduled::Content, slot), schedule::fire(&two.state, Scheduled::Content, slot));
    let fired = [a.unwrap(), c.unwrap()];
    assert_eq!(fired.iter().filter(|f| f.is_some()).count(), 1, "exactly one replica ran the slot: {fired:?}");
    assert_eq!(generate_jobs(&one, tid).await, 4, "each task's content queued once");
    assert_eq!(run_count(&one, tid).await, 1);
    // Firing the slot again (a late beat) does nothing.
    assert!(schedule::fire(&two.state, Scheduled::Content, slot).await.unwrap().is_none());

    // A replica that claimed the next slot and died mid-tick: that slot stays claimed, the one after runs.
    let dead = slot + chrono::Duration::hours(3);
    let mut conn = one.db().await;
    diesel::insert_into(cron_slots::table)
        .values((cron_slots::step.eq("content"), cron_slots::slot.eq(dead), cron_slots::claimed_by.eq("gone:1")))
        .execute(&mut conn)
        .await
        .unwrap();
    waiting_tasks(&one, &b, tid, 2, 10).await;
    assert!(schedule::fire(&one.state, Scheduled::Content, dead).await.unwrap().is_none());
    assert!(schedule::fire(&two.state, Scheduled::Content, dead + chrono::Duration::hours(3)).await.unwrap().is_some());
    assert_eq!(generate_jobs(&one, tid).await, 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn limits_disabled_steps_credits_budget_suspension_and_dry_runs() {
    let app = TestApp::spawn().await;
    let (b, tid) = app.signup("Lim", "lim@example.com", "Lim Co").await;
    let (other, other_tid) = app.signup("Oth", "oth@example.com", "Oth Co").await;
    topup(&app, tid, 100).await;
    let mut conn = app.db().await;

    // A dry run writes nothing: same rows, same ledger, and says what it would take and cost.
    waiting_tasks(&app, &b, tid, 5, 2).await;
    let before = counts(&app).await;
    let r = b.get("/api/automation/content/dry-run").await;
    assert_eq!(r.status(), 200);
    let dry: Value = r.json().await.unwrap();
    assert_eq!((dry["picked"].as_i64(), dry["credits"].as_i64()), (Some(2), Some(6)), "{dry}");
    assert_eq!(dry["items"], json!(["Waiting task 0", "Waiting task 1"]));
    let (_, page) = b.get_text("/automation/content/dry-run").await;
    assert!(page.contains("Waiting task 1") && page.contains("Nothing was queued"), "{page}");
    assert_eq!(counts(&app).await, before, "the dry run wrote nothing");

    // Run now respects the per-run limit (2 of 5).
    let out: Value = b.api_post("/api/automation/content/run", json!({})).await.json().await.unwrap();
    assert_eq!((out["status"].as_str(), out["enqueued"].as_i64(), out["credits"].as_i64()), (Some("done"), Some(2), Some(6)), "{out}");
    assert_eq!(generate_jobs(&app, tid).await, 2);

    // Fair share: a big backlog in one workspace does not hold back another's one task in the same tick.
    waiting_tasks(&app, &other, other_tid, 1, 5).await;
    topup(&app, other_tid, 10).await;
    schedule::fire(&app.state, Scheduled::Content, Utc.with_ymd_and_hms(2026, 3, 1, 3, 0, 0).unwrap()).await.unwrap().unwrap();
    assert_eq!((generate_jobs(&app, tid).await, generate_jobs(&app, other_tid).await), (4, 1));

    // A disabled step does nothing, on the tick and on "Run now".
    settings(&b, json!({ "enabled": true, "steps": [{ "step": "content", "enabled": false, "items_per_run": 2 }] })).await;
    let jobs_before = app.count("jobs").await;
    schedule::fire(&app.state, Scheduled::Content, Utc.with_ymd_and_hms(2026, 3, 1, 6, 0, 0).unwrap()).await.unwrap().unwrap();
    let out: Value = b.api_post("/api/automation/content/run", json!({})).await.json().await.unwrap();
    assert_eq!(out["status"], "skipped");
    assert!(out["reason"].as_str().unwrap().contains("turned off"));
    assert_eq!(app.count("jobs").await, jobs_before);

    // Out of credits: skipped with the reason, nothing half-done, shown until acknowledged.
    settings(&b, json!({ "enabled": true, "daily_credit_budget": 1000, "steps": [step("content", 5)] })).await;
    let bal = balance(&b).await;
    topup(&app, tid, -(bal - 2)).await;
    let before = counts(&app).await;
    let out: Value = b.api_post("/api/automation/content/run", json!({})).await.json().await.unwrap();
    assert_eq!(out["status"], "skipped", "{out}");
    assert_eq!(out["reason"], "Not enough credits: this run needs 3, the workspace has 2", "{out}");
    let after = counts(&app).await;
    assert_eq!((after.0, after.2, after.3), (before.0, before.2, before.3), "no job, no ledger row, no task touched");
    assert_eq!(after.1, before.1 + 1, "the skip is in the history");
    let (_, dash) = b.get_text("/dashboard").await;
    assert!(dash.contains("Automation needs attention") && dash.contains("Not enough credits"), "{dash}");
    let notices: Value = b.get("/api/automation/runs?notices=1").await.json().await.unwrap();
    let id = notices["runs"][0]["id"].as_i64().unwrap();
    assert_eq!(b.api_post(&format!("/api/automation/runs/{id}/ack"), json!({})).await.status(), 204);
    let (_, dash) = b.get_text("/dashboard").await;
    assert!(!dash.contains("Automation needs attention"));

    // The daily budget trims a run to what is left, then skips with the reason.
    topup(&app, tid, 100).await;
    waiting_tasks(&app, &b, tid, 3, 5).await;
    let spent: Value = b.get("/api/automation").await.json().await.unwrap();
    let spent = spent["spent_today"].as_i64().unwrap();
    assert_eq!(spent, 12, "two content runs of 2 tasks today");
    settings(&b, json!({ "enabled": true, "daily_credit_budget": spent + 3, "steps": [step("content", 5)] })).await;
    let out: Value = b.api_post("/api/automation/content/run", json!({})).await.json().await.unwrap();
    assert_eq!((out["status"].as_str(), out["enqueued"].as_i64()), (Some("done"), Some(1)), "4 waiting, the budget left for one: {out}");
    let out: Value = b.api_post("/api/automation/content/run", json!({})).await.json().await.unwrap();
    assert_eq!(out["status"], "skipped");
    assert!(out["reason"].as_str().unwrap().contains("budget"), "{out}");

    // Two runs of one step never overlap: while one holds the step's lock, "Run now" is skipped.
    let key = igny8::kv::key(&app.config.redis_namespace, &tid.to_string(), "automation:content");
    let token = igny8::kv::try_lock(&app.state.redis, &key, Duration::from_secs(30)).await.unwrap().expect("free");
    let out: Value = b.api_post("/api/automation/content/run", json!({})).await.json().await.unwrap();
    assert_eq!(out["status"], "skipped");
    assert!(out["reason"].as_str().unwrap().contains("Another run"), "{out}");
    igny8::kv::unlock(&app.state.redis, &key, &token).await;

    // Auto-publish only takes articles never sent to a site (not one already there as a draft).
    let site: i64 = diesel::insert_into(igny8::db::schema::sites::table)
        .values((
            igny8::db::schema::sites::tenant_id.eq(tid),
            igny8::db::schema::sites::name.eq("Blog"),
            igny8::db::schema::sites::base_url.eq("https://93.184.216.34"),
            igny8::db::schema::sites::username.eq("u"),
            igny8::db::schema::sites::app_password_enc.eq("x"),
        ))
        .returning(igny8::db::schema::sites::id)
        .get_result(&mut conn)
        .await
        .unwrap();
    let mut ready = vec![];
    for title in ["Sent before", "Never sent"] {
        ready.push(
            diesel::insert_into(tasks::table)
                .values((tasks::tenant_id.eq(tid), tasks::title.eq(title), tasks::status.eq("ready"), tasks::word_count.eq(500)))
                .returning(tasks::id)
                .get_result::<i64>(&mut conn)
                .await
                .unwrap(),
        );
    }
    diesel::insert_into(igny8::db::schema::publications::table)
        .values((
            igny8::db::schema::publications::tenant_id.eq(tid),
            igny8::db::schema::publications::task_id.eq(ready[0]),
            igny8::db::schema::publications::site_id.eq(site),
            igny8::db::schema::publications::remote_id.eq(Some(7)),
            igny8::db::schema::publications::remote_status.eq("draft"),
            igny8::db::schema::publications::state.eq("done"),
            igny8::db::schema::publications::post_status.eq("draft"),
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    // (With the images step off: with it on, an article waits for its images, which this one never had.)
    let images_off = json!({ "step": "images", "enabled": false });
    settings(&b, json!({ "enabled": true, "publish_site_id": site, "steps": [step("publish", 10), images_off] })).await;
    let dry: Value = b.get("/api/automation/publish/dry-run").await.json().await.unwrap();
    assert_eq!(dry["items"], json!(["Never sent"]), "{dry}");

    // A suspended workspace is skipped with a reason it can see.
    diesel::update(tenants::table.find(tid)).set(tenants::status.eq("suspended")).execute(&mut conn).await.unwrap();
    let jobs_before = app.count("jobs").await;
    schedule::fire(&app.state, Scheduled::Content, Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()).await.unwrap().unwrap();
    let last: (String, String) = cron_runs::table
        .filter(cron_runs::tenant_id.eq(tid))
        .order(cron_runs::id.desc())
        .select((cron_runs::status, cron_runs::reason))
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(last.0, "skipped");
    assert!(last.1.contains("suspended"), "{last:?}");
    assert_eq!(app.count("jobs").await, jobs_before);

    // Viewers and editors cannot change settings or run steps; validation names the field.
    app.set_plan(other_tid, "agency").await;
    let viewer = app.join(&other, "viewer-lim@example.com", "viewer").await;
    assert_eq!(viewer.api_post("/api/automation/content/run", json!({})).await.status(), 403);
    let r = other
        .api(
            reqwest::Method::PUT,
            "/api/automation",
            Some(json!({ "daily_credit_budget": "lots", "steps": [{ "step": "content", "items_per_run": 0 }, { "step": "nope" }] })),
        )
        .await;
    assert_eq!(r.status(), 422);
    let fields = r.json::<Value>().await.unwrap()["error"]["fields"].clone();
    assert!(
        fields["daily_credit_budget"].is_string() && fields["steps.content.items_per_run"].is_string() && fields["steps"].is_string(),
        "{fields}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_removes_only_rows_past_retention_and_never_audit_events_younger_than_a_year() {
    let app = TestApp::spawn().await;
    let (b, tid) = app.signup("Cle", "cle@example.com", "Cle Co").await;
    let mut conn = app.db().await;
    let ago = |days: i64| Utc::now() - chrono::Duration::days(days);
    for (days, tag) in [(200, "old"), (10, "new")] {
        diesel::insert_into(ai_calls::table)
            .values((
                ai_calls::tenant_id.eq(tid),
                ai_calls::provider.eq("dev"),
                ai_calls::model.eq(tag),
                ai_calls::operation.eq("test"),
                ai_calls::status.eq("ok"),
                ai_calls::created_at.eq(ago(days)),
            ))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    for (days, action) in [(400, "test.very_old"), (200, "test.months_old")] {
        diesel::insert_into(audit_events::table)
            .values((
                audit_events::tenant_id.eq(tid),
                audit_events::actor_label.eq("t"),
                audit_events::action.eq(action),
                audit_events::target_type.eq("t"),
                audit_events::target_id.eq("1"),
                audit_events::detail.eq(json!({})),
                audit_events::created_at.eq(ago(days)),
            ))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    for (days, status) in [(60, "succeeded"), (60, "queued"), (5, "succeeded")] {
        diesel::insert_into(jobs::table)
            .values((
                jobs::tenant_id.eq(tid),
                jobs::kind.eq("system.probe"),
                jobs::payload.eq(json!({})),
                jobs::status.eq(status),
                jobs::created_at.eq(ago(days)),
                jobs::updated_at.eq(ago(days)),
                jobs::finished_at.eq((status == "succeeded").then(|| ago(days))),
            ))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    for (days, status) in [(5, "ready"), (5, "done"), (0, "ready")] {
        diesel::insert_into(keyword_imports::table)
            .values((
                keyword_imports::tenant_id.eq(tid),
                keyword_imports::filename.eq("k.csv"),
                keyword_imports::size_bytes.eq(10),
                keyword_imports::status.eq(status),
                keyword_imports::updated_at.eq(ago(days)),
            ))
            .execute(&mut conn)
            .await
            .unwrap();
    }

    // Audit retention cannot be set under a year; a system administrator can shorten the others.
    diesel::update(igny8::db::schema::users::table.filter(igny8::db::schema::users::email.eq("cle@example.com")))
        .set(igny8::db::schema::users::is_system_admin.eq(true))
        .execute(&mut conn)
        .await
        .unwrap();
    let r = b
        .api(reqwest::Method::PUT, "/api/system/automation", Some(json!({ "retention.audit_days": "30", "cron.cleanup": "every day" })))
        .await;
    assert_eq!(r.status(), 422);
    let fields = r.json::<Value>().await.unwrap()["error"]["fields"].clone();
    assert!(fields["retention.audit_days"].is_string() && fields["cron.cleanup"].is_string(), "{fields}");
    let r = b
        .api(reqwest::Method::PUT, "/api/system/automation", Some(json!({ "retention.ai_calls_days": "30", "cron.cleanup": "0 4 * * *" })))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    let result = schedule::fire(&app.state, Scheduled::Cleanup, Utc.with_ymd_and_hms(2026, 4, 1, 4, 0, 0).unwrap()).await.unwrap().unwrap();
    assert_eq!(result["ai_calls"], 1);
    assert_eq!(result["audit_events"], 1);
    assert_eq!(result["jobs"], 1, "only the finished job past 30 days; the queued one stays");
    assert_eq!(result["keyword_imports"], 1, "only the abandoned one past 2 days");
    let left: Vec<String> = ai_calls::table.filter(ai_calls::tenant_id.eq(tid)).select(ai_calls::model).load(&mut conn).await.unwrap();
    assert_eq!(left, ["new"]);
    let actions: Vec<String> = audit_events::table
        .filter(audit_events::tenant_id.eq(tid))
        .filter(audit_events::action.like("test.%"))
        .select(audit_events::action)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(actions, ["test.months_old"], "an audit event of 200 days stays");
    let imports: Vec<String> = keyword_imports::table
        .filter(keyword_imports::tenant_id.eq(tid))
        .select(keyword_imports::status)
        .order(keyword_imports::id)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(imports, ["done", "ready"]);
    // System → Automation shows the settings and every workspace's runs; a non-administrator gets neither.
    let (status, page) = b.get_text("/system/automation").await;
    assert_eq!(status, 200);
    assert!(page.contains("0 4 * * *") && page.contains("Runs of every workspace"), "{page}");
    let (other, _) = app.signup("Nad", "nad@example.com", "Nad Co").await;
    assert_eq!(other.get("/api/system/automation").await.status(), 403);
    assert_eq!(other.get_text("/system/automation").await.0, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_settings_form_saves_every_step_and_shows_the_steps_with_their_next_run() {
    let app = TestApp::spawn().await;
    let (b, _) = app.signup("For", "for@example.com", "For Co").await;
    let r = b.api_post("/api/planner/clusters", json!({ "name": "Trail shoes", "description": "" })).await;
    let cluster = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let cid = cluster.to_string();
    let res = b
        .post_form(
            "/automation/settings",
            &[
                ("enabled", "on"),
                ("daily_credit_budget", "25"),
                ("publish_status", "publish"),
                ("cluster.enabled", "on"),
                ("cluster.items_per_run", "120"),
                ("ideas.items_per_run", "4"),
                ("ideas.per_item", "5"),
                ("ideas.cluster_ids", &cid),
                ("content.enabled", "on"),
                ("content.items_per_run", "7"),
                ("content.statuses", "queued"),
                ("images.enabled", "on"),
                ("images.items_per_run", "3"),
                ("images.statuses", "ready"),
                ("images.statuses", "review"),
                ("publish.enabled", "on"),
                ("publish.items_per_run", "2"),
                ("publish.statuses", "ready"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let v: Value = b.get("/api/automation").await.json().await.unwrap();
    let s = &v["settings"];
    assert_eq!(
        (s["enabled"].as_bool(), s["daily_credit_budget"].as_i64(), s["publish_status"].as_str()),
        (Some(true), Some(25), Some("publish"))
    );
    let steps: HashMap<String, Value> =
        s["steps"].as_array().unwrap().iter().map(|x| (x["step"].as_str().unwrap().to_string(), x.clone())).collect();
    assert_eq!(steps["cluster"]["items_per_run"], 120);
    assert_eq!(
        (steps["ideas"]["enabled"].as_bool(), steps["ideas"]["per_item"].as_i64(), steps["ideas"]["cluster_ids"].clone()),
        (Some(false), Some(5), json!([cluster]))
    );
    assert_eq!(steps["images"]["statuses"], json!(["ready", "review"]));
    assert_eq!(steps["publish"]["items_per_run"], 2);
    // Each step shows its cadence and next run; the page keeps the chosen cluster selected.
    assert!(
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["next_run"].is_string() && x["cadence"].as_str().unwrap().split_whitespace().count() == 5),
        "{v}"
    );
    let (_, page) = b.get_text("/automation").await;
    assert!(page.contains(&format!("<option value=\"{cluster}\" selected>Trail shoes</option>")), "{page}");
    // A bad value keeps the stored settings and names the field: the form comes back as typed, the error beside it.
    let res = b.post_form("/automation/settings", &[("enabled", "on"), ("daily_credit_budget", "-3")]).await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains(r#"value="-3" aria-invalid="true" aria-describedby="err-daily_credit_budget""#), "{page}");
    assert!(page.contains(r#"id="err-daily_credit_budget""#), "{page}");
    let v: Value = b.get("/api/automation").await.json().await.unwrap();
    assert_eq!(v["settings"]["daily_credit_budget"], 25);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_minute_beat_runs_the_step_whose_slot_came_due_once() {
    let app = TestApp::spawn().await;
    let (b, tid) = app.signup("Bea", "bea@example.com", "Bea Co").await;
    topup(&app, tid, 100).await;
    waiting_tasks(&app, &b, tid, 2, 10).await;
    // Default cadence of content: minute 20 of every third hour (UTC). The beats below are set on a past day;
    // cleanup (03:15 by default) would measure its retention from today and drop their slots, so it is moved away.
    let mut conn = app.db().await;
    diesel::sql_query("UPDATE system_settings SET value = '0 0 1 1 *' WHERE key = 'cron.cleanup'").execute(&mut conn).await.unwrap();
    let due = Utc.with_ymd_and_hms(2026, 5, 1, 3, 20, 0).unwrap();
    schedule::beat(&app.state, due - chrono::Duration::minutes(15)).await.unwrap();
    assert_eq!(generate_jobs(&app, tid).await, 0, "nothing due at 03:05 (the 00:20 slot is past its grace)");
    schedule::beat(&app.state, due + chrono::Duration::seconds(30)).await.unwrap();
    assert_eq!(generate_jobs(&app, tid).await, 2, "the 03:20 slot ran");
    // The next beat, a minute later, finds the slot already run.
    waiting_tasks(&app, &b, tid, 1, 10).await;
    schedule::beat(&app.state, due + chrono::Duration::seconds(90)).await.unwrap();
    assert_eq!(generate_jobs(&app, tid).await, 2);
    let slots: Vec<(String, Option<chrono::DateTime<Utc>>)> =
        cron_slots::table.select((cron_slots::step, cron_slots::finished_at)).load(&mut conn).await.unwrap();
    assert!(slots.iter().any(|(s, f)| s == "content" && f.is_some()), "{slots:?}");
}

/// An article as the writer leaves it: three H2s, no images yet.
async fn article_without_images(app: &TestApp, tenant_id: i64, title: &str) -> (i64, String) {
    let slug = unique(&title.to_lowercase().replace(' ', "-"));
    let p = format!("<p>{}</p>", vec!["grippy"; 60].join(" "));
    let mut conn = app.db().await;
    let task = diesel::insert_into(tasks::table)
        .values((
            tasks::tenant_id.eq(tenant_id),
            tasks::title.eq(format!("{title} {slug}")),
            tasks::status.eq("draft"),
            tasks::slug.eq(&slug),
            tasks::meta_title.eq(title),
            tasks::meta_description.eq("A guide."),
            tasks::primary_keyword.eq("trail shoes"),
            tasks::content_html.eq(format!("<h2>Grip</h2>{p}<h2>Fit</h2>{p}<h2>Care</h2>{p}")),
            tasks::word_count.eq(183),
        ))
        .returning(tasks::id)
        .get_result(&mut conn)
        .await
        .unwrap();
    (task, slug)
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_publish_waits_for_images_publishes_an_article_whose_images_failed_with_a_warning_and_adds_late_images_in_place() {
    let wp = wp_site();
    let admin = WpAdmin::new(&wp);
    let app = crate::wordpress::app().await;
    let fake = FakeAi::start();
    let (b, tid) = app.signup("Pic", "pic@example.com", "Pic Co").await;
    app.set_plan(tid, "pro").await;
    topup(&app, tid, 100).await;
    let r = b
        .api(
            reqwest::Method::PUT,
            "/api/settings/ai",
            Some(json!({ "text_provider": "openai", "text_base_url": fake.base, "text_api_key": "sk-test-123456", "text_model": "gpt-4o-mini",
                         "image_provider": "openai", "image_base_url": fake.base, "image_api_key": "sk-test-123456", "image_model": "dall-e-3", "images_per_article": 1 })),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // Image prompts for every article; the provider refuses every image of the "doomed" one until told otherwise.
    let refuse = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let refusing = refuse.clone();
    fake.respond_with(move |path, body| {
        if path.ends_with("/images/generations") {
            let prompt = body["prompt"].as_str().unwrap_or("").to_lowercase();
            return (prompt.contains("doomed") && std::sync::atomic::AtomicBool::load(&refusing, std::sync::atomic::Ordering::SeqCst))
                .then(|| Reply::Status(400, "Your request was rejected by the safety system".into()));
        }
        // The image prompts name the article they are for.
        let user = body.pointer("/messages/1/content").and_then(|v| v.as_str()).unwrap_or("").to_lowercase();
        let what = if user.contains("doomed") { "doomed" } else { "fine" };
        Some(Reply::Ok(
            json!({ "featured": { "prompt": format!("a {what} trail"), "alt": "A trail" }, "in_article": [{ "prompt": format!("a {what} shoe"), "alt": "A shoe" }] })
                .to_string(),
        ))
    });
    let (good, good_slug) = article_without_images(&app, tid, "Trail shoes fine").await;
    let (doomed, doomed_slug) = article_without_images(&app, tid, "Trail shoes doomed").await;
    let (site, _) = add_site(&b, &wp.url, &wp.user, &wp.password, &wp.secret).await;
    settings(
        &b,
        json!({ "enabled": true, "daily_credit_budget": 100, "publish_site_id": site, "publish_status": "publish",
                         "steps": [step("images", 10), step("publish", 10)] }),
    )
    .await;
    let mut conn = app.db().await;
    let mut slot = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
    let mut fire = async |step: Scheduled| {
        schedule::fire(&app.state, step, slot).await.unwrap().expect("the slot was free");
        slot += chrono::Duration::hours(1);
        settle(&app, tid).await;
    };

    // Publish before the images step ran: nothing goes out.
    fire(Scheduled::Publish).await;
    assert_eq!(app.count("publications").await, 0, "articles wait for their images");
    let before_images = balance(&b).await;

    // Images: the good article gets its two; the doomed one's both fail for good (and are refunded).
    fire(Scheduled::Images).await;
    let image_states = async |conn: &mut diesel_async::AsyncPgConnection, task: i64| -> Vec<String> {
        igny8::db::schema::images::table
            .filter(igny8::db::schema::images::task_id.eq(task))
            .order(igny8::db::schema::images::position)
            .select(igny8::db::schema::images::status)
            .load(conn)
            .await
            .unwrap()
    };
    assert_eq!(image_states(&mut conn, good).await, ["ready", "ready"]);
    assert_eq!(image_states(&mut conn, doomed).await, ["failed", "failed"]);
    assert_eq!(before_images - balance(&b).await, 2, "only the two images made are paid for");

    // Publish: both go out, the good one with its featured and in-article image, the doomed one with a warning.
    fire(Scheduled::Publish).await;
    let post = |slug: String| {
        let admin = &admin;
        async move {
            let posts = admin.posts_with_slug(&slug).await;
            assert_eq!(posts.len(), 1, "{slug}: {posts:?}");
            posts[0].clone()
        }
    };
    let good_post = post(good_slug.clone()).await;
    assert_eq!(good_post["status"], "publish");
    assert!(good_post["featured_media"].as_i64().unwrap() > 0, "featured image set");
    let attached = admin.get(&format!("/wp/v2/media?parent={}&per_page=20", good_post["id"])).await;
    assert_eq!(attached.as_array().unwrap().len(), 2, "featured and in-article image attached");
    let content = good_post["content"]["raw"].as_str().unwrap();
    assert!(content.contains("wp-image-"), "the in-article image is in the post: {content}");
    let doomed_post = post(doomed_slug.clone()).await;
    assert_eq!(doomed_post["status"], "publish");
    assert_eq!(doomed_post["featured_media"], 0);
    let warning: Option<String> = igny8::db::schema::publications::table
        .filter(igny8::db::schema::publications::task_id.eq(doomed))
        .select(igny8::db::schema::publications::warning)
        .first(&mut conn)
        .await
        .unwrap();
    assert!(warning.as_deref().unwrap_or_default().contains("2 image(s) failed and were left out"), "{warning:?}");
    assert!(warning.as_deref().unwrap_or_default().contains("safety system"), "the reason is shown: {warning:?}");

    // The doomed article's featured image made later (regenerated) is added to the live post by the next run.
    refuse.store(false, std::sync::atomic::Ordering::SeqCst);
    let featured: i64 = igny8::db::schema::images::table
        .filter(igny8::db::schema::images::task_id.eq(doomed))
        .filter(igny8::db::schema::images::position.eq(0))
        .select(igny8::db::schema::images::id)
        .first(&mut conn)
        .await
        .unwrap();
    let r = b.api_post(&format!("/api/writer/images/{featured}/regenerate"), json!({})).await;
    assert_eq!(r.status(), 202);
    settle(&app, tid).await;
    fire(Scheduled::Publish).await;
    let updated = post(doomed_slug).await;
    assert_eq!(updated["id"], doomed_post["id"], "updated in place, not a second post");
    assert!(updated["featured_media"].as_i64().unwrap() > 0, "the late featured image is on the post");
    let runs: Vec<(String, i32)> = cron_runs::table
        .filter(cron_runs::tenant_id.eq(tid))
        .filter(cron_runs::step.eq("publish"))
        .order(cron_runs::id)
        .select((cron_runs::status, cron_runs::enqueued))
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(runs, [("done".to_string(), 0), ("done".to_string(), 2), ("done".to_string(), 1)]);
    // Nothing paid is lost: 2 images for the good article, 1 for the regenerated one.
    assert_eq!(before_images - balance(&b).await, 3);
    let _ = good;
}

/// Mail jobs to `to` whose subject starts with `subject`.
async fn mails_queued(app: &TestApp, to: &str, subject: &str) -> i64 {
    let mut conn = app.db().await;
    jobs::table
        .filter(jobs::kind.eq("mail.send"))
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!("payload->>'to' = '{to}' AND payload->>'subject' LIKE '{subject}%'")))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_skipped_for_credits_mails_the_owner_once_not_once_per_run() {
    let sink = crate::smtp::SmtpSink::start().await;
    let app = TestApp::spawn_with(&crate::harness::redis_url(), sink.env()).await;
    let (b, tid) = app.signup("Nia Notice", "nia@example.com", "Notice Co").await;
    waiting_tasks(&app, &b, tid, 2, 2).await;
    let bal = balance(&b).await;
    topup(&app, tid, -(bal - 2)).await;
    // "Run now" twice and two scheduled ticks: every one is skipped for credits.
    for _ in 0..2 {
        let out: Value = b.api_post("/api/automation/content/run", json!({})).await.json().await.unwrap();
        assert_eq!(out["status"], "skipped", "{out}");
        assert!(out["reason"].as_str().unwrap().contains("Not enough credits"), "{out}");
    }
    for hour in [3, 6] {
        schedule::fire(&app.state, Scheduled::Content, Utc.with_ymd_and_hms(2026, 3, 1, hour, 0, 0).unwrap()).await.unwrap().unwrap();
    }
    assert_eq!(app.count("cron_runs").await, 4);
    assert_eq!(mails_queued(&app, "nia@example.com", "Automation was skipped").await, 1, "one mail, not one per run");
    let got = sink.wait_for("nia@example.com", 2).await; // the sign-up's verification mail and the notice
    let notice: Vec<_> = got.iter().filter(|m| m.subject.starts_with("Automation was skipped in Notice Co")).collect();
    assert_eq!(notice.len(), 1, "{got:?}");
    assert!(notice[0].text.contains("Not enough credits") && notice[0].text.contains("/automation"));

    // Switched off in Account → Notifications: no mail even for a day that has had none.
    assert_eq!(b.post_form("/account/notifications", &[("credits", "on")]).await.status(), 303);
    let (_, page) = b.get_text("/account/notifications").await;
    assert!(!page.contains("name=\"automation\" value=\"on\" checked"), "saved as off");
    let mut conn = app.db().await;
    diesel::sql_query("DELETE FROM notifications_sent").execute(&mut conn).await.unwrap();
    let out: Value = b.api_post("/api/automation/content/run", json!({})).await.json().await.unwrap();
    assert_eq!(out["status"], "skipped");
    assert_eq!(mails_queued(&app, "nia@example.com", "Automation was skipped").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn credits_below_a_tenth_of_the_plan_mail_the_owner_once_per_refill() {
    let sink = crate::smtp::SmtpSink::start().await;
    let app = TestApp::spawn_with(&crate::harness::redis_url(), sink.env()).await;
    let (b, tid) = app.signup("Lou Low", "lou@example.com", "Low Co").await;
    let (_, other) = app.signup("Ful Full", "ful@example.com", "Full Co").await;
    // Free plan: 25 a month, so 2 credits is below a tenth and 3 is not.
    let bal = balance(&b).await;
    topup(&app, tid, -(bal - 3)).await;
    schedule::fire(&app.state, Scheduled::Content, Utc.with_ymd_and_hms(2026, 3, 1, 1, 0, 0).unwrap()).await.unwrap().unwrap();
    assert_eq!(mails_queued(&app, "lou@example.com", "Credits running low").await, 0, "3 of 25 is not below a tenth");
    topup(&app, tid, -1).await;
    for hour in [2, 3] {
        schedule::fire(&app.state, Scheduled::Content, Utc.with_ymd_and_hms(2026, 3, 1, hour, 0, 0).unwrap()).await.unwrap().unwrap();
    }
    assert_eq!(mails_queued(&app, "lou@example.com", "Credits running low").await, 1, "once, not once per tick");
    assert_eq!(mails_queued(&app, "ful@example.com", "Credits running low").await, 0, "{other}: a full workspace is not told");
    let got = sink.wait_for("lou@example.com", 2).await;
    let low = got.iter().find(|m| m.subject == "Credits running low in Low Co").expect("the low-credit mail");
    assert!(low.text.contains("has 2 credits left"), "{}", low.text);
    // Topped up and spent down again: told again.
    topup(&app, tid, 50).await;
    topup(&app, tid, -50).await;
    schedule::fire(&app.state, Scheduled::Content, Utc.with_ymd_and_hms(2026, 3, 1, 4, 0, 0).unwrap()).await.unwrap().unwrap();
    assert_eq!(mails_queued(&app, "lou@example.com", "Credits running low").await, 2);
}
