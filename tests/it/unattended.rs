//! Work with nobody watching, tried the way it runs: the real binary killed with -9 in the middle of a job and
//! started again, SIGTERM with its drain, the scheduler's own beat loop on two replicas over a (fast) hour, and a
//! model budget held by the app's own rate limit.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DurationRound, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::{ai_calls, cron_runs, cron_slots, images, jobs, keyword_imports, publications, system_settings, tasks, tenants};
use igny8::jobs::{Job, NewJob, queue};
use igny8::modules::automation::schedule::{self, FastClock};
use serde_json::{Value, json};

use crate::fake_ai::{FakeAi, Reply};
use crate::harness::{TestApp, redis_url};
use crate::planner::support::{balance, upload, wait_job};
use crate::wordpress::{add_site, article_task};
use crate::wp_site::wp_site;

/// A web-only app that may call loopback services (the fake provider, the test WordPress).
async fn web() -> TestApp {
    let app = TestApp::spawn_with(&redis_url(), HashMap::from([("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())])).await;
    app.allow_own_ai_keys().await;
    app
}

/// A queued task with no article yet; returns its id.
async fn queued_task(app: &TestApp, tenant_id: i64, title: &str) -> i64 {
    let mut conn = app.db().await;
    diesel::insert_into(tasks::table)
        .values((
            tasks::tenant_id.eq(tenant_id),
            tasks::title.eq(title),
            tasks::status.eq("queued"),
            tasks::primary_keyword.eq("trail shoes"),
            tasks::target_keywords.eq(vec!["trail shoes".to_string()]),
            tasks::word_count_goal.eq(300),
        ))
        .returning(tasks::id)
        .get_result(&mut conn)
        .await
        .unwrap()
}

/// An article the writer accepts (three H2s, enough words).
fn article_answer() -> String {
    let p = format!("<p>{}</p>", vec!["grippy"; 80].join(" "));
    json!({ "title": "Trail shoes", "meta_title": "Trail shoes", "meta_description": "A guide.", "slug": "trail-shoes",
            "primary_keyword": "trail shoes", "content_html": format!("<h2>Grip</h2>{p}<h2>Fit</h2>{p}<h2>Care</h2>{p}") })
    .to_string()
}

/// Sets how many attempts a queued job has, so the next one is its last.
async fn last_attempt(app: &TestApp, job: i64) {
    let mut conn = app.db().await;
    diesel::update(jobs::table.filter(jobs::id.eq(job))).set(jobs::max_attempts.eq(1)).execute(&mut conn).await.unwrap();
}

async fn wait_until<F: AsyncFnMut() -> bool>(what: &str, within: Duration, mut f: F) {
    let start = Instant::now();
    while !f().await {
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn task_state(app: &TestApp, task: i64) -> (String, Option<String>) {
    let mut conn = app.db().await;
    tasks::table.filter(tasks::id.eq(task)).select((tasks::status, tasks::error)).first(&mut conn).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_during_the_last_attempt_of_a_generate_job_leaves_a_failed_task_that_generates_again_and_every_call_logged() {
    let fake = FakeAi::start();
    let app = web().await;
    let (b, tid) = app.signup("Kil", "kil@example.com", "Kil Co").await;
    fake.use_for_text(&b).await;
    let start_balance = balance(&b).await;
    let task = queued_task(&app, tid, "Trail shoes for beginners").await;
    // The first call never comes back in time; every later one is a good article.
    fake.then([Reply::Slow(Duration::from_secs(120))]);
    fake.respond_with(|_, _| Some(Reply::Ok(article_answer())));
    let r = b.api_post("/api/writer/tasks/generate", json!({ "ids": [task] })).await;
    assert_eq!(r.status(), 202);
    let job = r.json::<Value>().await.unwrap()["job_ids"][0].as_i64().unwrap();
    last_attempt(&app, job).await;

    let mut first = app.process(&[("IGNY8_WORKERS", "1")]).await;
    wait_until("the provider call is in flight", Duration::from_secs(20), async || fake.seen().len() == 1).await;
    first.kill9();
    assert_eq!(task_state(&app, task).await.0, "generating", "nothing ran after the kill");

    // Restarted: the orphaned job is found at once and ends; the task says why and can be generated again.
    let _second = app.process(&[("IGNY8_WORKERS", "1")]).await;
    wait_until("the task leaves generating", Duration::from_secs(10), async || task_state(&app, task).await.0 != "generating").await;
    let (status, error) = task_state(&app, task).await;
    assert_eq!(status, "failed");
    assert!(error.as_deref().unwrap_or_default().contains("worker stopped"), "{error:?}");
    let mut conn = app.db().await;
    let job_status: String = jobs::table.filter(jobs::id.eq(job)).select(jobs::status).first(&mut conn).await.unwrap();
    assert_eq!(job_status, "dead");
    assert_eq!(balance(&b).await, start_balance, "the reserved credits came back");

    let r = b.api_post("/api/writer/tasks/generate", json!({ "ids": [task] })).await;
    assert_eq!(r.status(), 202, "Generate works again: {}", r.text().await.unwrap());
    let again = r.json::<Value>().await.unwrap()["job_ids"][0].as_i64().unwrap();
    assert_eq!(wait_job(&app, again).await.0, "succeeded");
    assert_eq!(task_state(&app, task).await, ("draft".to_string(), None));
    assert_eq!(balance(&b).await, start_balance - 3);

    // Every call the provider saw is in the log — the one cut short by the kill too (marked once it can no longer
    // be running).
    let logged: Vec<(Option<i64>, String)> = ai_calls::table
        .filter(ai_calls::tenant_id.eq(tid))
        .order(ai_calls::id)
        .select((ai_calls::job_id, ai_calls::status))
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(logged.len(), fake.seen().len(), "calls logged = calls made: {logged:?}");
    assert_eq!(logged[0], (Some(job), "started".to_string()));
    assert_eq!(logged[1], (Some(again), "ok".to_string()));
    igny8::ai::calls::mark_interrupted(&mut conn, Duration::ZERO).await.unwrap();
    let first_status: String = ai_calls::table.filter(ai_calls::job_id.eq(job)).select(ai_calls::status).first(&mut conn).await.unwrap();
    assert_eq!(first_status, "interrupted");
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_during_the_last_attempt_of_an_image_job_leaves_a_failed_image_that_regenerates() {
    let fake = FakeAi::start();
    let app = web().await;
    let (b, tid) = app.signup("Img", "img@example.com", "Img Co").await;
    let r = b
        .api(
            reqwest::Method::PUT,
            "/api/settings/ai",
            Some(json!({ "text_provider": "dev", "text_model": "dev-text", "image_provider": "openai", "image_base_url": fake.base, "image_api_key": "sk-test-123456",
                         "image_model": "dall-e-3" })),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (task, _) = article_task(&app, tid, "kill-image").await;
    let mut conn = app.db().await;
    // The article's featured image, to be rendered again.
    let image: i64 = diesel::update(images::table.filter(images::task_id.eq(task)).filter(images::position.eq(0)))
        .set(images::status.eq("queued"))
        .returning(images::id)
        .get_result(&mut conn)
        .await
        .unwrap();
    let render = igny8::modules::writer::image_jobs::RenderImage { image_id: image };
    let job = queue::enqueue(&app.state.db, NewJob { max_attempts: 1, ..render.new_job(tid).credits(1).by("test") }).await.unwrap();
    fake.then([Reply::Slow(Duration::from_secs(120))]);

    let mut first = app.process(&[("IGNY8_WORKERS", "1")]).await;
    wait_until("the image call is in flight", Duration::from_secs(20), async || fake.seen().len() == 1).await;
    first.kill9();
    let _second = app.process(&[("IGNY8_WORKERS", "1")]).await;
    let image_state = async |conn: &mut diesel_async::AsyncPgConnection| -> (String, Option<String>) {
        images::table.filter(images::id.eq(image)).select((images::status, images::error)).first(conn).await.unwrap()
    };
    let start = Instant::now();
    while image_state(&mut conn).await.0 == "queued" {
        assert!(start.elapsed() < Duration::from_secs(10), "the image is still queued");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, error) = image_state(&mut conn).await;
    assert_eq!(status, "failed");
    assert!(error.unwrap_or_default().contains("worker stopped"));
    let job_status: String = jobs::table.filter(jobs::id.eq(job)).select(jobs::status).first(&mut conn).await.unwrap();
    assert_eq!(job_status, "dead");
    assert_eq!(balance(&b).await, 25, "the image's credit came back");

    let r = b.api_post(&format!("/api/writer/images/{image}/regenerate"), json!({})).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let again = r.json::<Value>().await.unwrap()["job_id"].as_i64().unwrap();
    assert_eq!(wait_job(&app, again).await.0, "succeeded");
    assert_eq!(image_state(&mut conn).await, ("ready".to_string(), None));
}

/// Leaves a queued job as a process killed during its last attempt leaves it: running, claimed by a worker that
/// stopped beating.
async fn orphan_on_last_attempt(app: &TestApp, job: i64) {
    let mut conn = app.db().await;
    diesel::sql_query("INSERT INTO job_workers (id, beat_at) VALUES ('killed-worker', now() - interval '1 hour') ON CONFLICT DO NOTHING")
        .execute(&mut conn)
        .await
        .unwrap();
    diesel::update(jobs::table.filter(jobs::id.eq(job)))
        .set((
            jobs::status.eq("running"),
            jobs::attempts.eq(jobs::max_attempts),
            jobs::locked_by.eq("killed-worker"),
            jobs::locked_until.eq(Utc::now() + chrono::Duration::minutes(5)),
        ))
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn imports_and_publishing_cut_short_on_their_last_attempt_end_usable_at_once() {
    let wp = wp_site();
    let app = web().await;
    let (b, tid) = app.signup("Orp", "orp@example.com", "Orp Co").await;

    // An import whose analysis died with its worker.
    let (status, body) = upload(&b, "kw.csv", b"keyword,volume\ntrail shoes,100\nroad shoes,50\n".to_vec()).await;
    assert_eq!(status, 202, "{body}");
    let import = body["id"].as_i64().unwrap();
    let mut conn = app.db().await;
    let import_job: i64 = jobs::table
        .filter(jobs::subject_id.eq(import))
        .filter(jobs::kind.eq("planner.import"))
        .select(jobs::id)
        .first(&mut conn)
        .await
        .unwrap();
    orphan_on_last_attempt(&app, import_job).await;

    // A publish job that died the same way.
    let (site, _) = add_site(&b, &wp.url, &wp.user, &wp.password, &wp.secret).await;
    let (task, _) = article_task(&app, tid, "orphan").await;
    let r = b.api_post(&format!("/api/publish/tasks/{task}"), json!({ "site_id": site, "status": "draft" })).await;
    assert_eq!(r.status(), 202);
    let publish_job = r.json::<Value>().await.unwrap()["job_id"].as_i64().unwrap();
    orphan_on_last_attempt(&app, publish_job).await;
    assert_eq!(task_state(&app, task).await.0, "publishing");

    // A replica comes up: both are ended within seconds (not at lease end) and what they were for is usable.
    let worker = app.replica(HashMap::from([("IGNY8_WORKERS", "1".to_string()), ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())])).await;
    wait_until("the import fails", Duration::from_secs(5), async || {
        let s: String =
            keyword_imports::table.filter(keyword_imports::id.eq(import)).select(keyword_imports::status).first(&mut conn).await.unwrap();
        s == "failed"
    })
    .await;
    let error: Option<String> =
        keyword_imports::table.filter(keyword_imports::id.eq(import)).select(keyword_imports::error).first(&mut conn).await.unwrap();
    assert!(error.unwrap_or_default().contains("worker stopped"));
    wait_until("the task leaves publishing", Duration::from_secs(5), async || task_state(&app, task).await.0 != "publishing").await;
    assert_eq!(task_state(&app, task).await.0, "ready", "back to the status it had");
    let (state, perr): (String, Option<String>) = publications::table
        .filter(publications::task_id.eq(task))
        .select((publications::state, publications::error))
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(state, "failed");
    assert!(perr.unwrap_or_default().contains("worker stopped"));

    // Both work again.
    let (status, body) = upload(&b, "kw.csv", b"keyword,volume\ntrail shoes,100\n".to_vec()).await;
    assert_eq!(status, 202, "{body}");
    let (done, _) = crate::planner::support::settle(&b, body["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "ready", "{done}");
    let r = b.api_post(&format!("/api/publish/tasks/{task}"), json!({ "site_id": site, "status": "draft" })).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let again = r.json::<Value>().await.unwrap()["job_id"].as_i64().unwrap();
    assert_eq!(wait_job(&worker, again).await.0, "succeeded");
    // (The site's own self-test job must not be cut short by the end of the test: it would leave its test draft.)
    crate::automation::settle(&app, tid).await;
    worker.kill_workers();
}

#[tokio::test(flavor = "multi_thread")]
async fn after_kill_9_and_a_restart_the_workspaces_queued_work_resumes_within_five_seconds() {
    let app = web().await;
    let (_, tid) = app.signup("Res", "res@example.com", "Res Co").await;
    // Two jobs that hang on their first attempt fill the workspace's running cap; four more wait behind them.
    let probe = |payload: Value| NewJob::new(tid, igny8::jobs::probe::PROBE, payload);
    let mut ids = vec![];
    for _ in 0..2 {
        ids.push(queue::enqueue(&app.state.db, probe(json!({ "hang_attempts": 1 }))).await.unwrap());
    }
    for _ in 0..4 {
        ids.push(queue::enqueue(&app.state.db, probe(json!({}))).await.unwrap());
    }
    let env = [("IGNY8_WORKERS", "4"), ("IGNY8_JOBS_PER_TENANT", "2"), ("IGNY8_JOB_LEASE_SECS", "60")];
    let mut first = app.process(&env).await;
    let mut conn = app.db().await;
    let running = async |conn: &mut diesel_async::AsyncPgConnection| -> i64 {
        jobs::table.filter(jobs::tenant_id.eq(tid)).filter(jobs::status.eq("running")).count().get_result(conn).await.unwrap()
    };
    let start = Instant::now();
    while running(&mut conn).await < 2 {
        assert!(start.elapsed() < Duration::from_secs(20));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill9();
    let _second = app.process(&env).await;
    let restarted = Instant::now();
    let open = async |conn: &mut diesel_async::AsyncPgConnection| -> i64 {
        jobs::table.filter(jobs::id.eq_any(&ids)).filter(jobs::status.ne("succeeded")).count().get_result(conn).await.unwrap()
    };
    while open(&mut conn).await > 0 {
        assert!(restarted.elapsed() < Duration::from_secs(5), "the workspace's work did not resume within 5 s (leases last 60 s)");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("all six jobs done {:?} after the restart", restarted.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_makes_readyz_503_while_requests_are_still_answered_for_the_drain_period() {
    let app = web().await;
    let mut p = app.process(&[("IGNY8_DRAIN_SECS", "3")]).await;
    let (http, base) = (reqwest::Client::new(), p.base.clone());
    let get = async |path: &str| http.get(format!("{base}{path}")).send().await.map(|r| r.status().as_u16());
    assert_eq!(get("/readyz").await.unwrap(), 200);
    let sent = Instant::now();
    p.sigterm();
    // Give the signal a moment to land, then for most of the drain: not ready, but serving.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (mut answered, mut last_answer) = (0, Duration::ZERO);
    while sent.elapsed() < Duration::from_millis(2500) {
        assert_eq!(get("/readyz").await.unwrap(), 503, "draining at {:?}", sent.elapsed());
        assert_eq!(get("/login").await.unwrap(), 200, "pages still served at {:?}", sent.elapsed());
        (answered, last_answer) = (answered + 1, sent.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Served all through the drain: several answers, the last one late in it (a loaded machine answers fewer).
    assert!(answered >= 3 && last_answer >= Duration::from_millis(2000), "{answered} answers, the last at {last_answer:?}");
    let status = p.exited(Duration::from_secs(15)).await.expect("the process stops after the drain");
    assert!(status.success(), "{status:?}");
    assert!(sent.elapsed() >= Duration::from_secs(3), "not before the drain period ended");
    assert!(get("/healthz").await.is_err(), "the listener is closed");
}

#[tokio::test(flavor = "multi_thread")]
async fn three_hundred_jobs_against_a_rate_limited_model_all_succeed_and_two_workspaces_both_progress() {
    let fake = FakeAi::start();
    let app = web().await;
    let (a, ta) = app.signup("Ra", "ra@example.com", "Ra Co").await;
    let (b, tb) = app.signup("Rb", "rb@example.com", "Rb Co").await;
    fake.use_for_text(&a).await;
    fake.use_for_text(&b).await;
    let prompt = igny8::ai::jobs::Prompt { prompt: "Say OK".into(), ..Default::default() };
    let mut conn = app.db().await;
    // Workspace A queues its 240 first; B's 60 come after them.
    for (tid, n) in [(ta, 240), (tb, 60)] {
        for _ in 0..n {
            queue::enqueue_in_tx(&mut conn, &prompt.new_job(tid)).await.unwrap();
        }
    }
    // 60 calls per 2-second window: the same budget shape as 60 a minute, thirty times faster.
    let env = HashMap::from([
        ("IGNY8_WORKERS", "16".to_string()),
        ("IGNY8_JOBS_PER_TENANT", "8".to_string()),
        ("IGNY8_AI_RATE_PER_MIN", "60".to_string()),
        ("IGNY8_AI_RATE_WINDOW_SECS", "2".to_string()),
        ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string()),
    ]);
    let started = Instant::now();
    let worker = app.replica(env).await;
    let done = async |conn: &mut diesel_async::AsyncPgConnection| -> i64 {
        jobs::table.filter(jobs::status.eq("succeeded")).count().get_result(conn).await.unwrap()
    };
    let mut b_done_at = None;
    loop {
        let n = done(&mut conn).await;
        if b_done_at.is_none() {
            let b_left: i64 = jobs::table
                .filter(jobs::tenant_id.eq(tb))
                .filter(jobs::status.ne("succeeded"))
                .count()
                .get_result(&mut conn)
                .await
                .unwrap();
            if b_left == 0 {
                b_done_at = Some(started.elapsed());
            }
        }
        if n == 300 {
            break;
        }
        let failed: i64 = jobs::table.filter(jobs::status.eq_any(["failed", "dead"])).count().get_result(&mut conn).await.unwrap();
        assert_eq!(failed, 0, "no job may die of the app's own limit");
        assert!(started.elapsed() < Duration::from_secs(90), "{n} of 300 done");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let total = started.elapsed();
    worker.kill_workers();
    let attempts: Vec<i32> =
        jobs::table.filter(jobs::kind.eq("ai.prompt")).select(jobs::attempts).distinct().load(&mut conn).await.unwrap();
    assert_eq!(attempts, vec![1], "a held-back call spends no attempt");
    assert_eq!(fake.seen().len(), 300, "one provider call per job: none was sent past the limit and refused");
    // 300 calls at 60 per 2-second window need five windows: at least three whole ones beside the first and last.
    assert!(total >= Duration::from_secs(6), "the limit held the calls back: {total:?}");
    #[derive(QueryableByName)]
    struct Window {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let windows: Vec<Window> = diesel::sql_query(
        "SELECT count(*) AS n FROM ai_calls WHERE status = 'ok' GROUP BY floor(extract(epoch FROM created_at) / 2) ORDER BY 1 DESC",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert!(windows.len() >= 5, "{} windows", windows.len());
    // The log dates each call by the moment the limit admitted it, so its windows are the limiter's own.
    assert!(windows[0].n <= 60, "at most the budget per window: {}", windows[0].n);
    // B, though queued behind A's 240, got its share of every window and finished long before A.
    let b_done_at = b_done_at.expect("B finished");
    assert!(b_done_at < total.mul_f64(0.6), "B done at {b_done_at:?} of {total:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_beating_at_different_sub_second_offsets_for_an_hour_run_each_step_as_its_cron_line_says() {
    let app = web().await;
    let (b, tid) = app.signup("Hou", "hou@example.com", "Hou Co").await;
    let r = b.api(reqwest::Method::PUT, "/api/automation", Some(json!({ "enabled": true }))).await;
    assert_eq!(r.status(), 200);
    let cadences = [
        ("cluster", "*/5 * * * *"),
        ("ideas", "*/15 * * * *"),
        ("content", "7,37 * * * *"),
        ("images", "0 * * * *"),
        ("publish", "*/20 * * * *"),
        ("sync", "*/30 * * * *"),
        ("cleanup", "45 * * * *"),
        ("backup", "50 * * * *"),
    ];
    let mut conn = app.db().await;
    for (step, line) in cadences {
        diesel::update(system_settings::table.filter(system_settings::key.eq(format!("cron.{step}"))))
            .set(system_settings::value.eq(line))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    // The coming hour of real time, run 120 times faster by a clock both replicas share; the first beat is at
    // hh:01 and the last at hh+1:00.
    let start = Utc::now().duration_trunc(chrono::Duration::hours(1)).unwrap() + chrono::Duration::hours(1) + chrono::Duration::seconds(30);
    let other = app.replica(HashMap::new()).await;
    let beats = [
        schedule::start(app.state.clone(), std::sync::Arc::new(FastClock::new(start, 120.0)), Duration::from_millis(150)),
        schedule::start(other.state.clone(), std::sync::Arc::new(FastClock::new(start, 120.0)), Duration::from_millis(700)),
    ];
    // Until the hh+1:00 slots have run (beats after it, up to hh+1:04, would add no slot for these cadences).
    let last = start - chrono::Duration::seconds(30) + chrono::Duration::hours(1);
    wait_until("the last slot ran", Duration::from_secs(60), async || {
        let done: i64 = cron_slots::table
            .filter(cron_slots::slot.eq(last))
            .filter(cron_slots::finished_at.is_not_null())
            .count()
            .get_result(&mut conn)
            .await
            .unwrap();
        done == 5
    })
    .await;
    for beat in beats {
        beat.abort();
    }
    // Whole-minute slots from hh:00 (caught up by the first beat, within the grace) to hh+1:00.
    let expected =
        [("cluster", 13), ("ideas", 5), ("content", 2), ("images", 2), ("publish", 4), ("sync", 3), ("cleanup", 1), ("backup", 1)];
    for (step, want) in expected {
        let slots: Vec<chrono::DateTime<Utc>> = cron_slots::table
            .filter(cron_slots::step.eq(step))
            .select(cron_slots::slot)
            .order(cron_slots::slot)
            .load(&mut conn)
            .await
            .unwrap();
        assert_eq!(slots.len(), want, "{step}: {slots:?}");
        assert!(slots.iter().all(|s| s.timestamp() % 60 == 0 && s.timestamp_subsec_nanos() == 0), "{step}: whole minutes: {slots:?}");
        let finished: i64 = cron_slots::table
            .filter(cron_slots::step.eq(step))
            .filter(cron_slots::finished_at.is_not_null())
            .count()
            .get_result(&mut conn)
            .await
            .unwrap();
        assert_eq!(finished, want as i64, "{step}: every claimed slot ran");
        if !matches!(step, "sync" | "cleanup" | "backup") {
            let runs: i64 = cron_runs::table
                .filter(cron_runs::tenant_id.eq(tid))
                .filter(cron_runs::step.eq(step))
                .count()
                .get_result(&mut conn)
                .await
                .unwrap();
            assert_eq!(runs, want as i64, "{step}: the workspace's run happened once per slot");
        }
    }
    let claimants: Vec<String> = cron_slots::table.select(cron_slots::claimed_by).distinct().load(&mut conn).await.unwrap();
    println!("slots claimed by {claimants:?}");
    let balance_after: i64 = tenants::table.find(tid).select(tenants::credits_balance).first(&mut conn).await.unwrap();
    assert_eq!(balance_after, 25, "nothing to pay for in an empty workspace");
    drop(b);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_publish_panel_warns_while_the_articles_images_are_still_being_generated() {
    let app = web().await;
    let (b, tid) = app.signup("Pan", "pan@example.com", "Pan Co").await;
    let (task, _) = article_task(&app, tid, "panel").await;
    let (_, page) = b.get_text(&format!("/writer/tasks/{task}/publishing")).await;
    assert!(!page.contains("still being generated"), "all three images are ready");
    let mut conn = app.db().await;
    diesel::update(images::table.filter(images::task_id.eq(task)).filter(images::position.eq(1)))
        .set(images::status.eq("queued"))
        .execute(&mut conn)
        .await
        .unwrap();
    let (_, page) = b.get_text(&format!("/writer/tasks/{task}/publishing")).await;
    assert!(page.contains("still being generated"), "{page}");
}
