//! Import records: receiving an upload into chunks, reading an import's state and rejects, and asking
//! for the two steps (analyse, apply) as jobs.

use actix_web::web::Bytes;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::{Stream, StreamExt};
use serde::Serialize;

use super::csv_stream::sniff;
use super::job::{Import as ImportJob, Phase};
use super::mapping::Field;
use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::db::schema::{keyword_import_chunks, keyword_import_rejects, keyword_imports};
use crate::error::{AppError, AppResult};
use crate::jobs::Job;
use crate::jobs::queue::enqueue_in_tx;
use crate::listing::PageParams;
use crate::state::AppState;
use crate::tenancy::TenantCtx;

/// Largest upload accepted (a 100,000-row export is about 5 MB).
pub const MAX_BYTES: usize = 20 * 1024 * 1024;
/// Stored chunk size: the most of a file any step holds in memory at once (with the records parsed from it), and
/// the largest message a connection carries for it.
pub const CHUNK_BYTES: usize = 256 * 1024;
pub const JOB_KIND: &str = "planner.import";

crate::text_enum! {
    /// `keyword_imports.status`: uploading → analyzing → ready (or mapping: columns to choose) → importing → done;
    /// failed at any step with the reason.
    pub enum ImportStatus {
        Uploading = "uploading",
        Analyzing = "analyzing",
        Mapping = "mapping",
        Ready = "ready",
        Importing = "importing",
        Done = "done",
        Failed = "failed",
    }
}

