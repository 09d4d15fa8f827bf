//! Step two: write the analysed file's good rows in one transaction (all or nothing), ten thousand rows
//! per statement. Existing keywords are skipped or updated as the user chose; progress is written through
//! a second connection so the page can show it while the transaction is still open.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Float8, Int2, Int4, Int8, Nullable, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::analyze;
use super::rows::{Fingerprint, KeywordRow, dedupe_key, fingerprint};
use super::scan::{ScanError, Scanner};
use super::store::ImportStatus;
use crate::audit::{self, Who};
use crate::db::DbPool;
use crate::db::schema::{keyword_import_chunks, keyword_imports};
use crate::error::{AppError, AppResult};
use crate::modules::planner::clusters::service as clusters;
use crate::modules::planner::keywords::filter::KeywordStatus;

const BATCH: usize = 10_000;

#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Applied {
    pub inserted: i32,
    pub updated: i32,
    pub skipped: i32,
}

/// The batch's rows as columns (`unnest` turns them back into rows); intents travel as comma-joined text.
const ROWS: &str = "
SELECT $1, t.k, t.v, t.vh, t.d, t.c, COALESCE(string_to_array(t.i, ','), '{}'), t.co, t.s, t.pk, t.ck, t.im, t.ct, t.po, t.cm,
       t.ci, t.bl, t.bh, t.cid, COALESCE(t.st, $21)
FROM unnest($2::text[], $3::int4[], $4::int4[], $5::int2[], $6::float8[], $7::text[], $8::text[], $9::text[], $10::text[],
            $11::int4[], $12::int4[], $13::float8[], $14::float8[], $15::text[], $16::int2[], $17::float8[], $18::float8[],
            $19::int8[], $20::text[])
     AS t(k, v, vh, d, c, i, co, s, pk, ck, im, ct, po, cm, ci, bl, bh, cid, st)";

const COLUMNS: &str = "INSERT INTO keywords (tenant_id, keyword, volume, volume_high, difficulty, cpc, intents, country, sector,
    parent_keyword, clicks, impressions, ctr, position, competition, competition_index, bid_low, bid_high, cluster_id, status)";

/// Update mode: a value the file leaves empty keeps what the workspace had. A row that names neither a cluster
/// nor a status other than the default keeps the keyword's status.
const ON_CONFLICT_UPDATE: &str = "
ON CONFLICT (tenant_id, lower(keyword)) DO UPDATE SET
    volume = COALESCE(EXCLUDED.volume, keywords.volume),
    volume_high = CASE WHEN EXCLUDED.volume IS NULL THEN keywords.volume_high ELSE EXCLUDED.volume_high END,
    difficulty = COALESCE(EXCLUDED.difficulty, keywords.difficulty),
    cpc = COALESCE(EXCLUDED.cpc, keywords.cpc),
    intents = CASE WHEN cardinality(EXCLUDED.intents) > 0 THEN EXCLUDED.intents ELSE keywords.intents END,
    country = COALESCE(EXCLUDED.country, keywords.country),
    sector = COALESCE(EXCLUDED.sector, keywords.sector),
    parent_keyword = COALESCE(EXCLUDED.parent_keyword, keywords.parent_keyword),
    clicks = COALESCE(EXCLUDED.clicks, keywords.clicks),
    impressions = COALESCE(EXCLUDED.impressions, keywords.impressions),
    ctr = COALESCE(EXCLUDED.ctr, keywords.ctr),
    position = COALESCE(EXCLUDED.position, keywords.position),
    competition = COALESCE(EXCLUDED.competition, keywords.competition),
    competition_index = COALESCE(EXCLUDED.competition_index, keywords.competition_index),
    bid_low = COALESCE(EXCLUDED.bid_low, keywords.bid_low),
    bid_high = COALESCE(EXCLUDED.bid_high, keywords.bid_high),
    cluster_id = COALESCE(EXCLUDED.cluster_id, keywords.cluster_id),
    status = CASE WHEN EXCLUDED.cluster_id IS NOT NULL OR EXCLUDED.status <> $21 THEN EXCLUDED.status ELSE keywords.status END,
    updated_at = now()
RETURNING (xmax = 0) AS inserted";

#[derive(QueryableByName)]
struct Written {
    #[diesel(sql_type = Bool)]
    inserted: bool,
}

/// The status a row is written with: the file's (clustered only with a cluster), else what its cluster makes it;
/// None for the default.
fn row_status(r: &KeywordRow) -> Option<KeywordStatus> {
    match (r.status, r.cluster.is_some()) {
        (Some(KeywordStatus::Clustered), false) => None,
        (Some(s), _) => Some(s),
        (None, true) => Some(KeywordStatus::Clustered),
        (None, false) => None,
    }
}

