//! The durable queue: retries, refunds, crashes, replicas, fairness and the credit invariant.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::{audit_events, credit_ledger, jobs, tenants};
use igny8::jobs::probe::PROBE;
use igny8::jobs::queue::{self, NewJob};
use serde_json::json;

use crate::harness::TestApp;

async fn with_workers(n: u32, extra: &[(&'static str, &str)]) -> TestApp {
    let mut env: HashMap<&str, String> = HashMap::from([("IGNY8_WORKERS", n.to_string())]);
    for (k, v) in extra {
        env.insert(k, v.to_string());
    }
    TestApp::spawn_with(&crate::harness::redis_url(), env).await
}

fn probe(tenant_id: i64, payload: serde_json::Value, credits: i64) -> NewJob {
    NewJob { credits, ..NewJob::new(tenant_id, PROBE, payload) }
}

async fn enqueue(app: &TestApp, job: NewJob) -> i64 {
    let id = queue::enqueue(&app.state.db, job).await.unwrap();
    igny8::jobs::worker::wake(&app.state).await;
    id
}

/// (status, attempts, last_error)
async fn job(app: &TestApp, id: i64) -> (String, i32, Option<String>) {
    let mut conn = app.db().await;
    jobs::table.filter(jobs::id.eq(id)).select((jobs::status, jobs::attempts, jobs::last_error)).first(&mut conn).await.unwrap()
}

async fn wait_status(app: &TestApp, id: i64, want: &str, within: Duration) -> (String, i32, Option<String>) {
    let start = Instant::now();
    loop {
        let j = job(app, id).await;
        if j.0 == want || start.elapsed() > within {
            assert_eq!(j.0, want, "job {id} after {within:?}: {j:?}");
            return j;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Ledger rows of one job: (reason, delta).
async fn ledger_of(app: &TestApp, id: i64) -> Vec<(String, i64)> {
    let mut conn = app.db().await;
    credit_ledger::table
        .filter(credit_ledger::reference.eq(format!("job:{id}")))
        .select((credit_ledger::reason, credit_ledger::delta))
        .order(credit_ledger::id.asc())
        .load(&mut conn)
        .await
        .unwrap()
}

async fn balance_and_sum(app: &TestApp, tid: i64) -> (i64, i64) {
    let mut conn = app.db().await;
    let balance: i64 = tenants::table.find(tid).select(tenants::credits_balance).first(&mut conn).await.unwrap();
    (balance, igny8::billing::ledger::sum(&mut conn, tid).await.unwrap())
}

async fn probe_runs(app: &TestApp, id: i64) -> i64 {
    let mut conn = app.db().await;
    audit_events::table
        .filter(audit_events::action.eq("job.probe_ran"))
        .filter(audit_events::target_id.eq(id.to_string()))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_that_fails_twice_then_succeeds_runs_three_times_and_charges_once() {
    let app = with_workers(2, &[]).await;
    let (_, tid) = app.signup("Jay", "jay@example.com", "Jay Co").await;
    let id = enqueue(&app, probe(tid, json!({ "fail_attempts": 2 }), 3)).await;
    let (_, attempts, _) = wait_status(&app, id, "succeeded", Duration::from_secs(15)).await;
    assert_eq!(attempts, 3);
    assert_eq!(ledger_of(&app, id).await, vec![("reserve".to_string(), -3), ("settle".to_string(), 0)]);
    assert_eq!(probe_runs(&app, id).await, 1, "effects written once");
    assert_eq!(balance_and_sum(&app, tid).await, (22, 22));
}

#[tokio::test(flavor = "multi_thread")]
async fn fatal_and_exhausted_jobs_are_refunded_with_the_reason_stored() {
    let app = with_workers(2, &[]).await;
    let (_, tid) = app.signup("Kay", "kay@example.com", "Kay Co").await;
    let fatal = enqueue(&app, probe(tid, json!({ "fatal": true }), 3)).await;
    let exhausted = enqueue(&app, NewJob { max_attempts: 2, ..probe(tid, json!({ "fail_attempts": 9 }), 1) }).await;
    let (_, attempts, err) = wait_status(&app, fatal, "failed", Duration::from_secs(15)).await;
    assert_eq!(attempts, 1, "a fatal error is not retried");
    assert!(err.unwrap().contains("fail for good"));
    let (_, attempts, err) = wait_status(&app, exhausted, "dead", Duration::from_secs(15)).await;
    assert_eq!(attempts, 2);
    assert!(err.unwrap().contains("attempt 2"));
    assert_eq!(ledger_of(&app, fatal).await, vec![("reserve".to_string(), -3), ("refund".to_string(), 3)]);
    assert_eq!(ledger_of(&app, exhausted).await, vec![("reserve".to_string(), -1), ("refund".to_string(), 1)]);
    assert_eq!(probe_runs(&app, fatal).await + probe_runs(&app, exhausted).await, 0);
    assert_eq!(balance_and_sum(&app, tid).await, (25, 25));
}

#[tokio::test(flavor = "multi_thread")]
async fn not_enough_credits_is_refused_before_anything_is_queued() {
    let app = with_workers(0, &[]).await;
    let (_, tid) = app.signup("Lee", "lee@example.com", "Lee Co").await;
    let err = queue::enqueue(&app.state.db, probe(tid, json!({}), 26)).await.unwrap_err();
    assert!(
        matches!(err, igny8::error::AppError::PaymentRequired(ref m) if m.contains("needs 26 credits") && m.contains("has 25")),
        "{err:?}"
    );
    assert_eq!(app.count("jobs").await, 0);
    assert_eq!(balance_and_sum(&app, tid).await, (25, 25));
    // The same idempotency key gives back the same job, reserved once.
    let a = queue::enqueue(&app.state.db, NewJob { idempotency_key: Some("k1".into()), ..probe(tid, json!({}), 2) }).await.unwrap();
    let b = queue::enqueue(&app.state.db, NewJob { idempotency_key: Some("k1".into()), ..probe(tid, json!({}), 2) }).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(balance_and_sum(&app, tid).await, (23, 23));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_whose_worker_dies_is_finished_once_by_another_after_the_lease() {
    let app = with_workers(1, &[("IGNY8_JOB_LEASE_SECS", "1")]).await;
    let (_, tid) = app.signup("Mo", "mo@example.com", "Mo Co").await;
    let id = enqueue(&app, probe(tid, json!({ "hang_attempts": 1 }), 3)).await;
    wait_status(&app, id, "running", Duration::from_secs(10)).await;
    app.kill_workers();
    let other = app.replica(HashMap::from([("IGNY8_WORKERS", "1".to_string()), ("IGNY8_JOB_LEASE_SECS", "1".to_string())])).await;
    let (_, attempts, _) = wait_status(&other, id, "succeeded", Duration::from_secs(20)).await;
    assert_eq!(attempts, 2, "the second attempt finished it");
    assert_eq!(probe_runs(&app, id).await, 1);
    assert_eq!(ledger_of(&app, id).await, vec![("reserve".to_string(), -3), ("settle".to_string(), 0)]);
    assert_eq!(balance_and_sum(&app, tid).await, (22, 22));
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_run_a_thousand_jobs_exactly_once() {
    let a = with_workers(8, &[]).await;
    let b = a.replica(HashMap::from([("IGNY8_WORKERS", "8".to_string())])).await;
    let mut tids = vec![];
    for i in 0..3 {
        let (_, tid) = a.signup("T", &format!("t{i}@example.com"), &format!("T{i}")).await;
        tids.push(tid);
    }
    let mut ids = vec![];
    for i in 0..1000 {
        ids.push(queue::enqueue(&a.state.db, probe(tids[i % 3], json!({}), 0)).await.unwrap());
    }
    igny8::jobs::worker::wake(&a.state).await;
    let start = Instant::now();
    let mut conn = a.db().await;
    loop {
        let done: i64 = jobs::table.filter(jobs::status.eq("succeeded")).count().get_result(&mut conn).await.unwrap();
        if done == 1000 || start.elapsed() > Duration::from_secs(60) {
            assert_eq!(done, 1000);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let over_once: i64 = jobs::table.filter(jobs::attempts.ne(1)).count().get_result(&mut conn).await.unwrap();
    assert_eq!(over_once, 0, "every job was claimed exactly once");
    let effects: i64 = audit_events::table.filter(audit_events::action.eq("job.probe_ran")).count().get_result(&mut conn).await.unwrap();
    assert_eq!(effects, 1000);
    let workers: Vec<Option<String>> = jobs::table.select(jobs::locked_by).distinct().load(&mut conn).await.unwrap();
    assert!(workers.len() >= 2, "both instances took work: {workers:?}");
    drop(b);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_tenants_backlog_does_not_delay_anothers_job_past_one_claim_round() {
    let app = with_workers(0, &[]).await;
    let (_, big) = app.signup("Big", "big@example.com", "Big Co").await;
    let (_, small) = app.signup("Small", "small@example.com", "Small Co").await;
    let mut conn = app.db().await;
    diesel::sql_query("INSERT INTO jobs (tenant_id, kind, payload, run_at) SELECT $1, 'system.probe', '{}', now() - interval '1 hour' + g * interval '1 ms' FROM generate_series(1, 10000) g")
        .bind::<diesel::sql_types::BigInt, _>(big)
        .execute(&mut conn)
        .await
        .unwrap();
    let small_job = queue::enqueue(&app.state.db, probe(small, json!({}), 0)).await.unwrap();
    // One job per claim: the big tenant's oldest goes first, the small tenant's next.
    let first = queue::claim(&mut conn, 1, 4, "w1", Duration::from_secs(30)).await.unwrap();
    assert_eq!(first[0].tenant_id, big);
    let second = queue::claim(&mut conn, 1, 4, "w1", Duration::from_secs(30)).await.unwrap();
    assert_eq!((second[0].tenant_id, second[0].id), (small, small_job));
    // A batch claim gives each tenant a slot before anyone gets a second, and respects the cap.
    queue::enqueue(&app.state.db, probe(small, json!({}), 0)).await.unwrap();
    let batch = queue::claim(&mut conn, 8, 4, "w2", Duration::from_secs(30)).await.unwrap();
    let from_big = batch.iter().filter(|j| j.tenant_id == big).count();
    assert_eq!(batch.iter().filter(|j| j.tenant_id == small).count(), 1);
    assert_eq!(from_big, 3, "the cap of 4 running jobs per tenant holds");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_redis_stopped_jobs_still_run_by_polling() {
    // Nothing listens on port 1: to the app, Redis is down for the whole test.
    let app = TestApp::spawn_with("redis://127.0.0.1:1", HashMap::from([("IGNY8_WORKERS", "2".to_string())])).await;
    let (_, tid) = app.signup("Ned", "ned@example.com", "Ned Co").await;
    let id = enqueue(&app, probe(tid, json!({ "fail_attempts": 1 }), 1)).await;
    wait_status(&app, id, "succeeded", Duration::from_secs(15)).await;
    assert_eq!(ledger_of(&app, id).await.len(), 2);
}

/// A random mix of outcomes, cancellations and a crash; afterwards every tenant's balance equals Σ ledger,
/// every job is final, and every job's ledger rows match its outcome.
#[tokio::test(flavor = "multi_thread")]
async fn after_a_random_mix_the_ledger_always_balances() {
    let a = with_workers(4, &[("IGNY8_JOB_LEASE_SECS", "1")]).await;
    let mut tids = vec![];
    for i in 0..3 {
        let (_, tid) = a.signup("M", &format!("m{i}@example.com"), &format!("M{i}")).await;
        a.set_plan(tid, "pro").await;
        let mut conn = a.db().await;
        diesel_async::AsyncConnection::transaction::<_, igny8::error::AppError, _>(&mut conn, async move |c| {
            igny8::billing::ledger::post_in_tx(c, tid, 500, "topup", "test").await.map(|_| ())
        })
        .await
        .unwrap();
        tids.push(tid);
    }
    let mut seed: u64 = 0x5eed_1234;
    let mut rnd = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut ids = vec![];
    for i in 0..240 {
        let tid = tids[i % 3];
        let payload = match rnd(10) {
            0 => json!({ "fatal": true }),
            1 | 2 => json!({ "fail_attempts": rnd(3) }),
            _ => json!({ "sleep_ms": rnd(150) }),
        };
        let job = NewJob { max_attempts: 1 + rnd(3) as i32, ..probe(tid, payload, rnd(4) as i64) };
        ids.push((tid, queue::enqueue(&a.state.db, job).await.expect("enqueue")));
    }
    igny8::jobs::worker::wake(&a.state).await;
    // Cancel a few while queued or running.
    for (tid, id) in ids.iter().step_by(17) {
        let who = igny8::audit::Who { tenant_id: *tid, user_id: None, label: "test".into(), ip: None };
        let _ = queue::cancel(&a.state.db, &a.state.jobs, &who, *id).await;
    }
    // Crash the first instance mid-run; a second one picks up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.kill_workers();
    let b = a.replica(HashMap::from([("IGNY8_WORKERS", "4".to_string()), ("IGNY8_JOB_LEASE_SECS", "1".to_string())])).await;
    let mut conn = b.db().await;
    let start = Instant::now();
    loop {
        let open: i64 = jobs::table.filter(jobs::status.eq_any(["queued", "running"])).count().get_result(&mut conn).await.unwrap();
        if open == 0 {
            break;
        }
        if start.elapsed() > Duration::from_secs(30) {
            #[allow(clippy::type_complexity)] // a diagnostic dump of the stuck rows
            let stuck: Vec<(
                i64,
                String,
                i32,
                i32,
                Option<String>,
                chrono::DateTime<chrono::Utc>,
                Option<chrono::DateTime<chrono::Utc>>,
                Option<String>,
            )> = jobs::table
                .filter(jobs::status.eq_any(["queued", "running"]))
                .select((
                    jobs::id,
                    jobs::status,
                    jobs::attempts,
                    jobs::max_attempts,
                    jobs::locked_by,
                    jobs::run_at,
                    jobs::locked_until,
                    jobs::last_error,
                ))
                .limit(5)
                .load(&mut conn)
                .await
                .unwrap();
            let by_status: Vec<(String, Option<String>, i64)> = jobs::table
                .group_by((jobs::status, jobs::locked_by))
                .select((jobs::status, jobs::locked_by, diesel::dsl::count_star()))
                .load(&mut conn)
                .await
                .unwrap();
            panic!("{open} jobs still open at {}: {by_status:?} {stuck:#?}", chrono::Utc::now());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for tid in &tids {
        let (balance, sum) = balance_and_sum(&b, *tid).await;
        assert_eq!(balance, sum, "tenant {tid}");
    }
    let all: Vec<(i64, String, i64)> = jobs::table.select((jobs::id, jobs::status, jobs::credits)).load(&mut conn).await.unwrap();
    let mut statuses = std::collections::BTreeMap::new();
    for (id, status, credits) in all {
        *statuses.entry(status.clone()).or_insert(0) += 1;
        let rows = ledger_of(&b, id).await;
        let reasons: Vec<&str> = rows.iter().map(|(r, _)| r.as_str()).collect();
        let expected: Vec<&str> = match (credits > 0, status.as_str()) {
            (false, _) => vec![],
            (true, "succeeded") => vec!["reserve", "settle"],
            (true, _) => vec!["reserve", "refund"],
        };
        assert_eq!(reasons, expected, "job {id} ({status}, {credits} credits)");
        assert_eq!(probe_runs(&b, id).await, (status == "succeeded") as i64, "job {id} effects");
    }
    assert!(statuses.len() >= 3, "the mix produced several outcomes: {statuses:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn graceful_shutdown_finishes_short_jobs_and_returns_the_rest() {
    let app = with_workers(2, &[]).await;
    let (_, tid) = app.signup("Oz", "oz@example.com", "Oz Co").await;
    let short = enqueue(&app, probe(tid, json!({ "sleep_ms": 300 }), 1)).await;
    let stuck = enqueue(&app, probe(tid, json!({ "hang_attempts": 1 }), 1)).await;
    wait_status(&app, short, "running", Duration::from_secs(10)).await;
    wait_status(&app, stuck, "running", Duration::from_secs(10)).await;
    app.shutdown_workers(Duration::from_secs(2)).await;
    assert_eq!(job(&app, short).await.0, "succeeded", "a job that fits in the grace period finishes");
    let (status, attempts, err) = job(&app, stuck).await;
    assert_eq!((status.as_str(), attempts), ("queued", 0), "the unfinished job is back in the queue, attempt not counted");
    assert_eq!(err.as_deref(), Some("released at shutdown"));
    assert_eq!(ledger_of(&app, stuck).await, vec![("reserve".to_string(), -1)], "still reserved, not refunded");
    // Nothing claims it any more in this process.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(job(&app, stuck).await.0, "queued");
}

#[tokio::test(flavor = "multi_thread")]
async fn system_admins_can_list_every_tenants_jobs_and_others_only_their_own() {
    let app = with_workers(0, &[]).await;
    let (a, ta) = app.signup("Pat", "pat@example.com", "Pat Co").await;
    let (b, tb) = app.signup("Quin", "quin@example.com", "Quin Co").await;
    let ja = enqueue(&app, probe(ta, json!({}), 0)).await;
    let jb = enqueue(&app, probe(tb, json!({}), 0)).await;
    let ids = |v: serde_json::Value| -> Vec<i64> { v["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_i64().unwrap()).collect() };
    assert_eq!(ids(b.get("/api/system/jobs?tenant=all").await.json().await.unwrap()), vec![jb], "not an admin: own tenant only");
    assert_eq!(b.get(&format!("/api/system/jobs/{ja}")).await.status(), 404);
    let mut conn = app.db().await;
    diesel::update(igny8::db::schema::users::table.filter(igny8::db::schema::users::email.eq("pat@example.com")))
        .set(igny8::db::schema::users::is_system_admin.eq(true))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut all = ids(a.get("/api/system/jobs?tenant=all").await.json().await.unwrap());
    all.sort();
    assert_eq!(all, vec![ja, jb]);
    assert_eq!(ids(a.get(&format!("/api/system/jobs?tenant={tb}")).await.json().await.unwrap()), vec![jb]);
    assert_eq!(ids(a.get("/api/system/jobs").await.json().await.unwrap()), vec![ja], "default: the active tenant");
    let page = a.get("/system/jobs?tenant=all").await.text().await.unwrap();
    assert!(page.contains("<th>Tenant</th>"));
}

#[tokio::test(flavor = "multi_thread")]
async fn pooled_connections_end_forgotten_transactions() {
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        idle_in_transaction_session_timeout: String,
    }
    let app = with_workers(0, &[]).await;
    let mut conn = app.state.db.get().await.unwrap();
    let s: Setting = diesel::sql_query("SHOW idle_in_transaction_session_timeout").get_result(&mut conn).await.unwrap();
    assert_eq!(s.idle_in_transaction_session_timeout, "1min");
}

async fn put(b: &crate::harness::Browser, v: serde_json::Value) -> u16 {
    b.api(reqwest::Method::PUT, "/api/billing/cap", Some(json!({ "monthly_credit_cap": v }))).await.status().as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_monthly_cap_refuses_work_that_would_pass_it() {
    let app = with_workers(2, &[]).await;
    let t = app.team("cap").await;
    assert_eq!(put(&t.admin, json!(5)).await, 403, "owners only");
    assert_eq!(put(&t.viewer, json!(5)).await, 403);
    assert_eq!(put(&t.owner, json!(-1)).await, 422);
    assert_eq!(put(&t.owner, json!("lots")).await, 400);
    let r = t.owner.post_form("/billing/cap", &[("monthly_credit_cap", "abc")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("whole number"));
    assert_eq!(t.owner.post_form("/billing/cap", &[("monthly_credit_cap", "5")]).await.status(), 303);

    let first = enqueue(&app, probe(t.tenant_id, json!({}), 3)).await;
    wait_status(&app, first, "succeeded", Duration::from_secs(10)).await;
    let jobs_before = app.count("jobs").await;
    let err = queue::enqueue(&app.state.db, probe(t.tenant_id, json!({}), 3)).await.unwrap_err();
    assert!(
        matches!(err, igny8::error::AppError::PaymentRequired(ref m) if m.contains("monthly cap of 5 (3 spent this month)")),
        "{err:?}"
    );
    assert_eq!(app.count("jobs").await, jobs_before, "nothing queued");
    // Refunded work does not count against the cap.
    let failed = enqueue(&app, probe(t.tenant_id, json!({ "fatal": true }), 2)).await;
    wait_status(&app, failed, "failed", Duration::from_secs(10)).await;
    queue::enqueue(&app.state.db, probe(t.tenant_id, json!({}), 2)).await.expect("3 spent + 2 = 5 is within the cap");
    assert!(t.owner.get("/billing").await.text().await.unwrap().contains("of a cap of <strong>5</strong>"));
    // Clearing the cap lifts the limit.
    assert_eq!(put(&t.owner, serde_json::Value::Null).await, 200);
    queue::enqueue(&app.state.db, probe(t.tenant_id, json!({}), 3)).await.expect("no cap");
}

/// A job running longer than its lease keeps it by renewal: a second instance never takes it over.
#[tokio::test(flavor = "multi_thread")]
async fn a_running_job_renews_its_lease_so_nobody_takes_it_over() {
    let lease = [("IGNY8_JOB_LEASE_SECS", "1")];
    let a = with_workers(1, &lease).await;
    let (owner, tid) = a.signup("Rex", "rex@example.com", "Rex Co").await;
    let id = enqueue(&a, probe(tid, json!({ "sleep_ms": 3000 }), 1)).await;
    wait_status(&a, id, "running", Duration::from_secs(10)).await;
    let _b = a.replica(HashMap::from([("IGNY8_WORKERS", "2".to_string()), ("IGNY8_JOB_LEASE_SECS", "1".to_string())])).await;
    let (_, attempts, _) = wait_status(&a, id, "succeeded", Duration::from_secs(15)).await;
    assert_eq!(attempts, 1, "three lease lengths long, yet never reaped or re-run");
    assert_eq!(probe_runs(&a, id).await, 1);
    assert_eq!(ledger_of(&a, id).await, vec![("reserve".to_string(), -1), ("settle".to_string(), 0)]);
    // The System page's live counters (polled by HTMX) show it.
    let counts = owner.get("/system/jobs/counts").await.text().await.unwrap();
    assert!(counts.contains("succeeded: 1") && !counts.contains("<html"), "{counts}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wake_up_reaches_an_idle_worker_long_before_its_next_poll() {
    // Polling every 20 s and reaping every 5 s: only the Redis wake-up can start the job within the 2 s
    // below. (A blocking BRPOP on a pooled connection used to time out client-side after 500 ms, leaving
    // the worker to find the job at its next reap.)
    let app = with_workers(1, &[("IGNY8_JOB_POLL_MS", "20000")]).await;
    let (_, tid) = app.signup("Wes", "wes@example.com", "Wes Co").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let id = enqueue(&app, probe(tid, json!({}), 0)).await;
    wait_status(&app, id, "succeeded", Duration::from_secs(2)).await;
}
