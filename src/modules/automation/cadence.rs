//! System settings of the scheduler (system administrators): each scheduled step's cadence as a 5-field cron
//! line in UTC, and how many days each kind of row is kept. Audit events are kept at least a year (seed §10.12).

use std::collections::BTreeMap;
use std::str::FromStr;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::step::Scheduled;
use crate::db::schema::system_settings;
use crate::error::{AppError, AppResult};
use crate::validate::Check;

pub const RETENTION: [(&str, &str, i64); 5] = [
    ("retention.ai_calls_days", "AI-call log", 1),
    ("retention.jobs_days", "Finished jobs", 1),
    ("retention.cron_runs_days", "Automation runs", 1),
    ("retention.audit_days", "Audit events", 365),
    ("retention.imports_days", "Abandoned keyword imports", 1),
];

pub async fn all(conn: &mut AsyncPgConnection) -> AppResult<BTreeMap<String, String>> {
    let rows: Vec<(String, String)> = system_settings::table.select((system_settings::key, system_settings::value)).load(conn).await?;
    Ok(rows.into_iter().collect())
}

pub fn parse_cron(line: &str) -> Result<croner::Cron, String> {
    let fields = line.split_whitespace().count();
    if fields != 5 {
        return Err(format!("“{line}” is not a 5-field cron line (minute hour day month weekday)"));
    }
    croner::Cron::from_str(line).map_err(|e| format!("“{line}”: {e}"))
}

pub fn days(settings: &BTreeMap<String, String>, key: &str) -> i64 {
    let floor = RETENTION.iter().find(|(k, _, _)| *k == key).map(|r| r.2).unwrap_or(1);
    settings.get(key).and_then(|v| v.parse::<i64>().ok()).unwrap_or(floor).max(floor)
}

/// Checks and stores the posted values (only known keys; all or nothing).
pub async fn save(conn: &mut AsyncPgConnection, input: &BTreeMap<String, String>) -> AppResult<()> {
    let mut c = Check::new();
    let mut rows = Vec::new();
    for step in Scheduled::ALL {
        let key = step.cron_key();
        if let Some(v) = input.get(&key) {
            match parse_cron(v.trim()) {
                Ok(_) => rows.push((key, v.trim().to_string())),
                Err(m) => c.fail(&key, m),
            }
        }
    }
    for (key, label, floor) in RETENTION {
        if let Some(v) = input.get(key) {
            match v.trim().parse::<i64>() {
                Ok(n) if (floor..=3650).contains(&n) => rows.push((key.to_string(), n.to_string())),
                _ => c.fail(key, format!("{label}: whole days from {floor} to 3650")),
            }
        }
    }
    c.finish()?;
    if rows.is_empty() {
        return Err(AppError::BadRequest("Nothing to change".into()));
    }
    for (k, v) in rows {
        diesel::insert_into(system_settings::table)
            .values((system_settings::key.eq(&k), system_settings::value.eq(&v)))
            .on_conflict(system_settings::key)
            .do_update()
            .set((system_settings::value.eq(&v), system_settings::updated_at.eq(diesel::dsl::now)))
            .execute(conn)
            .await?;
    }
    Ok(())
}