/// The id of each cluster the batch names (by lowercase name): the workspace's cluster of that name, made when
/// missing — by `clusters::service::ensure`, as clustering does. A file names few clusters, so one call each is fine.
async fn cluster_ids(conn: &mut AsyncPgConnection, tenant_id: i64, rows: &[KeywordRow]) -> AppResult<HashMap<String, i64>> {
    let mut ids = HashMap::new();
    for name in rows.iter().filter_map(|r| r.cluster.as_deref()) {
        if let Entry::Vacant(slot) = ids.entry(name.to_lowercase()) {
            // Imported clusters count as made by hand: the file does not say how they were made.
            slot.insert(clusters::ensure(conn, tenant_id, name, "", "manual").await?.0);
        }
    }
    Ok(ids)
}

/// (inserted, updated) for one batch. Skip mode needs only the row count, so it returns no rows.
async fn write_batch(conn: &mut AsyncPgConnection, tenant_id: i64, rows: &[KeywordRow], update: bool) -> AppResult<(i32, i32)> {
    let clusters = cluster_ids(conn, tenant_id, rows).await?;
    let cluster_of = |r: &KeywordRow| r.cluster.as_ref().and_then(|n| clusters.get(&n.to_lowercase()).copied());
    let sql = if update {
        format!("{COLUMNS}{ROWS}{ON_CONFLICT_UPDATE}")
    } else {
        format!("{COLUMNS}{ROWS}\nON CONFLICT (tenant_id, lower(keyword)) DO NOTHING")
    };
    let col = |f: fn(&KeywordRow) -> Option<&str>| rows.iter().map(f).collect::<Vec<_>>();
    let q = diesel::sql_query(sql)
        .bind::<BigInt, _>(tenant_id)
        .bind::<Array<Text>, _>(rows.iter().map(|r| r.keyword.as_str()).collect::<Vec<_>>())
        .bind::<Array<Nullable<Int4>>, _>(rows.iter().map(|r| r.volume).collect::<Vec<_>>())
        .bind::<Array<Nullable<Int4>>, _>(rows.iter().map(|r| r.volume_high).collect::<Vec<_>>())
        .bind::<Array<Nullable<Int2>>, _>(rows.iter().map(|r| r.difficulty).collect::<Vec<_>>())
        .bind::<Array<Nullable<Float8>>, _>(rows.iter().map(|r| r.cpc).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|r| (!r.intents.is_empty()).then(|| r.intents.join(","))).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(col(|r| r.country.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(col(|r| r.sector.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(col(|r| r.parent_keyword.as_deref()))
        .bind::<Array<Nullable<Int4>>, _>(rows.iter().map(|r| r.clicks).collect::<Vec<_>>())
        .bind::<Array<Nullable<Int4>>, _>(rows.iter().map(|r| r.impressions).collect::<Vec<_>>())
        .bind::<Array<Nullable<Float8>>, _>(rows.iter().map(|r| r.ctr).collect::<Vec<_>>())
        .bind::<Array<Nullable<Float8>>, _>(rows.iter().map(|r| r.position).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(col(|r| r.competition))
        .bind::<Array<Nullable<Int2>>, _>(rows.iter().map(|r| r.competition_index).collect::<Vec<_>>())
        .bind::<Array<Nullable<Float8>>, _>(rows.iter().map(|r| r.bid_low).collect::<Vec<_>>())
        .bind::<Array<Nullable<Float8>>, _>(rows.iter().map(|r| r.bid_high).collect::<Vec<_>>())
        .bind::<Array<Nullable<Int8>>, _>(rows.iter().map(cluster_of).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|r| row_status(r).map(|s| s.as_str())).collect::<Vec<_>>())
        .bind::<Text, _>(KeywordStatus::New.as_str());
    if !update {
        return Ok((q.execute(conn).await? as i32, 0));
    }
    let written: Vec<Written> = q.load(conn).await?;
    let inserted = written.iter().filter(|w| w.inserted).count() as i32;
    Ok((inserted, written.len() as i32 - inserted))
}

/// Runs the import; idempotent (a re-run after a crash finds the import done, or redoes it whole).
pub async fn run(pool: &DbPool, who: &Who, import_id: i64) -> Result<Applied, ScanError> {
    let tenant_id = who.tenant_id;
    let mut conn = pool.get().await?;
    let progress_pool = pool.clone();
    let who = Who { tenant_id, user_id: who.user_id, label: who.label.clone(), ip: who.ip.clone() };

    let applied = conn
        .transaction::<_, ScanError, _>(async move |conn| {
            let (status, on_existing): (ImportStatus, String) = keyword_imports::table
                .filter(keyword_imports::tenant_id.eq(tenant_id))
                .filter(keyword_imports::id.eq(import_id))
                .select((keyword_imports::status, keyword_imports::on_existing))
                // No row lock: progress is written to this row from another connection while this runs
                // (the job's lease already makes this the only run).
                .first(conn)
                .await?;
            if status != ImportStatus::Importing {
                return Err(ScanError::Db(AppError::Conflict(format!("import is {status}"))));
            }
            let update = on_existing == "update";
            let started = std::time::Instant::now();
            let mut writing = std::time::Duration::ZERO;
            // Reading and parsing run on their own connection, a batch ahead of the writes.
            let columns = super::store::column_override(conn, tenant_id, import_id).await?;
            let mut batches = read_ahead(progress_pool.clone(), tenant_id, import_id, columns);
            let (mut applied, mut bytes, mut rows_read) = (Applied::default(), 0u64, 0i32);
            while let Some(next) = batches.recv().await {
                let batch = next?;
                (bytes, rows_read) = (batch.bytes, batch.rows_read);
                if !batch.rows.is_empty() {
                    let t = std::time::Instant::now();
                    add(&mut applied, write_batch(conn, tenant_id, &batch.rows, update).await?, batch.rows.len());
                    writing += t.elapsed();
                }
                if let Ok(mut pc) = progress_pool.get().await {
                    analyze::progress(&mut pc, tenant_id, import_id, bytes as i64, rows_read).await.ok();
                }
            }
            tracing::info!(
                import = import_id,
                rows = rows_read,
                total_ms = started.elapsed().as_millis() as u64,
                writing_ms = writing.as_millis() as u64,
                "keyword import written"
            );
            diesel::update(
                keyword_imports::table.filter(keyword_imports::tenant_id.eq(tenant_id)).filter(keyword_imports::id.eq(import_id)),
            )
            .set((
                keyword_imports::status.eq(ImportStatus::Done),
                keyword_imports::inserted.eq(applied.inserted),
                keyword_imports::updated.eq(applied.updated),
                keyword_imports::skipped.eq(applied.skipped),
                keyword_imports::bytes_done.eq(bytes as i64),
                keyword_imports::processed_rows.eq(rows_read),
                keyword_imports::finished_at.eq(diesel::dsl::now),
                keyword_imports::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
            drop_chunks(conn, tenant_id, import_id).await?;
            audit::record(
                conn,
                &who,
                "keyword_import.finished",
                ("keyword_import", import_id.to_string()),
                serde_json::to_value(applied).unwrap_or_default(),
            )
            .await?;
            Ok(applied)
        })
        .await;
    crate::db::retire(conn);
    applied
}

struct Batch {
    rows: Vec<KeywordRow>,
    /// How far the file has been read when this batch was cut (for progress).
    bytes: u64,
    rows_read: i32,
}

/// Reads the stored file on a connection of its own and hands over batches of good rows, without the rows
/// the analysis rejected or a repeat of an earlier row; the channel holds one batch, so memory stays flat.
fn read_ahead(
    pool: DbPool,
    tenant_id: i64,
    import_id: i64,
    columns: Option<std::collections::BTreeMap<super::mapping::Field, usize>>,
) -> tokio::sync::mpsc::Receiver<Result<Batch, ScanError>> {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        let result: Result<(), ScanError> = async {
            let mut conn = pool.get().await?;
            let mut scanner = Scanner::new(tenant_id, import_id).with_columns(columns);
            let (mut seen, mut rows, mut rows_read) = (HashSet::<Fingerprint>::new(), Vec::with_capacity(BATCH), 0i32);
            while let Some(chunk) = scanner.next(&mut conn).await? {
                for row in chunk {
                    rows_read += 1;
                    if let Ok(r) = row.parsed
                        && seen.insert(fingerprint(&dedupe_key(&r.keyword)))
                    {
                        rows.push(r);
                    }
                    if rows.len() >= BATCH {
                        let full = std::mem::replace(&mut rows, Vec::with_capacity(BATCH));
                        if tx.send(Ok(Batch { rows: full, bytes: scanner.bytes, rows_read })).await.is_err() {
                            return Ok(()); // the writer stopped; its error is what counts
                        }
                    }
                }
            }
            let _ = tx.send(Ok(Batch { rows, bytes: scanner.bytes, rows_read })).await;
            crate::db::retire(conn);
            Ok(())
        }
        .await;
        if let Err(e) = result {
            let _ = tx.send(Err(e)).await;
        }
    });
    rx
}

fn add(total: &mut Applied, (inserted, updated): (i32, i32), batch_len: usize) {
    total.inserted += inserted;
    total.updated += updated;
    total.skipped += batch_len as i32 - inserted - updated;
}

/// The stored file is not needed once an import has finished or failed.
pub async fn drop_chunks(conn: &mut AsyncPgConnection, tenant_id: i64, import_id: i64) -> AppResult<()> {
    diesel::delete(
        keyword_import_chunks::table
            .filter(keyword_import_chunks::tenant_id.eq(tenant_id))
            .filter(keyword_import_chunks::import_id.eq(import_id)),
    )
    .execute(conn)
    .await?;
    Ok(())
}
