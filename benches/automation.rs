//! One automation tick over 1,000 workspaces (run by `scripts/bench-automation`, or `cargo bench --bench
//! automation`): each workspace has automation on and 3 tasks waiting for content; the "content" tick picks
//! them, checks credits and budget, queues the generate jobs through the writer's service and records a run.
//! Prints the tick's own time (pick + enqueue; the jobs are not run) and the jobs it queued.

#[path = "support/app.rs"]
mod bench_app;

use std::time::Instant;

use chrono::Utc;
use diesel_async::RunQueryDsl;

const TENANTS: i64 = 1_000;
const TASKS_EACH: i64 = 3;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let state = bench_app::fresh("igny8_bench_automation", &[("IGNY8_WORKERS", "0".into()), ("IGNY8_DB_POOL_SIZE", "16".into())]).await?;
    let mut conn = state.db.get().await?;
    // 1,000 workspaces with 100 credits each (ledger and cached balance agree), automation on, 3 queued tasks.
    for sql in [
        format!(
            "INSERT INTO tenants (name, plan_code, status, credits_balance) SELECT 'Bench ' || g, 'pro', 'active', 100 FROM generate_series(1, {TENANTS}) g"
        ),
        "INSERT INTO credit_ledger (tenant_id, delta, reason, reference, balance_after) SELECT id, 100, 'topup', 'bench', 100 FROM tenants"
            .into(),
        "INSERT INTO automation_settings (tenant_id, enabled, daily_credit_budget) SELECT id, true, 1000 FROM tenants".into(),
        format!(
            "INSERT INTO tasks (tenant_id, title, status) SELECT t.id, 'Task ' || g, 'queued' FROM tenants t, generate_series(1, {TASKS_EACH}) g"
        ),
        "ANALYZE".into(),
    ] {
        diesel::sql_query(sql).execute(&mut conn).await?;
    }
    drop(conn);
    let started = Instant::now();
    let summary = igny8::modules::automation::run::tick(&state, igny8::modules::automation::Step::Content, Utc::now()).await?;
    let took = started.elapsed();
    println!(
        "automation tick (content) over {} workspaces: {:.0} ms; {} jobs queued, {} runs skipped, {} failed ({} tasks waiting each)",
        summary.tenants,
        took.as_secs_f64() * 1000.0,
        summary.jobs,
        summary.skipped,
        summary.failed,
        TASKS_EACH
    );
    Ok(())
}
