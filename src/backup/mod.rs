//! Database backups (seed §10.10: every 6 hours, kept 7 days): a `pg_dump` in custom format written to a
//! folder under a name that carries the time, then retention. `igny8 backup`, `igny8 restore` and the
//! scheduler's backup step all come here.
//!
//! A dump is written to `<name>.partial` and renamed when complete, so a crash or a failed dump never leaves
//! something that looks like a backup, and retention never counts it.

pub mod pg;
pub mod retention;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

#[derive(Debug, serde::Serialize)]
pub struct Made {
    pub file: PathBuf,
    pub bytes: u64,
    /// Older backups removed by retention.
    pub removed: Vec<PathBuf>,
}

/// Backs up the configured database into `dir` (created when missing) and applies retention.
pub async fn backup_to_dir(config: &Config, dir: &Path) -> anyhow::Result<Made> {
    let conn = pg::Conn::parse(&config.database_url)?;
    if !dir.exists() {
        create_private_dir(dir).with_context(|| format!("cannot create the backup folder {}", dir.display()))?;
    }
    let now = chrono::Utc::now();
    let file = dir.join(retention::file_name(&conn.database, now));
    if file.exists() {
        bail!("{} already exists (two backups in the same second)", file.display());
    }
    let partial = file.with_extension("dump.partial");
    // A backup holds every workspace's data: readable by its owner only. pg_dump keeps the mode of a file it
    // overwrites, so the file is made first.
    create_private_file(&partial).with_context(|| format!("cannot write {}", partial.display()))?;
    let dumped = pg::dump(config.pg_bin_dir.as_deref(), &conn, &partial).await;
    if let Err(e) = dumped {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, &file).with_context(|| format!("cannot finish {}", file.display()))?;
    let bytes = std::fs::metadata(&file)?.len();
    let removed = retention::prune(dir, config.backup_keep_days, now).context("retention")?;
    Ok(Made { file, bytes, removed })
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}

/// The scheduler's backup step: a backup into `IGNY8_BACKUP_DIR` with retention; skipped (and said so in the
/// slot's result) when no folder is configured.
pub async fn run_scheduled(state: &AppState) -> AppResult<serde_json::Value> {
    let Some(dir) = state.config.backup_dir.as_deref() else {
        return Ok(serde_json::json!({ "skipped": "IGNY8_BACKUP_DIR is not set" }));
    };
    let made = backup_to_dir(&state.config, Path::new(dir)).await.map_err(|e| AppError::internal(format!("backup failed: {e:#}")))?;
    tracing::info!(file = %made.file.display(), bytes = made.bytes, removed = made.removed.len(), "backup written");
    Ok(serde_json::json!({
        "file": made.file.display().to_string(),
        "bytes": made.bytes,
        "removed": made.removed.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
    }))
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Restores `file` into the database at `target_url`, which must exist and be empty (no tables of its own):
/// a restore never mixes a backup with live data. All or nothing (one transaction).
pub async fn restore(config: &Config, file: &Path, target_url: &str) -> anyhow::Result<i64> {
    if !file.is_file() {
        bail!("{} is not a file", file.display());
    }
    let target = pg::Conn::parse(target_url)?;
    let mut db =
        AsyncPgConnection::establish(target_url).await.with_context(|| format!("cannot connect to database {}", target.database))?;
    let tables_sql = "SELECT count(*)::bigint AS n FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')";
    let before = diesel::sql_query(tables_sql).get_result::<Count>(&mut db).await?.n;
    if before > 0 {
        bail!(
            "database {} already has {before} table(s); restore into a new, empty database (createdb …) and point DATABASE_URL at it",
            target.database
        );
    }
    pg::restore(config.pg_bin_dir.as_deref(), &target, file).await?;
    Ok(diesel::sql_query(tables_sql).get_result::<Count>(&mut db).await?.n)
}
