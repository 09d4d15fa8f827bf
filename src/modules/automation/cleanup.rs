//! Daily cleanup: rows past their retention go — the AI-call log, finished jobs (playground and image-test
//! results live in them), automation runs and slots, audit events (never younger than a year), and keyword
//! imports abandoned before they were imported (their uploaded chunks and rejects with them).

use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::cadence::days;
use crate::error::AppResult;

pub async fn run(conn: &mut AsyncPgConnection) -> AppResult<serde_json::Value> {
    let s = super::cadence::all(conn).await?;
    let statements: [(&str, &str, i64); 6] = [
        ("ai_calls", "DELETE FROM ai_calls WHERE created_at < now() - make_interval(days => $1::int)", days(&s, "retention.ai_calls_days")),
        (
            "jobs",
            "DELETE FROM jobs WHERE status IN ('succeeded', 'failed', 'dead', 'cancelled') AND coalesce(finished_at, updated_at) < now() - make_interval(days => $1::int)",
            days(&s, "retention.jobs_days"),
        ),
        (
            "cron_runs",
            "DELETE FROM cron_runs WHERE created_at < now() - make_interval(days => $1::int)",
            days(&s, "retention.cron_runs_days"),
        ),
        ("cron_slots", "DELETE FROM cron_slots WHERE slot < now() - make_interval(days => $1::int)", days(&s, "retention.cron_runs_days")),
        (
            "audit_events",
            "DELETE FROM audit_events WHERE created_at < now() - make_interval(days => $1::int)",
            days(&s, "retention.audit_days"),
        ),
        (
            "keyword_imports",
            "DELETE FROM keyword_imports WHERE status IN ('uploading', 'analyzing', 'mapping', 'ready') AND updated_at < now() - make_interval(days => $1::int)",
            days(&s, "retention.imports_days"),
        ),
    ];
    let mut removed = serde_json::Map::new();
    for (name, sql, keep_days) in statements {
        let n = diesel::sql_query(sql).bind::<BigInt, _>(keep_days).execute(conn).await?;
        removed.insert(name.to_string(), n.into());
    }
    Ok(serde_json::Value::Object(removed))
}
