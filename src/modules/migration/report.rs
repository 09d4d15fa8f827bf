//! The validation report of an import (seed §7.7, §7.9): per table the source rows, what was inserted,
//! updated, left unchanged or skipped, and the content hashes of the source rows and the imported rows;
//! the switch-over; every skipped or repaired row with its reason. Printed by the command, kept in
//! `migration_runs` / `migration_issues`, shown on Settings → Migration.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::db::schema::{migration_issues, migration_runs};
use crate::error::AppResult;
use crate::listing::PageParams;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TableReport {
    /// The source table (`wp_igny8_keywords`, `wp_options (igny8_*)`, …).
    pub table: String,
    /// Where its rows go.
    pub target: String,
    pub source_rows: i64,
    /// Rows of the source that are in the workspace after the run (imported now or before).
    pub imported: i64,
    pub inserted: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub skipped: i64,
    pub repaired: i64,
    /// Unchanged in the source, edited in IGNY8 since the last import: kept as edited.
    pub edited: i64,
    pub source_hash: String,
    pub imported_hash: String,
    /// Rows written by this run that do not read back as written (must be none).
    pub mismatched: Vec<String>,
    pub ok: bool,
    /// Time spent on the table: reading, transforming, writing, checking.
    #[serde(default)]
    pub seconds: f64,
}

