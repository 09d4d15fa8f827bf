//! GET /metrics (Prometheus text), for the operator's scraper only: without `IGNY8_METRICS_TOKEN` it is not
//! served (404); with it, `Authorization: Bearer <token>` is required (401 otherwise).
//!
//! HTTP figures are this process's own counters. Jobs, AI calls and cron slots are read from the database at
//! scrape time with small aggregate queries on indexes, so every replica reports the same shared figures:
//! dashboards take `max` of those, and `sum` of the per-process ones.

use std::sync::atomic::Ordering;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::sql_types::{BigInt, Double, Nullable, Text as SqlText};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::crypto::secrets::constant_time_eq;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::metrics::Text;

/// The window of the "last hour" gauges (finished jobs, AI usage).
const WINDOW: &str = "1 hour";

pub async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let Some(expected) = state.config.metrics_token.as_deref() else {
        return Err(AppError::NotFound);
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    if !constant_time_eq(given, expected) {
        return Ok(HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\""))
            .content_type("text/plain; charset=utf-8")
            .body("metrics need Authorization: Bearer <IGNY8_METRICS_TOKEN>\n"));
    }

    let mut out = Text::default();
    process(&state, &mut out);
    state.metrics.render_http(&mut out);
    let shared = async {
        let mut conn = state.db.get().await.map_err(|e| e.to_string())?;
        let mut t = Text::default();
        shared_figures(&mut conn, &mut t).await.map_err(|e| e.to_string())?;
        Ok::<_, String>(t)
    };
    let ok = match tokio::time::timeout(std::time::Duration::from_secs(5), shared).await {
        Ok(Ok(t)) => {
            out.0.push_str(&t.0);
            true
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "metrics: database figures unavailable");
            false
        }
        Err(_) => {
            tracing::warn!("metrics: database figures timed out");
            false
        }
    };
    out.family("igny8_metrics_database_ok", "gauge", "1 when this scrape could read the job, AI and cron figures from Postgres.");
    out.sample("igny8_metrics_database_ok", &[], if ok { 1.0 } else { 0.0 });
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(out.0))
}

/// Uptime, in-flight requests and both connection pools of this process.
fn process(state: &AppState, out: &mut Text) {
    out.family("igny8_uptime_seconds", "gauge", "Seconds since this process started.");
    out.sample("igny8_uptime_seconds", &[], state.started.elapsed().as_secs_f64().floor());
    out.family("igny8_http_requests_in_flight", "gauge", "Requests being served by this process.");
    out.sample(
        "igny8_http_requests_in_flight",
        &[],
        std::sync::atomic::AtomicU64::load(&state.metrics.in_flight, Ordering::Relaxed) as f64,
    );
    let db = state.db.status();
    let redis = state.redis.status();
    out.family("igny8_pool_connections", "gauge", "Connections of this process's pools: open, idle and the limit.");
    for (pool, size, available, max) in
        [("postgres", db.size, db.available, db.max_size), ("redis", redis.size, redis.available, redis.max_size)]
    {
        out.sample("igny8_pool_connections", &[("pool", pool), ("state", "open")], size as f64);
        out.sample("igny8_pool_connections", &[("pool", pool), ("state", "idle")], available as f64);
        out.sample("igny8_pool_connections", &[("pool", pool), ("state", "max")], max as f64);
    }
    out.family("igny8_pool_waiting", "gauge", "Requests waiting for a pooled connection.");
    out.sample("igny8_pool_waiting", &[("pool", "postgres")], db.waiting as f64);
    out.sample("igny8_pool_waiting", &[("pool", "redis")], redis.waiting as f64);
}

#[derive(QueryableByName)]
struct JobNow {
    #[diesel(sql_type = SqlText)]
    kind: String,
    #[diesel(sql_type = SqlText)]
    status: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    ready: i64,
    #[diesel(sql_type = Double)]
    oldest_ready_secs: f64,
}

