//! Publishing throughput and IGNY8's own share (run by `scripts/bench-publish`, or `cargo bench --bench
//! publish` with the test WordPress up): 100 articles, each with a featured and an in-article image, published
//! one at a time to the loopback WordPress. Prints the total and the time not spent waiting on WordPress
//! (the client counts every request from send to the last byte read).

#[path = "../tests/it/wp_site.rs"]
#[allow(dead_code)]
mod wp_support;

#[path = "support/app.rs"]
mod bench_app;

use std::time::Duration;

use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use igny8::db::schema::{jobs, publications, sites, tasks};
use igny8::jobs::queue::{NewJob, enqueue_in_tx};
use igny8::jobs::worker;

const ARTICLES: usize = 100;

/// This process's CPU time (user + system) from /proc, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = after.split_whitespace().map(|x| x.parse().unwrap_or(0.0)).collect();
    // Fields 14 and 15 of the stat line (utime, stime) in clock ticks of 1/100 s.
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let wp = wp_support::wp_site();
    let state = bench_app::fresh("igny8_bench_publish", &[("IGNY8_WORKERS", "1".into())]).await?;
    let (config, secret) = (state.config.clone(), bench_app::SECRET);

    let mut conn = state.db.get().await?;
    let uid = igny8::auth::service::insert_user(&mut conn, "publish-bench@example.com", "Bench", "x", true)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let tid = conn
        .transaction::<_, igny8::error::AppError, _>(async move |c| {
            igny8::tenancy::service::create_workspace(c, "Publish bench", "agency", uid, "bench", None).await
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let site: i64 = diesel::insert_into(sites::table)
        .values((
            sites::tenant_id.eq(tid),
            sites::name.eq("Bench site"),
            sites::base_url.eq(&wp.url),
            sites::username.eq(&wp.user),
            sites::app_password_enc.eq(state.vault.seal(&wp.password)),
            sites::api_root.eq("wp-json"),
            sites::default_status.eq("publish"),
        ))
        .returning(sites::id)
        .get_result(&mut conn)
        .await?;
    let run = wp_support::unique("bench");
    let para = format!("<p>{}</p>", "Trail shoes need grip, a secure heel and room for swelling feet on long descents. ".repeat(6));
    let html = (1..=6).map(|h| format!("<h2>Part {h}</h2>{para}{para}")).collect::<String>();
    let mut task_ids = Vec::new();
    for i in 0..ARTICLES {
        let slug = format!("{run}-{i}");
        let task: i64 = diesel::insert_into(tasks::table)
            .values((
                tasks::tenant_id.eq(tid),
                tasks::title.eq(format!("Bench article {slug}")),
                tasks::status.eq("publishing"),
                tasks::slug.eq(&slug),
                tasks::meta_title.eq("Bench"),
                tasks::meta_description.eq("Bench article."),
                tasks::primary_keyword.eq("trail shoes"),
                tasks::content_html.eq(&html),
                tasks::word_count.eq(1200),
            ))
            .returning(tasks::id)
            .get_result(&mut conn)
            .await?;
        for pos in [0, 1] {
            wp_support::add_png(&mut conn, tid, task, pos, "Bench image", (i * 2) as u8 + pos as u8).await;
        }
        igny8::modules::writer::images::place_in_task(secret, &mut conn, tid, task).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        diesel::insert_into(publications::table)
            .values((
                publications::tenant_id.eq(tid),
                publications::task_id.eq(task),
                publications::site_id.eq(site),
                publications::post_status.eq("publish"),
                publications::tags.eq(vec!["bench".to_string()]),
            ))
            .execute(&mut conn)
            .await?;
        task_ids.push(task);
    }
    conn.transaction::<_, igny8::error::AppError, _>(async |c| {
        for id in &task_ids {
            enqueue_in_tx(c, &NewJob::new(tid, igny8::modules::publish::service::PUBLISH_KIND, serde_json::json!({ "task_id": id })))
                .await?;
        }
        Ok(())
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;

    let wc = worker::WorkerConfig { concurrency: 1, ..worker::WorkerConfig::from_config(&config) };
    let (waited_before, calls_before) = (igny8::wordpress::waited(), igny8::wordpress::calls());
    let (started_at, cpu_before) = (chrono::Utc::now(), cpu_seconds());
    let workers = worker::start(state.clone(), wc).await?;
    loop {
        let left: i64 = jobs::table.filter(jobs::status.eq_any(["queued", "running"])).count().get_result(&mut conn).await?;
        if left == 0 {
            break;
        }
        // Checked rarely: this loop shares the two cores with the worker, WordPress and both databases.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // From the workers' start to the last job's finish (not to when this loop noticed).
    let last: Option<chrono::DateTime<chrono::Utc>> = jobs::table.select(diesel::dsl::max(jobs::finished_at)).first(&mut conn).await?;
    let total = (last.unwrap_or(started_at) - started_at).to_std().unwrap_or_default();
    let cpu = cpu_seconds() - cpu_before;
    let (waited, calls) = (igny8::wordpress::waited() - waited_before, igny8::wordpress::calls() - calls_before);
    workers.shutdown(&state, Duration::from_secs(5)).await;
    let ok: i64 = jobs::table.filter(jobs::status.eq("succeeded")).count().get_result(&mut conn).await?;
    let errors: Vec<Option<String>> =
        jobs::table.filter(jobs::status.ne("succeeded")).select(jobs::last_error).limit(3).load(&mut conn).await?;
    let ours = total.saturating_sub(waited);
    println!("publish: {ok}/{ARTICLES} articles with 2 images each to {}, one at a time: {calls} WordPress requests", wp.url);
    println!(
        "total {:.2}s = {:.0} ms/article; waiting on WordPress {:.2}s; IGNY8's own share {:.0} ms = {:.2}% of the total",
        total.as_secs_f64(),
        total.as_secs_f64() * 1000.0 / ARTICLES as f64,
        waited.as_secs_f64(),
        ours.as_secs_f64() * 1000.0,
        100.0 * ours.as_secs_f64() / total.as_secs_f64()
    );
    println!(
        "IGNY8 process CPU time meanwhile: {:.0} ms ({:.2} ms/article); the rest of its share is Postgres round trips and the queue's claim/complete",
        cpu * 1000.0,
        cpu * 1000.0 / ARTICLES as f64
    );
    if !errors.is_empty() {
        println!("not succeeded (first 3): {errors:?}");
    }
    Ok(())
}