impl ImportStatus {
    /// The import still keeps its uploaded file (it counts against the upload quota).
    pub const HOLDING_A_FILE: [ImportStatus; 5] =
        [ImportStatus::Uploading, ImportStatus::Analyzing, ImportStatus::Mapping, ImportStatus::Ready, ImportStatus::Importing];
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = keyword_imports)]
pub struct Import {
    pub id: i64,
    pub filename: String,
    pub size_bytes: i64,
    pub status: ImportStatus,
    pub source: String,
    pub delimiter: String,
    pub headers: Vec<String>,
    pub mapping: serde_json::Value,
    pub column_override: Option<serde_json::Value>,
    pub preview: serde_json::Value,
    pub total_rows: i32,
    pub good_rows: i32,
    pub rejected_rows: i32,
    pub existing_rows: i32,
    pub warned_rows: i32,
    pub processed_rows: i32,
    pub bytes_done: i64,
    pub on_existing: String,
    pub inserted: i32,
    pub updated: i32,
    pub skipped: i32,
    pub error: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl Import {
    /// The column currently used for a field (as mapped by detection or by the user).
    pub fn column_of(&self, field: &str) -> Option<usize> {
        self.mapping.get(field).and_then(|v| v.as_u64()).map(|v| v as usize)
    }
    /// Whether `column` is the one used for `field` (the form's preselection).
    pub fn uses(&self, field: &str, column: &usize) -> bool {
        self.column_of(field) == Some(*column)
    }
    /// (field, label) for the column-choice form.
    pub fn fields(&self) -> Vec<(&'static str, &'static str)> {
        Field::ALL.iter().map(|f| (f.as_str(), f.label())).collect()
    }
    pub fn can_choose_columns(&self) -> bool {
        matches!(self.status, ImportStatus::Ready | ImportStatus::Mapping) && !self.headers.is_empty()
    }
    pub fn is_running(&self) -> bool {
        matches!(self.status, ImportStatus::Uploading | ImportStatus::Analyzing | ImportStatus::Importing)
    }
    /// Percentage of the file the running step has read.
    pub fn percent(&self) -> i64 {
        if self.size_bytes <= 0 { 0 } else { (self.bytes_done * 100 / self.size_bytes).clamp(0, 100) }
    }
    /// Preview rows as (field, value) lists for the table.
    pub fn preview_rows(&self) -> Vec<serde_json::Map<String, serde_json::Value>> {
        self.preview.as_array().map(|a| a.iter().filter_map(|v| v.as_object().cloned()).collect()).unwrap_or_default()
    }
    /// Preview rows as cells in the table's column order.
    pub fn preview_cells(&self) -> Vec<Vec<String>> {
        const KEYS: [&str; 9] = ["line", "keyword", "volume", "difficulty", "cpc", "intent", "country", "sector", "notes"];
        self.preview_rows()
            .iter()
            .map(|r| {
                KEYS.iter()
                    .map(|k| match r.get(*k) {
                        Some(serde_json::Value::String(s)) => s.clone(),
                        Some(serde_json::Value::Null) | None => String::new(),
                        Some(v) => v.to_string(),
                    })
                    .collect()
            })
            .collect()
    }
    /// The file's columns no field uses: they are not imported, and the page says so before the go-ahead.
    pub fn ignored(&self) -> Vec<String> {
        let used: Vec<usize> =
            self.mapping.as_object().map(|m| m.values().filter_map(|v| v.as_u64()).map(|v| v as usize).collect()).unwrap_or_default();
        self.headers.iter().enumerate().filter(|(i, h)| !used.contains(i) && !h.trim().is_empty()).map(|(_, h)| h.clone()).collect()
    }
    pub fn mapped(&self) -> Vec<(String, String)> {
        let Some(m) = self.mapping.as_object() else { return vec![] };
        m.iter()
            .filter_map(|(field, col)| {
                let i = col.as_u64()? as usize;
                Some((field.clone(), self.headers.get(i).cloned().unwrap_or_else(|| format!("column {}", i + 1))))
            })
            .collect()
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = keyword_import_rejects)]
pub struct Reject {
    pub line: i64,
    pub kind: String,
    pub keyword: String,
    pub reason: String,
}

pub async fn get(conn: &mut AsyncPgConnection, tenant_id: i64, id: i64) -> AppResult<Import> {
    Ok(keyword_imports::table
        .filter(keyword_imports::tenant_id.eq(tenant_id))
        .filter(keyword_imports::id.eq(id))
        .select(Import::as_select())
        .first(conn)
        .await?)
}

pub async fn recent(conn: &mut AsyncPgConnection, tenant_id: i64, limit: i64) -> AppResult<Vec<Import>> {
    Ok(keyword_imports::table
        .filter(keyword_imports::tenant_id.eq(tenant_id))
        .order(keyword_imports::created_at.desc())
        .select(Import::as_select())
        .limit(limit)
        .load(conn)
        .await?)
}

/// Rejected rows in file order, a page at a time, with the total.
pub async fn rejects(conn: &mut AsyncPgConnection, tenant_id: i64, id: i64, page: &PageParams) -> AppResult<(Vec<Reject>, i64)> {
    // Rows and count both start from the one condition.
    let base = keyword_import_rejects::table
        .filter(keyword_import_rejects::tenant_id.eq(tenant_id))
        .filter(keyword_import_rejects::import_id.eq(id));
    let rows = base
        .order(keyword_import_rejects::line)
        .select(Reject::as_select())
        .limit(page.per_page())
        .offset(page.offset())
        .load(conn)
        .await?;
    let total = base.count().get_result(conn).await?;
    Ok((rows, total))
}

fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("").trim();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if cleaned.is_empty() { "upload.csv".into() } else { cleaned }
}

