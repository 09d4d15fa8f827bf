//! `igny8 backup` and `igny8 restore`: thin wrappers around `crate::backup` that print what they did.

use std::path::Path;

use crate::config::Config;

pub async fn backup(config: &Config, dir: Option<String>) -> anyhow::Result<()> {
    let dir = dir
        .or_else(|| config.backup_dir.clone())
        .ok_or_else(|| anyhow::anyhow!("say where to write: --dir FOLDER, or set IGNY8_BACKUP_DIR"))?;
    let made = crate::backup::backup_to_dir(config, Path::new(&dir)).await?;
    println!("backup: {} ({} bytes)", made.file.display(), made.bytes);
    for p in &made.removed {
        println!("removed: {} (older than {} days)", p.display(), config.backup_keep_days);
    }
    Ok(())
}

pub async fn restore(config: &Config, file: &str, database_url: Option<String>) -> anyhow::Result<()> {
    let target = database_url.unwrap_or_else(|| config.database_url.clone());
    let tables = crate::backup::restore(config, Path::new(file), &target).await?;
    println!("restored: {file} ({tables} tables)");
    Ok(())
}
