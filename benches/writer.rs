//! Writer per-article overhead (run by `scripts/bench-writer`, or `cargo bench --bench writer`): 1,000
//! "generate content" jobs of ~2,000-word articles against the fake provider answering at once, run one at
//! a time, so each job's start→finish time is the article's own overhead: prompt from the library, the HTTP
//! round trip, parse, sanitise, word count, storing the article and its version, audit, ledger settle.

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
use diesel_async::{AsyncConnection, RunQueryDsl};
use igny8::db::schema::{ai_settings, jobs, tasks};
use igny8::jobs::queue::{NewJob, enqueue_in_tx};
use igny8::jobs::worker;

const ARTICLES: usize = 1_000;

#[derive(QueryableByName)]
struct Ms {
    #[diesel(sql_type = diesel::sql_types::Double)]
    ms: f64,
}

fn article() -> String {
    let para = format!(
        "<p>{}</p>",
        "Running shoes need a snug heel, room for the toes and enough cushioning for the distance you run most weeks.".repeat(5)
    );
    let mut html = String::new();
    for h in 1..=8 {
        html.push_str(&format!("<h2>Section {h}</h2>"));
        for _ in 0..3 {
            html.push_str(&para);
        }
        html.push_str("<ul><li>Fit first</li><li>Then cushioning</li></ul>");
    }
    serde_json::json!({ "title": "How to choose running shoes", "meta_title": "How to choose running shoes", "meta_description": "Fit, cushioning and when to replace them.",
        "slug": "how-to-choose-running-shoes", "primary_keyword": "running shoes", "content_html": html })
    .to_string()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let state = bench_app::fresh("igny8_bench_writer", &[("IGNY8_WORKERS", "1".into()), ("IGNY8_JOB_POLL_MS", "20".into())]).await?;
    let config = state.config.clone();
    let fake = fake_ai::FakeAi::start();
    let body = article();
    fake.then((0..ARTICLES).map(|_| fake_ai::Reply::Ok(body.clone())));

    let mut conn = state.db.get().await?;
    let uid = igny8::auth::service::insert_user(&mut conn, "writer-bench@example.com", "Bench", "x", true)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let tid = conn
        .transaction::<_, igny8::error::AppError, _>(async move |c| {
            let tid = igny8::tenancy::service::create_workspace(c, "Writer bench", "agency", uid, "bench", None).await?;
            igny8::billing::ledger::post_in_tx(c, tid, 10_000, "topup", "bench").await?;
            Ok(tid)
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    diesel::insert_into(ai_settings::table)
        .values((
            ai_settings::tenant_id.eq(tid),
            ai_settings::text_provider.eq("openai"),
            ai_settings::text_base_url.eq(&fake.base),
            ai_settings::text_api_key_enc.eq(state.vault.seal("sk-bench-key-0000")),
            ai_settings::text_model.eq("gpt-4o-mini"),
        ))
        .execute(&mut conn)
        .await?;
    let outline: Vec<String> = (1..=8).map(|h| format!("Section {h}")).collect();
    let rows: Vec<_> = (0..ARTICLES)
        .map(|i| {
            (
                tasks::tenant_id.eq(tid),
                tasks::title.eq(format!("Article {i}")),
                tasks::outline.eq(outline.clone()),
                tasks::word_count_goal.eq(2000),
            )
        })
        .collect();
    let ids: Vec<i64> = diesel::insert_into(tasks::table).values(rows).returning(tasks::id).get_results(&mut conn).await?;
    for chunk in ids.chunks(100) {
        let chunk = chunk.to_vec();
        conn.transaction::<_, igny8::error::AppError, _>(async move |c| {
            for id in chunk {
                let job = NewJob {
                    credits: 3,
                    ..NewJob::new(tid, igny8::modules::writer::generate::JOB_KIND, serde_json::json!({ "task_id": id }))
                };
                enqueue_in_tx(c, &job).await?;
            }
            Ok(())
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }

    let wc = worker::WorkerConfig { concurrency: 1, ..worker::WorkerConfig::from_config(&config) };
    let started = Instant::now();
    let workers = worker::start(state.clone(), wc).await?;
    loop {
        let left: i64 = jobs::table.filter(jobs::status.eq_any(["queued", "running"])).count().get_result(&mut conn).await?;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total = started.elapsed();
    workers.shutdown(&state, Duration::from_secs(5)).await;
    let mut ms: Vec<f64> = diesel::sql_query(
        "SELECT (extract(epoch FROM (finished_at - started_at)) * 1000.0)::float8 AS ms FROM jobs WHERE status = 'succeeded'",
    )
    .load::<Ms>(&mut conn)
    .await?
    .into_iter()
    .map(|m| m.ms)
    .collect();
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let failed: i64 = jobs::table.filter(jobs::status.ne("succeeded")).count().get_result(&mut conn).await?;
    let words: Option<i32> =
        tasks::table.filter(tasks::tenant_id.eq(tid)).select(diesel::dsl::max(tasks::word_count)).first(&mut conn).await?;
    let pct = |p: f64| ms.get(((ms.len().max(1) - 1) as f64 * p) as usize).copied().unwrap_or(0.0);
    println!("writer: {} articles of {} words, fake provider at zero latency, one at a time", ms.len(), words.unwrap_or(0));
    println!(
        "per article (job start → finish): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {failed} not succeeded",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    println!("all {ARTICLES} in {:.2}s = {:.0} articles/s", total.as_secs_f64(), ARTICLES as f64 / total.as_secs_f64());
    Ok(())
}
