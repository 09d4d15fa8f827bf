//! Step one of an import: read the whole file once, validate every row, find duplicates within the file
//! and keywords the workspace already has, and record each rejected row with its line and reason.
//! Writes nothing to `keywords`.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::csv_stream::FileError;
use super::mapping::Mapping;
use super::rows::{Fingerprint, KeywordRow, dedupe_key, fingerprint};
use super::scan::{ScanError, ScannedRow, Scanner};
use super::store::ImportStatus;
use crate::db::schema::{keyword_import_rejects, keyword_imports, keywords};
use crate::error::AppResult;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// Rows shown in the preview table.
const PREVIEW_ROWS: usize = 10;

#[derive(Debug, Default, serde::Serialize)]
pub struct Counts {
    pub total: i32,
    pub good: i32,
    pub rejected: i32,
    pub existing: i32,
    /// Good rows imported with something left out (listed with the rejects as warnings).
    pub warned: i32,
}

struct PendingReject {
    line: i64,
    kind: &'static str,
    keyword: String,
    reason: String,
}

/// Runs the analysis. File-level problems (not text, no keyword column, bad encoding…) end it as
/// `failed` with the message; database trouble is returned for the job to retry.
pub async fn run(conn: &mut AsyncPgConnection, tenant_id: i64, import_id: i64) -> Result<Counts, ScanError> {
    diesel::delete(
        keyword_import_rejects::table
            .filter(keyword_import_rejects::tenant_id.eq(tenant_id))
            .filter(keyword_import_rejects::import_id.eq(import_id)),
    )
    .execute(conn)
    .await?;
    let columns = super::store::column_override(conn, tenant_id, import_id).await?;
    let mut scanner = Scanner::new(tenant_id, import_id).with_columns(columns);
    let mut counts = Counts::default();
    // Line of the first row of each key, by fingerprint (a whole file's worth: kept small).
    let mut seen: HashMap<Fingerprint, u32> = HashMap::new();
    let mut preview: Vec<serde_json::Value> = Vec::new();
    while let Some(rows) = scanner.next(conn).await? {
        let mut rejects = Vec::new();
        let mut fresh: Vec<(u64, String, KeywordRow)> = Vec::new();
        for ScannedRow { line, raw_keyword, parsed } in rows {
            counts.total += 1;
            match parsed {
                Err(reason) => rejects.push(PendingReject { line: line as i64, kind: "invalid", keyword: raw_keyword, reason }),
                Ok(row) => {
                    let key = dedupe_key(&row.keyword);
                    match seen.entry(fingerprint(&key)) {
                        std::collections::hash_map::Entry::Occupied(first) => {
                            let reason = format!("duplicate of line {} in this file", first.get());
                            rejects.push(PendingReject { line: line as i64, kind: "duplicate", keyword: row.keyword, reason });
                        }
                        std::collections::hash_map::Entry::Vacant(v) => {
                            v.insert(line.min(u32::MAX as u64) as u32);
                            fresh.push((line, key, row));
                        }
                    }
                }
            }
        }
        let existing = existing_keys(conn, tenant_id, fresh.iter().map(|(_, k, _)| k.clone()).collect()).await?;
        for (line, key, row) in fresh {
            let notes = row.notes.join("; ");
            if existing.contains_key(&key) {
                counts.existing += 1;
                let reason =
                    if notes.is_empty() { "already in this workspace".to_string() } else { format!("already in this workspace; {notes}") };
                rejects.push(PendingReject { line: line as i64, kind: "existing", keyword: row.keyword, reason });
                continue;
            }
            counts.good += 1;
            if preview.len() < PREVIEW_ROWS {
                preview.push(preview_row(line, &row, &notes));
            }
            if !notes.is_empty() {
                counts.warned += 1;
                rejects.push(PendingReject { line: line as i64, kind: "warning", keyword: row.keyword, reason: notes });
            }
        }
        counts.rejected += rejects.iter().filter(|r| !matches!(r.kind, "existing" | "warning")).count() as i32;
        save_rejects(conn, tenant_id, import_id, &rejects).await?;
        progress(conn, tenant_id, import_id, scanner.bytes as i64, counts.total).await?;
    }
    if counts.total == 0 {
        return Err(ScanError::File(FileError::Empty));
    }
    let mapping = scanner.mapping.clone().unwrap_or_else(empty_mapping);
    finish(conn, tenant_id, import_id, &counts, &mapping, scanner.delimiter, preview).await?;
    Ok(counts)
}

/// A row of the preview table: the figures as the keywords list will show them.
fn preview_row(line: u64, row: &KeywordRow, notes: &str) -> serde_json::Value {
    let volume = match (row.volume, row.volume_high) {
        (Some(low), Some(high)) => serde_json::json!(crate::modules::planner::keywords::service::volume_range_label(low, high)),
        (low, _) => serde_json::json!(low),
    };
    serde_json::json!({ "line": line, "keyword": row.keyword, "volume": volume, "difficulty": row.difficulty, "cpc": row.cpc,
        "intent": row.intents.join(", "), "country": row.country, "sector": row.sector, "notes": notes })
}

