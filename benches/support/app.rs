//! What every benchmark starts with: a fresh database (dropped and created again), migrated, and the app state
//! over it. `vars` add to or override the defaults (later entries win).

use std::sync::Arc;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use igny8::config::Config;
use igny8::state::AppState;

pub const SECRET: &str = "bench-secret-0123456789abcdef-0123456789";

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.into())
}

pub async fn fresh(db: &str, vars: &[(&str, String)]) -> anyhow::Result<Arc<AppState>> {
    let base = env("IGNY8_BENCH_PG", "postgres://postgres@127.0.0.1:5432");
    let mut admin = AsyncPgConnection::establish(&format!("{base}/postgres")).await?;
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {db}")).execute(&mut admin).await?;
    diesel::sql_query(format!("CREATE DATABASE {db}")).execute(&mut admin).await?;
    let mut all: Vec<(&str, String)> = vec![
        ("DATABASE_URL", format!("{base}/{db}")),
        ("REDIS_URL", env("IGNY8_BENCH_REDIS", "redis://127.0.0.1:6379")),
        ("IGNY8_REDIS_NAMESPACE", format!("{db}{}", std::process::id())),
        ("IGNY8_SECRET_KEY", SECRET.into()),
        ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".into()),
        ("IGNY8_AI_RATE_PER_MIN", "100000".into()),
    ];
    all.extend(vars.iter().cloned());
    let config = Config::from_lookup(|k| all.iter().rev().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))?;
    let state = Arc::new(igny8::app::state(config)?);
    igny8::db::migrate(&state.db).await?;
    Ok(state)
}
