//! Job throughput benchmark (run by hand: `scripts/bench-jobs`, or `cargo bench --bench jobs`).
//! 20,000 `ai.prompt` jobs over 50 tenants, 1 credit each (reserve + settle in the ledger), against a
//! fake OpenAI-compatible provider on loopback answering at once. Producers enqueue while one worker
//! pool runs them. Prints jobs/s and the queue-to-start latency percentiles.

#[path = "../tests/it/fake_ai.rs"]
mod fake_ai;
// fake_ai names the test harness's browser type.
#[path = "../tests/it/harness.rs"]
#[allow(dead_code)]
mod harness;

#[path = "support/app.rs"]
mod bench_app;

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use igny8::db::schema::{ai_settings, jobs};
use igny8::jobs::queue::{NewJob, enqueue_in_tx};
use igny8::jobs::worker;
use igny8::state::AppState;

const TENANTS: usize = 50;
const JOBS: usize = 20_000;

fn env(k: &str, default: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| default.to_string())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let concurrency = env("IGNY8_BENCH_CONCURRENCY", "64");
    let state = bench_app::fresh(
        "igny8_bench_jobs",
        &[
            ("IGNY8_WORKERS", concurrency.clone()),
            ("IGNY8_DB_POOL_SIZE", env("IGNY8_BENCH_POOL", "48")),
            ("IGNY8_JOB_POLL_MS", "20".into()),
        ],
    )
    .await?;
    let config = state.config.clone();
    let fake = fake_ai::FakeAi::start();

    // 50 tenants on the Agency plan with credits for their share, each pointed at the fake provider.
    let key = state.vault.seal("sk-bench-key-0000");
    let mut tenants = vec![];
    let mut conn = state.db.get().await?;
    for i in 0..TENANTS {
        let uid = igny8::auth::service::insert_user(&mut conn, &format!("bench{i}@example.com"), "Bench", "x", true)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let tid = conn
            .transaction::<_, igny8::error::AppError, _>(async move |c| {
                let tid = igny8::tenancy::service::create_workspace(c, &format!("Bench {i}"), "agency", uid, "bench", None).await?;
                igny8::billing::ledger::post_in_tx(c, tid, 1000, "topup", "bench").await?;
                Ok(tid)
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        diesel::insert_into(ai_settings::table)
            .values((
                ai_settings::tenant_id.eq(tid),
                ai_settings::text_provider.eq("openai"),
                ai_settings::text_base_url.eq(&fake.base),
                ai_settings::text_api_key_enc.eq(&key),
                ai_settings::text_model.eq("gpt-4o-mini"),
            ))
            .execute(&mut conn)
            .await?;
        tenants.push(tid);
    }
    drop(conn);

    // Phase 1: enqueue the whole backlog (producers in parallel, 20 jobs per transaction).
    let started = Instant::now();
    let mut producers = vec![];
    for chunk in tenants.chunks(10) {
        let (state, chunk) = (state.clone(), chunk.to_vec());
        producers.push(tokio::spawn(async move { produce(&state, &chunk, JOBS / (TENANTS / 10)).await }));
    }
    for p in producers {
        p.await?;
    }
    let enqueued_in = started.elapsed();

    // Phase 2: one worker pool drains it.
    let workers = worker::start(state.clone(), worker::WorkerConfig::from_config(&config)).await?;
    let drain_started = Instant::now();
    let mut conn = state.db.get().await?;
    wait_until_done(&mut conn).await?;
    let drained_in = drain_started.elapsed();

    // Phase 3: queue-to-start latency under a steady load the pool keeps up with (about half its rate).
    let rate = (JOBS as f64 / drained_in.as_secs_f64() / 2.0).max(10.0);
    diesel::sql_query("DELETE FROM jobs").execute(&mut conn).await?;
    let steady = 2_000;
    let tick = Duration::from_secs_f64(20.0 / rate);
    for i in 0..steady / 20 {
        let chunk = vec![tenants[i % TENANTS]];
        produce(&state, &chunk, 20).await;
        tokio::time::sleep(tick).await;
    }
    wait_until_done(&mut conn).await?;
    workers.shutdown(&state, Duration::from_secs(5)).await;

    let succeeded: i64 = jobs::table.filter(jobs::status.eq("succeeded")).count().get_result(&mut conn).await?;
    let mut waits: Vec<f64> = diesel::sql_query(
        "SELECT (extract(epoch FROM (started_at - created_at)) * 1000.0)::float8 AS ms FROM jobs WHERE started_at IS NOT NULL",
    )
    .load::<Ms>(&mut conn)
    .await?
    .into_iter()
    .map(|m| m.ms)
    .collect();
    waits.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| waits[((waits.len() as f64 - 1.0) * p) as usize];
    let mut unbalanced = 0;
    for tid in &tenants {
        let bal: i64 =
            igny8::db::schema::tenants::table.find(tid).select(igny8::db::schema::tenants::credits_balance).first(&mut conn).await?;
        if bal != igny8::billing::ledger::sum(&mut conn, *tid).await? {
            unbalanced += 1;
        }
    }
    println!("jobs: {JOBS} over {TENANTS} tenants, 1 credit each, concurrency {concurrency}, fake provider at zero latency");
    println!(
        "enqueue: {JOBS} in {:.2}s = {:.0} jobs/s (reservation in the same transaction)",
        enqueued_in.as_secs_f64(),
        JOBS as f64 / enqueued_in.as_secs_f64()
    );
    println!(
        "drain: {JOBS} in {:.2}s = {:.0} jobs/s (claim, AI call, ai_calls row, settle, complete)",
        drained_in.as_secs_f64(),
        JOBS as f64 / drained_in.as_secs_f64()
    );
    println!(
        "steady load of {steady} jobs at {rate:.0} jobs/s: queue-to-start p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; succeeded {succeeded}",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    println!("provider requests: {}; tenants whose balance != Σ ledger: {unbalanced}", fake.seen().len());
    Ok(())
}

async fn produce(state: &AppState, tenants: &[i64], count: usize) {
    let mut conn = state.db.get().await.unwrap();
    for batch in 0..count / 20 {
        let tenants = tenants.to_vec();
        conn.transaction::<_, igny8::error::AppError, _>(async move |c| {
            for j in 0..20 {
                let tid = tenants[(batch * 20 + j) % tenants.len()];
                let job = NewJob {
                    credits: 1,
                    ..NewJob::new(tid, igny8::ai::jobs::PROMPT, serde_json::json!({ "prompt": "Say OK", "json": true }))
                };
                enqueue_in_tx(c, &job).await?;
            }
            Ok(())
        })
        .await
        .unwrap();
        igny8::jobs::worker::wake(state).await;
    }
}

async fn wait_until_done(conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    loop {
        let open: i64 = jobs::table.filter(jobs::status.eq_any(["queued", "running"])).count().get_result(conn).await?;
        if open == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[derive(QueryableByName)]
struct Ms {
    #[diesel(sql_type = diesel::sql_types::Double)]
    ms: f64,
}