/// Stores an upload as it arrives and queues its analysis. Too large, empty or not text → a clear error
/// and nothing kept.
pub async fn receive<S, E>(state: &AppState, ctx: &TenantCtx, filename: &str, mut body: S) -> AppResult<Import>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    ctx.require(Perm::EditContent)?;
    let mut conn = state.db.get().await?;
    let tenant_id = ctx.tenant_id;
    let quota = Quota::of(state, &mut conn, ctx).await?;
    if quota.room() == 0 {
        return Err(quota.exceeded());
    }
    let id: i64 = diesel::insert_into(keyword_imports::table)
        .values((
            keyword_imports::tenant_id.eq(tenant_id),
            keyword_imports::filename.eq(clean_filename(filename)),
            keyword_imports::created_by.eq(ctx.actor_label()),
        ))
        .returning(keyword_imports::id)
        .get_result(&mut conn)
        .await?;
    let stored = store_chunks(&mut conn, tenant_id, id, &mut body, &quota).await;
    let size = match stored {
        Ok(size) => size,
        Err(e) => {
            // Nothing of a refused upload stays behind (chunks go with the row).
            diesel::delete(keyword_imports::table.filter(keyword_imports::tenant_id.eq(tenant_id)).filter(keyword_imports::id.eq(id)))
                .execute(&mut conn)
                .await?;
            return Err(e);
        }
    };
    let who = Who::from(ctx);
    let job = ImportJob { import_id: id, phase: Phase::Analyze }.new_job(tenant_id).by(ctx.actor_label());
    let name = clean_filename(filename);
    conn.transaction::<_, AppError, _>(async move |conn| {
        diesel::update(keyword_imports::table.filter(keyword_imports::tenant_id.eq(tenant_id)).filter(keyword_imports::id.eq(id)))
            .set((
                keyword_imports::status.eq(ImportStatus::Analyzing),
                keyword_imports::size_bytes.eq(size as i64),
                keyword_imports::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        enqueue_in_tx(conn, &job).await?;
        audit::record(
            conn,
            &who,
            "keyword_import.uploaded",
            ("keyword_import", id.to_string()),
            serde_json::json!({ "filename": name, "bytes": size }),
        )
        .await
    })
    .await?;
    crate::jobs::worker::wake(state).await;
    let import = get(&mut conn, tenant_id, id).await;
    crate::db::retire(conn);
    import
}

/// The plan's allowance for stored uploads and what the workspace keeps stored now: the files of imports
/// that are not finished (a finished or failed import drops its file; an abandoned one goes after
/// `retention.imports_days`).
pub struct Quota {
    plan: String,
    quota_bytes: u64,
    stored_bytes: u64,
}

const MB: u64 = 1024 * 1024;

impl Quota {
    pub async fn of(state: &AppState, conn: &mut AsyncPgConnection, ctx: &TenantCtx) -> AppResult<Quota> {
        let plan = state.plan(&ctx.plan_code).await?;
        let stored: i64 = keyword_imports::table
            .filter(keyword_imports::tenant_id.eq(ctx.tenant_id))
            .filter(keyword_imports::status.eq_any(ImportStatus::HOLDING_A_FILE))
            .select(diesel::dsl::sql::<diesel::sql_types::BigInt>("COALESCE(sum(size_bytes), 0)::bigint"))
            .first(conn)
            .await?;
        Ok(Quota { plan: plan.name, quota_bytes: plan.upload_quota_mb.max(0) as u64 * MB, stored_bytes: stored.max(0) as u64 })
    }

    /// Bytes one more upload may take.
    pub fn room(&self) -> u64 {
        self.quota_bytes.saturating_sub(self.stored_bytes)
    }

    pub fn exceeded(&self) -> AppError {
        AppError::PayloadTooLarge(format!(
            "This workspace keeps {} MB of uploaded files waiting to be imported, and the {} plan allows {} MB. Import or discard a \
             waiting file (files never imported are removed after a few days), or move to a larger plan.",
            self.stored_bytes.div_ceil(MB),
            self.plan,
            self.quota_bytes / MB
        ))
    }
}

async fn store_chunks<S, E>(conn: &mut AsyncPgConnection, tenant_id: i64, id: i64, body: &mut S, quota: &Quota) -> AppResult<usize>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK_BYTES);
    let (mut total, mut seq) = (0usize, 0i32);
    while let Some(part) = body.next().await {
        let part = part.map_err(|e| AppError::BadRequest(format!("The upload was interrupted: {e}")))?;
        total += part.len();
        if total > MAX_BYTES {
            return Err(AppError::PayloadTooLarge(format!(
                "The file is larger than {} MB. Split it into smaller files (a 100,000-keyword export is about 5 MB).",
                MAX_BYTES / (1024 * 1024)
            )));
        }
        if total as u64 > quota.room() {
            return Err(quota.exceeded());
        }
        buf.extend_from_slice(&part);
        if seq == 0 && buf.len() >= 64 * 1024 {
            check_first(&buf)?;
        }
        while buf.len() >= CHUNK_BYTES {
            let rest = buf.split_off(CHUNK_BYTES);
            insert_chunk(conn, tenant_id, id, seq, &buf).await?;
            seq += 1;
            buf = rest;
        }
    }
    if total == 0 || (seq == 0 && buf.iter().all(|b| b.is_ascii_whitespace())) {
        return Err(AppError::BadRequest("The file is empty. Choose a CSV file with a keyword column.".into()));
    }
    if seq == 0 {
        check_first(&buf)?;
    }
    if !buf.is_empty() {
        insert_chunk(conn, tenant_id, id, seq, &buf).await?;
    }
    Ok(total)
}