#[derive(QueryableByName)]
struct JobDone {
    #[diesel(sql_type = SqlText)]
    kind: String,
    #[diesel(sql_type = SqlText)]
    status: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct AiUse {
    #[diesel(sql_type = SqlText)]
    purpose: String,
    #[diesel(sql_type = SqlText)]
    model: String,
    #[diesel(sql_type = SqlText)]
    status: String,
    #[diesel(sql_type = BigInt)]
    calls: i64,
    #[diesel(sql_type = BigInt)]
    tokens_in: i64,
    #[diesel(sql_type = BigInt)]
    tokens_out: i64,
    #[diesel(sql_type = BigInt)]
    cost_micros: i64,
}

#[derive(QueryableByName)]
struct AiCredits {
    #[diesel(sql_type = SqlText)]
    purpose: String,
    #[diesel(sql_type = SqlText)]
    model: String,
    #[diesel(sql_type = BigInt)]
    credits: i64,
}

#[derive(QueryableByName)]
struct CronSlot {
    #[diesel(sql_type = SqlText)]
    step: String,
    #[diesel(sql_type = Double)]
    lag_secs: f64,
    #[diesel(sql_type = Double)]
    age_secs: f64,
    #[diesel(sql_type = Nullable<Double>)]
    duration_secs: Option<f64>,
}

/// Jobs waiting and running (partial indexes on queued and running), jobs finished in the last hour (index on
/// finished_at), AI calls of the last hour (index on created_at), and the latest slot of each cron step.
async fn shared_figures(conn: &mut AsyncPgConnection, out: &mut Text) -> Result<(), diesel::result::Error> {
    let now: Vec<JobNow> = sql_query(
        "SELECT kind, status, count(*)::bigint AS n,
                count(*) FILTER (WHERE status = 'queued' AND run_at <= now())::bigint AS ready,
                COALESCE(EXTRACT(EPOCH FROM now() - min(run_at) FILTER (WHERE status = 'queued' AND run_at <= now())), 0)::float8
                    AS oldest_ready_secs
         FROM jobs WHERE status IN ('queued', 'running') GROUP BY kind, status ORDER BY kind, status",
    )
    .load(conn)
    .await?;
    let done: Vec<JobDone> = sql_query(format!(
        "SELECT kind, status, count(*)::bigint AS n FROM jobs
         WHERE finished_at > now() - interval '{WINDOW}' AND status IN ('succeeded', 'failed', 'dead', 'cancelled')
         GROUP BY kind, status ORDER BY kind, status"
    ))
    .load(conn)
    .await?;
    // Every kind seen now or in the last hour gets a sample (0 when idle), so graphs show zeros, not gaps.
    let kinds: std::collections::BTreeSet<&str> = now.iter().map(|j| j.kind.as_str()).chain(done.iter().map(|j| j.kind.as_str())).collect();
    let current = |kind: &str, status: &str| now.iter().find(|j| j.kind == kind && j.status == status);
    out.family("igny8_jobs", "gauge", "Jobs queued (including those waiting for a retry) and running, by kind.");
    for kind in &kinds {
        for status in ["queued", "running"] {
            out.sample("igny8_jobs", &[("kind", kind), ("status", status)], current(kind, status).map_or(0, |j| j.n) as f64);
        }
    }
    out.family("igny8_jobs_finished_last_hour", "gauge", "Jobs that ended in the last hour, by kind and final status.");
    for j in &done {
        out.sample("igny8_jobs_finished_last_hour", &[("kind", &j.kind), ("status", &j.status)], j.n as f64);
    }
    out.family("igny8_jobs_ready", "gauge", "Queue depth: jobs that could run now, by kind.");
    for kind in &kinds {
        out.sample("igny8_jobs_ready", &[("kind", kind)], current(kind, "queued").map_or(0, |j| j.ready) as f64);
    }
    out.family("igny8_jobs_oldest_ready_age_seconds", "gauge", "How long the oldest job that could run now has waited, by kind.");
    for kind in &kinds {
        let age = current(kind, "queued").map_or(0.0, |j| j.oldest_ready_secs.max(0.0).round());
        out.sample("igny8_jobs_oldest_ready_age_seconds", &[("kind", kind)], age);
    }

    let ai: Vec<AiUse> = sql_query(format!(
        "SELECT operation AS purpose, model, status, count(*)::bigint AS calls,
                COALESCE(sum(tokens_in), 0)::bigint AS tokens_in, COALESCE(sum(tokens_out), 0)::bigint AS tokens_out,
                COALESCE(sum(cost_micros), 0)::bigint AS cost_micros
         FROM ai_calls WHERE created_at > now() - interval '{WINDOW}'
         GROUP BY operation, model, status ORDER BY 1, 2, 3"
    ))
    .load(conn)
    .await?;
    // A job's credits are its ledger rows (reserve, then settle or refund), put on the model of its last call.
    let credits: Vec<AiCredits> = sql_query(format!(
        "WITH calls AS (
             SELECT DISTINCT ON (tenant_id, job_id) tenant_id, job_id, operation, model FROM ai_calls
             WHERE created_at > now() - interval '{WINDOW}' AND job_id IS NOT NULL
             ORDER BY tenant_id, job_id, id DESC)
         SELECT c.operation AS purpose, c.model, COALESCE(-sum(l.delta), 0)::bigint AS credits
         FROM calls c JOIN credit_ledger l ON l.tenant_id = c.tenant_id AND l.reason IN ($1, $2, $3)
              AND l.reference = 'job:' || c.job_id
         GROUP BY c.operation, c.model ORDER BY 1, 2"
    ))
    .bind::<SqlText, _>(crate::jobs::queue::RESERVE)
    .bind::<SqlText, _>(crate::jobs::queue::SETTLE)
    .bind::<SqlText, _>(crate::jobs::queue::REFUND)
    .load(conn)
    .await?;
    out.family("igny8_ai_calls_last_hour", "gauge", "AI provider calls in the last hour, by purpose, model and outcome.");
    for a in &ai {
        out.sample("igny8_ai_calls_last_hour", &[("purpose", &a.purpose), ("model", &a.model), ("status", &a.status)], a.calls as f64);
    }
    out.family("igny8_ai_tokens_last_hour", "gauge", "AI tokens in the last hour, by purpose, model and direction.");
    for (purpose, model, tin, tout) in sum_by_purpose_model(&ai, |a| (a.tokens_in, a.tokens_out)) {
        out.sample("igny8_ai_tokens_last_hour", &[("purpose", &purpose), ("model", &model), ("direction", "in")], tin as f64);
        out.sample("igny8_ai_tokens_last_hour", &[("purpose", &purpose), ("model", &model), ("direction", "out")], tout as f64);
    }
    out.family("igny8_ai_cost_usd_last_hour", "gauge", "Provider cost in the last hour (model_rates prices), by purpose and model.");
    for (purpose, model, micros, _) in sum_by_purpose_model(&ai, |a| (a.cost_micros, 0)) {
        out.sample("igny8_ai_cost_usd_last_hour", &[("purpose", &purpose), ("model", &model)], micros as f64 / 1e6);
    }
    out.family(
        "igny8_ai_credits_last_hour",
        "gauge",
        "Credits charged for the jobs behind the last hour's AI calls, by purpose and model.",
    );
    for c in &credits {
        out.sample("igny8_ai_credits_last_hour", &[("purpose", &c.purpose), ("model", &c.model)], c.credits as f64);
    }

