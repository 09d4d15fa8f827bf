//! A workspace's data as a `.zip` for its owner: one JSON-lines file per tenant table (`tables/<name>.jsonl`, each
//! line one row as Postgres's `to_jsonb` gives it — lossless: bytea as `\x…` hex, timestamps in ISO 8601), the
//! workspace row itself, and `manifest.json` with the row count per table. Secrets (sealed keys, password and token
//! hashes, sealed mail bodies) are left out and listed in the manifest. Read in one repeatable-read snapshot, so
//! the files agree with each other; each export is audited as `workspace.exported`, which deletion looks for.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use super::TenantCtx;
use super::tables::{self, TenantTable, quote_ident, quote_literal};
use super::zip::ZipWriter;
use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::db::schema::audit_events;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub const EXPORTED: &str = "workspace.exported";
/// Rows fetched from the cursor at a time.
const BATCH: usize = 500;

pub struct Export {
    pub filename: String,
    pub bytes: Vec<u8>,
    /// Rows per table, as in the manifest.
    pub rows: BTreeMap<String, i64>,
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// Owners only. Builds the archive and records the export.
pub async fn export(state: &AppState, ctx: &TenantCtx) -> AppResult<Export> {
    ctx.require(Perm::ManageOwners)?;
    let tenant_id = ctx.tenant_id;
    let now = Utc::now();
    let mut conn = state.db.get().await?;
    let (bytes, rows) = conn
        .transaction::<_, AppError, _>(async move |conn| {
            diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(conn).await?;
            archive(conn, tenant_id, now).await
        })
        .await?;
    let total: i64 = rows.values().sum();
    let who = Who::from(ctx);
    audit::record(
        &mut conn,
        &who,
        EXPORTED,
        ("tenant", tenant_id.to_string()),
        serde_json::json!({ "tables": rows.len(), "rows": total, "bytes": bytes.len() }),
    )
    .await?;
    let filename = format!("igny8-workspace-{tenant_id}-{}.zip", now.format("%Y%m%d-%H%M%S"));
    Ok(Export { filename, bytes, rows })
}

async fn archive(conn: &mut AsyncPgConnection, tenant_id: i64, now: DateTime<Utc>) -> AppResult<(Vec<u8>, BTreeMap<String, i64>)> {
    let mut zip = ZipWriter::new(now.naive_utc());
    let workspace: Line =
        diesel::sql_query(format!("SELECT to_jsonb(t)::text AS line FROM tenants t WHERE t.id = {tenant_id}")).get_result(conn).await?;
    zip.add("workspace.json", workspace.line.as_bytes())?;
    let mut rows = BTreeMap::new();
    let mut omitted = BTreeMap::new();
    let mut files = Vec::new();
    for table in tables::tenant_tables(conn).await? {
        let (data, n) = dump(conn, &table, tenant_id).await?;
        let file = format!("tables/{}.jsonl", table.name);
        zip.add(&file, &data)?;
        files.push(serde_json::json!({ "table": table.name, "file": file, "rows": n }));
        let secret = table.secret_columns();
        if !secret.is_empty() {
            omitted.insert(table.name.clone(), secret.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        }
        rows.insert(table.name, n);
    }
    let manifest = serde_json::json!({
        "format": "igny8-workspace-export",
        "version": 1,
        "workspace_id": tenant_id,
        "exported_at": now.to_rfc3339(),
        "encoding": "one JSON object per line (JSON lines), columns as Postgres to_jsonb gives them; bytea as \\x hex",
        "tables": files,
        "omitted_columns": omitted,
        "omitted_json_keys": ["sealed"],
    });
    let manifest = serde_json::to_vec_pretty(&manifest).map_err(AppError::internal)?;
    zip.add("manifest.json", &manifest)?;
    Ok((zip.finish()?, rows))
}

/// One table's rows of the workspace as JSON lines, through a cursor so a large table is not one huge result.
async fn dump(conn: &mut AsyncPgConnection, table: &TenantTable, tenant_id: i64) -> AppResult<(Vec<u8>, i64)> {
    let omit: Vec<String> = table.secret_columns().into_iter().map(quote_literal).collect();
    diesel::sql_query(format!(
        "DECLARE igny8_export NO SCROLL CURSOR FOR SELECT (to_jsonb(t) - ARRAY[{}]::text[])::text AS line FROM {} t WHERE t.tenant_id = {tenant_id}",
        omit.join(", "),
        quote_ident(&table.name)
    ))
    .execute(conn)
    .await?;
    let (mut out, mut n) = (Vec::new(), 0i64);
    loop {
        let batch: Vec<Line> = diesel::sql_query(format!("FETCH FORWARD {BATCH} FROM igny8_export")).load(conn).await?;
        for l in &batch {
            let mut v: Value = serde_json::from_str(&l.line).map_err(AppError::internal)?;
            strip_secrets(&mut v);
            serde_json::to_writer(&mut out, &v).map_err(AppError::internal)?;
            out.push(b'\n');
            n += 1;
        }
        if batch.len() < BATCH {
            break;
        }
    }
    diesel::sql_query("CLOSE igny8_export").execute(conn).await?;
    Ok((out, n))
}

/// Removes secret keys inside JSON values (a queued mail's sealed body in `jobs.payload`).
fn strip_secrets(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|k, _| !tables::is_secret(k));
            map.values_mut().for_each(strip_secrets);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_secrets),
        _ => {}
    }
}

/// When the workspace was last exported, if ever.
pub async fn last_export(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<Option<DateTime<Utc>>> {
    Ok(audit_events::table
        .filter(audit_events::tenant_id.eq(tenant_id))
        .filter(audit_events::action.eq(EXPORTED))
        .select(diesel::dsl::max(audit_events::created_at))
        .first(conn)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_are_removed_at_any_depth() {
        let mut v = serde_json::json!({ "to": "a@b.c", "sealed": "x", "nested": [{ "token_hash": "h", "keep": 1 }] });
        strip_secrets(&mut v);
        assert_eq!(v, serde_json::json!({ "to": "a@b.c", "nested": [{ "keep": 1 }] }));
    }
}
