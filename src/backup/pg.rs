//! Runs Debian's `pg_dump` / `pg_restore` (postgresql-client of the server's major version) against a
//! `postgres://` URL. The password goes to the child through `PGPASSWORD`, never on its command line
//! (which other users of the machine can read).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};

/// A connection for the client tools: the URL without its password, and the password.
pub struct Conn {
    pub url: String,
    pub password: Option<String>,
    pub database: String,
}

impl Conn {
    pub fn parse(database_url: &str) -> anyhow::Result<Conn> {
        let mut u = url::Url::parse(database_url).context("the database URL cannot be read")?;
        let password = u.password().map(percent_decode);
        let _ = u.set_password(None);
        let database = u.path().trim_start_matches('/').to_string();
        if database.is_empty() {
            bail!("the database URL names no database");
        }
        Ok(Conn { url: u.to_string(), password, database })
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The tool's path: in `bin_dir` when configured, else found on PATH.
pub fn tool(bin_dir: Option<&str>, name: &str) -> PathBuf {
    match bin_dir {
        Some(d) => Path::new(d).join(name),
        None => PathBuf::from(name),
    }
}

async fn run(program: PathBuf, args: Vec<std::ffi::OsString>, conn: &Conn) -> anyhow::Result<()> {
    let mut cmd = tokio::process::Command::new(&program);
    cmd.args(&args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).kill_on_drop(true);
    match &conn.password {
        Some(p) => cmd.env("PGPASSWORD", p),
        None => cmd.env_remove("PGPASSWORD"),
    };
    let out = cmd.output().await.map_err(|e| {
        anyhow::anyhow!(
            "cannot run {} ({e}); install Debian's postgresql-client of the server's version, or set IGNY8_PG_BIN_DIR",
            program.display()
        )
    })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!("{} failed ({}): {}", program.display(), out.status, err.trim());
    }
    Ok(())
}

/// `pg_dump --format=custom` of the whole database into `file`.
pub async fn dump(bin_dir: Option<&str>, conn: &Conn, file: &Path) -> anyhow::Result<()> {
    let args = vec![
        "--format=custom".into(),
        "--compress=6".into(),
        format!("--file={}", file.display()).into(),
        format!("--dbname={}", conn.url).into(),
    ];
    run(tool(bin_dir, "pg_dump"), args, conn).await
}

/// `pg_restore` of `file` into the (empty) database, in one transaction: all of it or nothing.
pub async fn restore(bin_dir: Option<&str>, conn: &Conn, file: &Path) -> anyhow::Result<()> {
    let args = vec![
        "--no-owner".into(),
        "--no-privileges".into(),
        "--exit-on-error".into(),
        "--single-transaction".into(),
        format!("--dbname={}", conn.url).into(),
        file.as_os_str().to_owned(),
    ];
    run(tool(bin_dir, "pg_restore"), args, conn).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url() {
        let c = Conn::parse("postgres://app:s%40cret@db.internal:5433/igny8?sslmode=require").unwrap();
        assert_eq!(c.url, "postgres://app@db.internal:5433/igny8?sslmode=require");
        assert_eq!(c.password.as_deref(), Some("s@cret"));
        assert_eq!(c.database, "igny8");
        assert!(Conn::parse("postgres://app@db/").is_err());
    }
}