/// Refuses binary files (PDF, Excel, images…) before they are stored.
fn check_first(bytes: &[u8]) -> AppResult<()> {
    sniff(&bytes[..bytes.len().min(64 * 1024)]).map(|_| ()).map_err(|e| AppError::BadRequest(e.to_string()))
}

async fn insert_chunk(conn: &mut AsyncPgConnection, tenant_id: i64, id: i64, seq: i32, data: &[u8]) -> AppResult<()> {
    diesel::insert_into(keyword_import_chunks::table)
        .values((
            keyword_import_chunks::tenant_id.eq(tenant_id),
            keyword_import_chunks::import_id.eq(id),
            keyword_import_chunks::seq.eq(seq),
            keyword_import_chunks::data.eq(data),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The go-ahead after the preview, as the import page and the JSON API send it: what to do with keywords the
/// workspace already has (`skip`, the default, or `update`).
#[derive(Debug, Default, serde::Deserialize)]
pub struct ConfirmInput {
    #[serde(default)]
    pub on_existing: String,
}

/// The user's go-ahead after the preview: queue the import with their choice for existing keywords.
pub async fn confirm(state: &AppState, ctx: &TenantCtx, id: i64, input: &ConfirmInput) -> AppResult<Import> {
    ctx.require(Perm::EditContent)?;
    let on_existing = match input.on_existing.trim() {
        "" => "skip",
        other => other,
    };
    if !matches!(on_existing, "skip" | "update") {
        return Err(AppError::BadRequest("Choose whether existing keywords are skipped or updated".into()));
    }
    let mut conn = state.db.get().await?;
    let tenant_id = ctx.tenant_id;
    let who = Who::from(ctx);
    let job = ImportJob { import_id: id, phase: Phase::Apply }.new_job(tenant_id).by(ctx.actor_label());
    let on_existing = on_existing.to_string();
    conn.transaction::<_, AppError, _>(async move |conn| {
        let status: ImportStatus = keyword_imports::table
            .filter(keyword_imports::tenant_id.eq(tenant_id))
            .filter(keyword_imports::id.eq(id))
            .select(keyword_imports::status)
            .for_update()
            .first(conn)
            .await?;
        if status != ImportStatus::Ready {
            return Err(AppError::Conflict(format!("This import is {status}; only an analysed import can be started")));
        }
        diesel::update(keyword_imports::table.filter(keyword_imports::tenant_id.eq(tenant_id)).filter(keyword_imports::id.eq(id)))
            .set((
                keyword_imports::status.eq(ImportStatus::Importing),
                keyword_imports::on_existing.eq(&on_existing),
                keyword_imports::bytes_done.eq(0),
                keyword_imports::processed_rows.eq(0),
                keyword_imports::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        enqueue_in_tx(conn, &job).await?;
        audit::record(
            conn,
            &who,
            "keyword_import.started",
            ("keyword_import", id.to_string()),
            serde_json::json!({ "on_existing": on_existing }),
        )
        .await
    })
    .await?;
    crate::jobs::worker::wake(state).await;
    get(&mut conn, tenant_id, id).await
}

/// Drops a file that waits for the go-ahead (or for its columns): the upload, its rejects and the import go, and
/// the space counts against the quota no more. A step that is running cannot be discarded.
pub async fn discard(state: &AppState, ctx: &TenantCtx, id: i64) -> AppResult<()> {
    ctx.require(Perm::EditContent)?;
    let mut conn = state.db.get().await?;
    let tenant_id = ctx.tenant_id;
    let who = Who::from(ctx);
    conn.transaction::<_, AppError, _>(async move |conn| {
        let (status, filename): (ImportStatus, String) = keyword_imports::table
            .filter(keyword_imports::tenant_id.eq(tenant_id))
            .filter(keyword_imports::id.eq(id))
            .select((keyword_imports::status, keyword_imports::filename))
            .for_update()
            .first(conn)
            .await?;
        if !matches!(status, ImportStatus::Ready | ImportStatus::Mapping) {
            return Err(AppError::Conflict(format!("This import is {status}; only a file waiting for the go-ahead can be discarded")));
        }
        diesel::delete(keyword_imports::table.filter(keyword_imports::tenant_id.eq(tenant_id)).filter(keyword_imports::id.eq(id)))
            .execute(conn)
            .await?;
        audit::record(
            conn,
            &who,
            "keyword_import.discarded",
            ("keyword_import", id.to_string()),
            serde_json::json!({ "filename": filename }),
        )
        .await
    })
    .await
}

/// The user's column choice, if any, as the scanner takes it.
pub async fn column_override(
    conn: &mut AsyncPgConnection,
    tenant_id: i64,
    id: i64,
) -> AppResult<Option<std::collections::BTreeMap<Field, usize>>> {
    let v: Option<serde_json::Value> = keyword_imports::table
        .filter(keyword_imports::tenant_id.eq(tenant_id))
        .filter(keyword_imports::id.eq(id))
        .select(keyword_imports::column_override)
        .first(conn)
        .await?;
    Ok(v.and_then(|v| {
        let m = v.as_object()?;
        Some(m.iter().filter_map(|(k, i)| Some((Field::parse(k)?, i.as_u64()? as usize))).collect())
    }))
}

/// Takes the user's choice of columns (field name → column index, empty for "not in the file") and
/// analyses the file again with it.
pub async fn choose_columns(
    state: &AppState,
    ctx: &TenantCtx,
    id: i64,
    choice: &std::collections::BTreeMap<String, String>,
) -> AppResult<Import> {
    ctx.require(Perm::EditContent)?;
    let mut conn = state.db.get().await?;
    let tenant_id = ctx.tenant_id;
    let import = get(&mut conn, tenant_id, id).await?;
    if !import.can_choose_columns() {
        return Err(AppError::Conflict(format!("This import is {}; columns can be chosen after the file is checked", import.status)));
    }
    let mut columns = serde_json::Map::new();
    let mut used = std::collections::HashSet::new();
    for field in Field::ALL {
        let raw = choice.get(field.as_str()).map(|s| s.trim()).unwrap_or("");
        if raw.is_empty() {
            continue;
        }
        let col: usize = raw
            .parse()
            .ok()
            .filter(|c| *c < import.headers.len())
            .ok_or_else(|| AppError::field(field.as_str(), format!("Choose one of the file's columns for {}", field.label())))?;
        if !used.insert(col) {
            return Err(AppError::field(field.as_str(), format!("Column “{}” is chosen twice", import.headers[col])));
        }
        columns.insert(field.as_str().to_string(), serde_json::json!(col));
    }
    if !columns.contains_key(Field::Keyword.as_str()) {
        return Err(AppError::field("keyword", "Choose the column that holds the keywords"));
    }
    let who = Who::from(ctx);
    let job = ImportJob { import_id: id, phase: Phase::Analyze }.new_job(tenant_id).by(ctx.actor_label());
    let chosen = serde_json::Value::Object(columns);
    conn.transaction::<_, AppError, _>(async move |conn| {
        diesel::update(keyword_imports::table.filter(keyword_imports::tenant_id.eq(tenant_id)).filter(keyword_imports::id.eq(id)))
            .set((
                keyword_imports::column_override.eq(Some(&chosen)),
                keyword_imports::status.eq(ImportStatus::Analyzing),
                keyword_imports::error.eq(None::<String>),
                keyword_imports::bytes_done.eq(0),
                keyword_imports::processed_rows.eq(0),
                keyword_imports::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        enqueue_in_tx(conn, &job).await?;
        audit::record(conn, &who, "keyword_import.columns_chosen", ("keyword_import", id.to_string()), chosen.clone()).await
    })
    .await?;
    crate::jobs::worker::wake(state).await;
    get(&mut conn, tenant_id, id).await
}