    let slots: Vec<CronSlot> = sql_query(
        "SELECT DISTINCT ON (step) step,
                EXTRACT(EPOCH FROM claimed_at - slot)::float8 AS lag_secs,
                EXTRACT(EPOCH FROM now() - slot)::float8 AS age_secs,
                EXTRACT(EPOCH FROM finished_at - claimed_at)::float8 AS duration_secs
         FROM cron_slots ORDER BY step, slot DESC",
    )
    .load(conn)
    .await?;
    out.family("igny8_cron_slot_lag_seconds", "gauge", "How late the latest slot of each scheduled step was claimed.");
    for s in &slots {
        out.sample("igny8_cron_slot_lag_seconds", &[("step", &s.step)], s.lag_secs.max(0.0));
    }
    out.family(
        "igny8_cron_last_slot_age_seconds",
        "gauge",
        "Seconds since the latest claimed slot of each step (grows when no replica beats).",
    );
    for s in &slots {
        out.sample("igny8_cron_last_slot_age_seconds", &[("step", &s.step)], s.age_secs.max(0.0).round());
    }
    out.family("igny8_cron_last_slot_duration_seconds", "gauge", "How long the latest finished slot of each step ran.");
    for s in &slots {
        if let Some(d) = s.duration_secs {
            out.sample("igny8_cron_last_slot_duration_seconds", &[("step", &s.step)], d.max(0.0));
        }
    }
    Ok(())
}

/// Sums over outcomes, keeping purpose and model (rows arrive sorted by them).
fn sum_by_purpose_model(rows: &[AiUse], f: impl Fn(&AiUse) -> (i64, i64)) -> Vec<(String, String, i64, i64)> {
    let mut out: Vec<(String, String, i64, i64)> = Vec::new();
    for r in rows {
        let (a, b) = f(r);
        match out.last_mut() {
            Some(last) if last.0 == r.purpose && last.1 == r.model => {
                last.2 += a;
                last.3 += b;
            }
            _ => out.push((r.purpose.clone(), r.model.clone(), a, b)),
        }
    }
    out
}