fn empty_mapping() -> Mapping {
    Mapping { columns: Default::default(), headers: vec![], header_line: 0, source: "CSV" }
}

/// Which of these lower-cased keywords the tenant already has (uses the unique index).
pub async fn existing_keys(conn: &mut AsyncPgConnection, tenant_id: i64, keys: Vec<String>) -> AppResult<HashMap<String, ()>> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(5_000) {
        let rows: Vec<String> = keywords::table
            .filter(keywords::tenant_id.eq(tenant_id))
            .filter(lower(keywords::keyword).eq_any(chunk))
            .select(lower(keywords::keyword))
            .load(conn)
            .await?;
        found.extend(rows.into_iter().map(|k| (k, ())));
    }
    Ok(found)
}

async fn save_rejects(conn: &mut AsyncPgConnection, tenant_id: i64, import_id: i64, rejects: &[PendingReject]) -> AppResult<()> {
    for chunk in rejects.chunks(1_000) {
        let values: Vec<_> = chunk
            .iter()
            .map(|r| {
                (
                    keyword_import_rejects::tenant_id.eq(tenant_id),
                    keyword_import_rejects::import_id.eq(import_id),
                    keyword_import_rejects::line.eq(r.line),
                    keyword_import_rejects::kind.eq(r.kind),
                    keyword_import_rejects::keyword.eq(r.keyword.chars().take(120).collect::<String>()),
                    keyword_import_rejects::reason.eq(r.reason.chars().take(300).collect::<String>()),
                )
            })
            .collect();
        diesel::insert_into(keyword_import_rejects::table).values(values).on_conflict_do_nothing().execute(conn).await?;
    }
    Ok(())
}

pub async fn progress(conn: &mut AsyncPgConnection, tenant_id: i64, import_id: i64, bytes: i64, rows: i32) -> AppResult<()> {
    diesel::update(keyword_imports::table.filter(keyword_imports::tenant_id.eq(tenant_id)).filter(keyword_imports::id.eq(import_id)))
        .set((
            keyword_imports::bytes_done.eq(bytes),
            keyword_imports::processed_rows.eq(rows),
            keyword_imports::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

async fn finish(
    conn: &mut AsyncPgConnection,
    tenant_id: i64,
    import_id: i64,
    c: &Counts,
    m: &Mapping,
    delimiter: u8,
    preview: Vec<serde_json::Value>,
) -> AppResult<()> {
    let delimiter = match delimiter {
        b'\t' => "tab".to_string(),
        b';' => "semicolon".to_string(),
        _ => "comma".to_string(),
    };
    diesel::update(keyword_imports::table.filter(keyword_imports::tenant_id.eq(tenant_id)).filter(keyword_imports::id.eq(import_id)))
        .set((
            keyword_imports::status.eq(ImportStatus::Ready),
            keyword_imports::total_rows.eq(c.total),
            keyword_imports::good_rows.eq(c.good),
            keyword_imports::rejected_rows.eq(c.rejected),
            keyword_imports::existing_rows.eq(c.existing),
            keyword_imports::warned_rows.eq(c.warned),
            keyword_imports::source.eq(m.source),
            keyword_imports::delimiter.eq(delimiter),
            keyword_imports::headers.eq(&m.headers),
            keyword_imports::mapping.eq(super::mapping::to_json(&m.columns)),
            keyword_imports::preview.eq(serde_json::Value::Array(preview)),
            keyword_imports::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// No column looked like keywords: the file is kept and the user is asked to choose the columns.
pub async fn needs_columns(
    conn: &mut AsyncPgConnection,
    tenant_id: i64,
    import_id: i64,
    headers: &[String],
    message: &str,
) -> AppResult<()> {
    diesel::update(keyword_imports::table.filter(keyword_imports::tenant_id.eq(tenant_id)).filter(keyword_imports::id.eq(import_id)))
        .set((
            keyword_imports::status.eq(ImportStatus::Mapping),
            keyword_imports::headers.eq(headers),
            // What is recognisable by name (volume, CPC…) is pre-selected; the user only adds the keyword column.
            keyword_imports::mapping.eq(super::mapping::to_json(&super::mapping::recognise(headers))),
            keyword_imports::error.eq(message),
            keyword_imports::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks the import failed with a message the user can act on.
pub async fn fail(conn: &mut AsyncPgConnection, tenant_id: i64, import_id: i64, message: &str) -> AppResult<()> {
    diesel::update(keyword_imports::table.filter(keyword_imports::tenant_id.eq(tenant_id)).filter(keyword_imports::id.eq(import_id)))
        .set((
            keyword_imports::status.eq(ImportStatus::Failed),
            keyword_imports::error.eq(message),
            keyword_imports::finished_at.eq(diesel::dsl::now),
            keyword_imports::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
