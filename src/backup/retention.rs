//! Backup file names and retention. A backup is `igny8-<database>-<UTC time>.dump`; its age is read from the
//! name (not the file's mtime, which copying changes). Retention removes backups older than the limit — never
//! the newest backup of a database, and never a file that is not a finished backup (partial dumps, other files).

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};

const PREFIX: &str = "igny8-";
const SUFFIX: &str = ".dump";
const TIME_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// The file name of a backup of `database` taken at `at`.
pub fn file_name(database: &str, at: DateTime<Utc>) -> String {
    let db: String = database.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    format!("{PREFIX}{db}-{}{SUFFIX}", at.format(TIME_FORMAT))
}

/// (database, time) of a backup file name; `None` for anything else.
pub fn parse_name(name: &str) -> Option<(String, DateTime<Utc>)> {
    let rest = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let (db, time) = rest.rsplit_once('-')?;
    if db.is_empty() {
        return None;
    }
    let at = NaiveDateTime::parse_from_str(time, TIME_FORMAT).ok()?.and_utc();
    Some((db.to_string(), at))
}

/// The finished backups in `dir`: (path, database, time), oldest first.
pub fn list(dir: &Path) -> std::io::Result<Vec<(PathBuf, String, DateTime<Utc>)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        if let Some((db, at)) = entry.file_name().to_str().and_then(parse_name) {
            out.push((entry.path(), db, at));
        }
    }
    out.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
    Ok(out)
}

/// Which of these backups are past the limit at `now`: older than `keep_days`, and not their database's newest.
pub fn expired(backups: &[(PathBuf, String, DateTime<Utc>)], keep_days: u32, now: DateTime<Utc>) -> Vec<PathBuf> {
    let limit = now - chrono::Duration::days(keep_days as i64);
    backups
        .iter()
        .filter(|(_, db, at)| {
            let newest = backups.iter().filter(|(_, d, _)| d == db).map(|(_, _, t)| *t).max();
            *at < limit && Some(*at) != newest
        })
        .map(|(p, _, _)| p.clone())
        .collect()
}

/// Removes the backups in `dir` past the limit; returns what was removed.
pub fn prune(dir: &Path, keep_days: u32, now: DateTime<Utc>) -> std::io::Result<Vec<PathBuf>> {
    let gone = expired(&list(dir)?, keep_days, now);
    for p in &gone {
        std::fs::remove_file(p)?;
    }
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn names_round_trip_and_other_files_are_not_backups() {
        let name = file_name("igny8-prod", at("2026-11-27T06:00:00Z"));
        assert_eq!(name, "igny8-igny8_prod-20261127T060000Z.dump");
        assert_eq!(parse_name(&name), Some(("igny8_prod".into(), at("2026-11-27T06:00:00Z"))));
        for other in ["igny8-x-20261127T060000Z.dump.partial", "notes.txt", "igny8--20261127T060000Z.dump", "igny8-x-2026.dump"] {
            assert_eq!(parse_name(other), None, "{other}");
        }
    }

    #[test]
    fn only_backups_past_the_limit_expire_and_the_newest_never_does() {
        let now = at("2026-11-27T12:00:00Z");
        let b = |db: &str, t: &str| (PathBuf::from(file_name(db, at(t))), db.to_string(), at(t));
        let list = vec![
            b("a", "2026-11-19T12:00:00Z"), // 8 days: expired
            b("a", "2026-11-20T11:59:59Z"), // just past 7 days: expired
            b("a", "2026-11-20T12:00:00Z"), // exactly 7 days: kept
            b("a", "2026-11-27T06:00:00Z"),
            b("old", "2026-01-01T00:00:00Z"), // another database's only backup: kept though old
        ];
        let gone = expired(&list, 7, now);
        assert_eq!(gone, vec![list[0].0.clone(), list[1].0.clone()]);
    }
}