impl TableReport {
    pub fn hashes_equal(&self) -> bool {
        self.source_hash == self.imported_hash
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SiteReport {
    pub site_id: Option<i64>,
    pub url: String,
    /// "connected", "updated", or why not.
    pub outcome: String,
    pub linked: i64,
    pub already_linked: i64,
    pub media: i64,
    pub default_author: Option<String>,
    pub sync_job: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Issue {
    pub table: String,
    pub source_id: String,
    /// `skipped` or `repaired`.
    pub kind: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub source: String,
    pub source_url: String,
    pub prefix: String,
    pub tenant_id: i64,
    pub tenant_name: String,
    pub dry_run: bool,
    pub tables: Vec<TableReport>,
    /// Plugin tables read but not imported: (table, rows, why).
    pub not_imported: Vec<(String, i64, String)>,
    pub site: Option<SiteReport>,
    #[serde(skip)]
    pub issues: Vec<Issue>,
    pub error: Option<String>,
    pub ok: bool,
    pub started_at: Option<DateTime<Utc>>,
    pub seconds: f64,
}

impl Report {
    pub fn skip(&mut self, table: &str, source_id: impl ToString, reason: impl Into<String>) {
        self.issues.push(Issue { table: table.into(), source_id: source_id.to_string(), kind: "skipped".into(), reason: reason.into() });
    }
    pub fn repaired(&mut self, table: &str, source_id: impl ToString, notes: &[String]) {
        if !notes.is_empty() {
            self.issues.push(Issue {
                table: table.into(),
                source_id: source_id.to_string(),
                kind: "repaired".into(),
                reason: notes.join("; "),
            });
        }
    }

    pub fn rows(&self) -> i64 {
        self.tables.iter().map(|t| t.source_rows).sum()
    }

    /// The report as the command prints it.
    pub fn text(&self, max_issues: usize) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let head = if self.dry_run { "DRY RUN — nothing was written" } else { "import" };
        let _ = writeln!(s, "{head}: {} → workspace {} “{}” (prefix {})", self.source, self.tenant_id, self.tenant_name, self.prefix);
        let _ = writeln!(
            s,
            "{:<34} {:<16} {:>8} {:>8} {:>8} {:>8} {:>9} {:>7} {:>8} {:>7}  {:<16} {:<16} check",
            "source table",
            "→ table",
            "source",
            "imported",
            "inserted",
            "updated",
            "unchanged",
            "skipped",
            "repaired",
            "seconds",
            "source hash",
            "imported hash"
        );
        for t in &self.tables {
            let check = if !t.ok {
                format!("MISMATCH ({} rows)", t.mismatched.len().max(1))
            } else if t.hashes_equal() {
                "ok".into()
            } else {
                format!("ok ({} edited in IGNY8 since, kept)", t.edited)
            };
            let _ = writeln!(
                s,
                "{:<34} {:<16} {:>8} {:>8} {:>8} {:>8} {:>9} {:>7} {:>8} {:>7.2}  {:<16} {:<16} {check}",
                t.table,
                t.target,
                t.source_rows,
                t.imported,
                t.inserted,
                t.updated,
                t.unchanged,
                t.skipped,
                t.repaired,
                t.seconds,
                t.source_hash,
                t.imported_hash
            );
        }
        for (t, n, why) in &self.not_imported {
            let _ = writeln!(s, "not imported: {t} ({n} rows): {why}");
        }
        if let Some(site) = &self.site {
            let _ = writeln!(
                s,
                "site {}: {}; {} posts linked to their tasks ({} already linked), {} images linked to the media library{}{}",
                site.url,
                site.outcome,
                site.linked,
                site.already_linked,
                site.media,
                site.default_author.as_deref().map(|a| format!("; default author {a}")).unwrap_or_default(),
                site.sync_job.map(|j| format!("; status sync queued (job {j})")).unwrap_or_default(),
            );
        }
        let skipped = self.issues.iter().filter(|i| i.kind == "skipped").count();
        let repaired = self.issues.len() - skipped;
        if !self.issues.is_empty() {
            let _ = writeln!(s, "{skipped} rows skipped, {repaired} repaired:");
            for i in self.issues.iter().take(max_issues) {
                let _ = writeln!(s, "  {} {} #{}: {}", i.kind, i.table, i.source_id, i.reason);
            }
            if self.issues.len() > max_issues {
                let _ = writeln!(s, "  … {} more (all of them on Settings → Migration)", self.issues.len() - max_issues);
            }
        }
        match &self.error {
            Some(e) => {
                let _ = writeln!(s, "FAILED: {e}");
                let _ = writeln!(s, "Nothing of this run was kept: the workspace is as it was before.");
            }
            None => {
                let _ = writeln!(
                    s,
                    "{} source rows in {:.1} s ({:.0} rows/s); counts and hashes {}",
                    self.rows(),
                    self.seconds,
                    self.rows() as f64 / self.seconds.max(0.001),
                    if self.ok { "check out" } else { "DO NOT check out" }
                );
            }
        }
        s
    }
}

/// Keeps a run and its issue lines (inside the caller's transaction). Returns the run id.
pub async fn store(conn: &mut AsyncPgConnection, r: &Report, created_by: &str) -> AppResult<i64> {
    let status = if r.error.is_some() { "failed" } else { "done" };
    let id: i64 = diesel::insert_into(migration_runs::table)
        .values((
            migration_runs::tenant_id.eq(r.tenant_id),
            migration_runs::source.eq(&r.source),
            migration_runs::source_url.eq(&r.source_url),
            migration_runs::prefix.eq(&r.prefix),
            migration_runs::status.eq(status),
            migration_runs::error.eq(&r.error),
            migration_runs::report.eq(serde_json::to_value(r).unwrap_or_default()),
            migration_runs::ok.eq(r.ok),
            migration_runs::created_by.eq(created_by),
            migration_runs::started_at.eq(r.started_at.unwrap_or_else(Utc::now)),
        ))
        .returning(migration_runs::id)
        .get_result(conn)
        .await?;
    for (n, chunk) in r.issues.chunks(5_000).enumerate() {
        let first = (n * 5_000) as i32;
        diesel::sql_query(
            "INSERT INTO migration_issues (tenant_id, run_id, seq, source_table, source_id, kind, reason) \
             SELECT $1, $2, $3 + u.o::int, u.t, u.s, u.k, u.r FROM unnest($4::text[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY AS u(t, s, k, r, o)",
        )
        .bind::<BigInt, _>(r.tenant_id)
        .bind::<BigInt, _>(id)
        .bind::<Integer, _>(first)
        .bind::<Array<Text>, _>(chunk.iter().map(|i| i.table.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(chunk.iter().map(|i| i.source_id.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(chunk.iter().map(|i| i.kind.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(chunk.iter().map(|i| i.reason.as_str()).collect::<Vec<_>>())
        .execute(conn)
        .await?;
    }
    Ok(id)
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = migration_runs)]
pub struct Run {
    pub id: i64,
    pub source: String,
    pub source_url: String,
    pub prefix: String,
    pub status: String,
    pub error: Option<String>,
    pub report: serde_json::Value,
    pub ok: bool,
    pub created_by: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

impl Run {
    pub fn parsed(&self) -> Report {
        serde_json::from_value(self.report.clone()).unwrap_or_default()
    }
}

pub async fn runs(conn: &mut AsyncPgConnection, tenant_id: i64, n: i64) -> AppResult<Vec<Run>> {
    Ok(migration_runs::table
        .filter(migration_runs::tenant_id.eq(tenant_id))
        .order((migration_runs::started_at.desc(), migration_runs::id.desc()))
        .limit(n)
        .select(Run::as_select())
        .load(conn)
        .await?)
}

pub async fn run(conn: &mut AsyncPgConnection, tenant_id: i64, id: i64) -> AppResult<Run> {
    Ok(migration_runs::table
        .filter(migration_runs::tenant_id.eq(tenant_id))
        .filter(migration_runs::id.eq(id))
        .select(Run::as_select())
        .first(conn)
        .await?)
}

/// A page of a run's issue lines (optionally one kind) and their total.
pub async fn issues(
    conn: &mut AsyncPgConnection,
    tenant_id: i64,
    run_id: i64,
    kind: Option<&str>,
    page: &PageParams,
) -> AppResult<(Vec<Issue>, i64)> {
    let base = || {
        let mut q = migration_issues::table
            .filter(migration_issues::tenant_id.eq(tenant_id))
            .filter(migration_issues::run_id.eq(run_id))
            .into_boxed();
        if let Some(k) = kind {
            q = q.filter(migration_issues::kind.eq(k.to_string()));
        }
        q
    };
    let total: i64 = base().count().get_result(conn).await?;
    let rows: Vec<(String, String, String, String)> = base()
        .order(migration_issues::seq)
        .offset(page.offset())
        .limit(page.per_page())
        .select((migration_issues::source_table, migration_issues::source_id, migration_issues::kind, migration_issues::reason))
        .load(conn)
        .await?;
    Ok((rows.into_iter().map(|(table, source_id, kind, reason)| Issue { table, source_id, kind, reason }).collect(), total))
}
