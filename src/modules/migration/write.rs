//! Writing one mapped table and checking what landed, the same way for every table:
//! rows never seen are inserted in batches (ids taken up front, so the map rows go in with them), rows whose
//! content changed since the last run are updated, unchanged rows are left alone; then every imported row is
//! read back and hashed in Postgres, and compared with the hash of the row as it was transformed.
//!
//! The hash of a row is sha256 over `source id ␞ field ␟ field …` (lists joined with ␝, NULL as U+0001,
//! floats with four decimals, timestamps left out since a zero date becomes the import time).
//! Column lists come from the constant `Target`s in `transform`; values are always bound.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Array, BigInt, Bool, Float8, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use sha2::{Digest, Sha256};

use crate::error::AppResult;

/// Rows per INSERT/UPDATE statement.
const BATCH: usize = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Float,
    Bool,
    /// A `text[]` column.
    List,
    /// A timestamptz column; NULL means "now" on insert and "keep" on update; not hashed.
    Time,
}

pub struct Col {
    pub name: &'static str,
    pub kind: Kind,
}

pub const fn col(name: &'static str, kind: Kind) -> Col {
    Col { name, kind }
}

/// A table of ours with a `(tenant_id, id)` key, an `updated_at`, and the columns an import writes.
pub struct Target {
    pub table: &'static str,
    pub cols: &'static [Col],
}

#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<String>),
    Time(DateTime<Utc>),
}

impl Val {
    pub fn opt_text(v: Option<String>) -> Val {
        v.map(Val::Text).unwrap_or(Val::Null)
    }
    pub fn opt_int(v: Option<i64>) -> Val {
        v.map(Val::Int).unwrap_or(Val::Null)
    }
    pub fn opt_time(v: Option<DateTime<Utc>>) -> Val {
        v.map(Val::Time).unwrap_or(Val::Null)
    }
    fn canonical(&self) -> String {
        match self {
            Val::Null | Val::Time(_) => "\u{1}".into(),
            Val::Text(s) => s.clone(),
            Val::Int(n) => n.to_string(),
            Val::Float(f) => format!("{f:.4}"),
            Val::Bool(b) => b.to_string(),
            Val::List(l) => l.join("\u{1d}"),
        }
    }
}

/// A transformed row, ready to write.
#[derive(Debug, Clone)]
pub struct Row {
    pub source_id: String,
    pub vals: Vec<Val>,
}

/// The hash of a row as `target` stores it (the same text Postgres hashes in `readback`).
pub fn row_hash(target: &Target, row: &Row) -> String {
    let mut s = String::with_capacity(256);
    s.push_str(&row.source_id);
    s.push('\u{1e}');
    let mut first = true;
    for (c, v) in target.cols.iter().zip(&row.vals) {
        if c.kind == Kind::Time {
            continue;
        }
        if !first {
            s.push('\u{1f}');
        }
        first = false;
        s.push_str(&v.canonical());
    }
    hex(&Sha256::digest(s.as_bytes()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One hash for a set of row hashes (order-independent).
pub fn table_hash(mut hashes: Vec<String>) -> String {
    hashes.sort_unstable();
    let mut h = Sha256::new();
    for x in &hashes {
        h.update(x.as_bytes());
    }
    hex(&h.finalize())[..16].to_string()
}

/// Where imported rows come from: the workspace and the WordPress source.
pub struct Scope<'a> {
    pub tenant_id: i64,
    pub source: &'a str,
}

#[derive(Debug, Default)]
pub struct Outcome {
    /// Source id → our id, for every row that is imported (now or by an earlier run).
    pub ids: HashMap<String, i64>,
    pub inserted: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub skipped: Vec<(String, String)>,
    /// Rows expected in Postgres, and found there.
    pub expected: i64,
    pub found: i64,
    pub source_hash: String,
    pub imported_hash: String,
    /// Rows written by this run whose stored content differs from what was written (must be none).
    pub mismatched: Vec<String>,
    /// Rows not written by this run (unchanged in the source) that were edited in IGNY8 since: kept.
    pub edited: i64,
}

#[derive(diesel::QueryableByName)]
struct MapRow {
    #[diesel(sql_type = Text)]
    source_id: String,
    #[diesel(sql_type = BigInt)]
    target_id: i64,
    #[diesel(sql_type = Text)]
    row_hash: String,
    #[diesel(sql_type = Bool)]
    present: bool,
}

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(diesel::QueryableByName)]
struct Hashed {
    #[diesel(sql_type = Text)]
    source_id: String,
    #[diesel(sql_type = Text)]
    h: String,
}

fn array_type(k: Kind) -> &'static str {
    match k {
        Kind::Text | Kind::List => "text[]",
        Kind::Int => "int8[]",
        Kind::Float => "float8[]",
        Kind::Bool => "bool[]",
        Kind::Time => "timestamptz[]",
    }
}

/// `unnest($n::int8[], $n+1::…[], …) AS u(id, c0, c1, …)` with ids first.
fn unnest(target: &Target, first_bind: usize) -> String {
    let types: Vec<String> = std::iter::once("int8[]")
        .chain(target.cols.iter().map(|c| array_type(c.kind)))
        .enumerate()
        .map(|(i, t)| format!("${}::{t}", first_bind + i))
        .collect();
    let names: Vec<String> = std::iter::once("id".to_string()).chain((0..target.cols.len()).map(|i| format!("c{i}"))).collect();
    format!("unnest({}) AS u({})", types.join(", "), names.join(", "))
}

fn value_expr(c: &Col, i: usize, on_update: bool) -> String {
    match c.kind {
        Kind::List => format!("ARRAY(SELECT jsonb_array_elements_text(u.c{i}::jsonb))"),
        Kind::Time if on_update => format!("coalesce(u.c{i}, t.{})", c.name),
        Kind::Time => format!("coalesce(u.c{i}, now())"),
        _ => format!("u.c{i}"),
    }
}

fn bind_rows<'a>(mut q: BoxedSqlQuery<'a, Pg, SqlQuery>, target: &Target, rows: &[(&Row, i64)]) -> BoxedSqlQuery<'a, Pg, SqlQuery> {
    q = q.bind::<Array<BigInt>, _>(rows.iter().map(|(_, id)| *id).collect::<Vec<i64>>());
    for (i, c) in target.cols.iter().enumerate() {
        let vals = rows.iter().map(|(r, _)| &r.vals[i]);
        q = match c.kind {
            Kind::Text => q.bind::<Array<Nullable<Text>>, _>(
                vals.map(|v| if let Val::Text(s) = v { Some(s.clone()) } else { None }).collect::<Vec<Option<String>>>(),
            ),
            Kind::List => q.bind::<Array<Nullable<Text>>, _>(
                vals.map(|v| match v {
                    Val::List(l) => Some(serde_json::to_string(l).unwrap_or_else(|_| "[]".into())),
                    _ => Some("[]".to_string()),
                })
                .collect::<Vec<Option<String>>>(),
            ),
            Kind::Int => q.bind::<Array<Nullable<BigInt>>, _>(
                vals.map(|v| if let Val::Int(n) = v { Some(*n) } else { None }).collect::<Vec<Option<i64>>>(),
            ),
            Kind::Float => q.bind::<Array<Nullable<Float8>>, _>(
                vals.map(|v| if let Val::Float(f) = v { Some(*f) } else { None }).collect::<Vec<Option<f64>>>(),
            ),
            Kind::Bool => q.bind::<Array<Nullable<Bool>>, _>(
                vals.map(|v| if let Val::Bool(b) = v { Some(*b) } else { None }).collect::<Vec<Option<bool>>>(),
            ),
            Kind::Time => q.bind::<Array<Nullable<Timestamptz>>, _>(
                vals.map(|v| if let Val::Time(t) = v { Some(*t) } else { None }).collect::<Vec<Option<DateTime<Utc>>>>(),
            ),
        };
    }
    q
}

/// The Postgres side of `row_hash`, over the target row `t` and its map row `m`.
fn hash_expr(target: &Target) -> String {
    let parts: Vec<String> = target
        .cols
        .iter()
        .filter(|c| c.kind != Kind::Time)
        .map(|c| {
            let e = match c.kind {
                Kind::Text => format!("t.{}", c.name),
                Kind::Int | Kind::Bool => format!("t.{}::text", c.name),
                Kind::Float => format!("round(t.{}::numeric, 4)::text", c.name),
                Kind::List => format!("array_to_string(t.{}, chr(29))", c.name),
                Kind::Time => unreachable!(),
            };
            format!("coalesce({e}, chr(1))")
        })
        .collect();
    format!("encode(sha256(convert_to(m.source_id || chr(30) || {}, 'UTF8')), 'hex')", parts.join(" || chr(31) || "))
}

/// Writes one table's rows and checks them. `skipped` are rows the transformation already refused.
pub async fn sync_table(
    conn: &mut AsyncPgConnection,
    scope: &Scope<'_>,
    source_table: &str,
    target: &Target,
    rows: Vec<Row>,
) -> AppResult<Outcome> {
    let mut out = Outcome::default();
    let clock = std::time::Instant::now();
    let known: Vec<MapRow> = diesel::sql_query(format!(
        "SELECT m.source_id, m.target_id, m.row_hash, (t.id IS NOT NULL) AS present FROM migration_map m \
         LEFT JOIN {table} t ON t.tenant_id = m.tenant_id AND t.id = m.target_id \
         WHERE m.tenant_id = $1 AND m.source = $2 AND m.source_table = $3",
        table = target.table
    ))
    .bind::<BigInt, _>(scope.tenant_id)
    .bind::<Text, _>(scope.source)
    .bind::<Text, _>(source_table)
    .load(conn)
    .await?;
    let known: HashMap<String, MapRow> = known.into_iter().map(|m| (m.source_id.clone(), m)).collect();

    let mut hashes: HashMap<String, String> = HashMap::with_capacity(rows.len());
    let (mut new, mut changed): (Vec<Row>, Vec<(Row, i64)>) = (vec![], vec![]);
    for row in rows {
        let h = row_hash(target, &row);
        match known.get(&row.source_id) {
            None => {
                hashes.insert(row.source_id.clone(), h);
                new.push(row);
            }
            Some(m) if !m.present => {
                out.skipped.push((row.source_id.clone(), "deleted in IGNY8 after an earlier import; not brought back".into()));
            }
            Some(m) => {
                out.ids.insert(row.source_id.clone(), m.target_id);
                hashes.insert(row.source_id.clone(), h.clone());
                if m.row_hash == h {
                    out.unchanged += 1;
                } else {
                    changed.push((row, m.target_id));
                }
            }
        }
    }
    let mut written: HashSet<String> = HashSet::new();
    let planned = clock.elapsed();
    let mut map_rows: Vec<(String, i64)> = vec![];

    // New rows: ids up front, then one INSERT per batch; a row that hits a unique index is left out.
    let insert_sql = format!(
        "INSERT INTO {table} (tenant_id, id, {cols}) OVERRIDING SYSTEM VALUE SELECT $1, u.id, {vals} FROM {unnest} \
         ON CONFLICT DO NOTHING RETURNING id",
        table = target.table,
        cols = target.cols.iter().map(|c| c.name).collect::<Vec<_>>().join(", "),
        vals = target.cols.iter().enumerate().map(|(i, c)| value_expr(c, i, false)).collect::<Vec<_>>().join(", "),
        unnest = unnest(target, 2),
    );
    let plain_sql = insert_sql.replace(" ON CONFLICT DO NOTHING RETURNING id", "");
    for chunk in new.chunks(BATCH) {
        let ids: Vec<Id> = diesel::sql_query(format!(
            "SELECT nextval(pg_get_serial_sequence('{}', 'id')) AS id FROM generate_series(1, $1)",
            target.table
        ))
        .bind::<BigInt, _>(chunk.len() as i64)
        .load(conn)
        .await?;
        let pairs: Vec<(&Row, i64)> = chunk.iter().zip(ids.iter().map(|i| i.id)).collect();
        // A plain INSERT first (checking every unique index speculatively costs about as much again); only a
        // batch that hits one is redone with ON CONFLICT DO NOTHING, which leaves those rows out.
        conn.batch_execute("SAVEPOINT igny8_import_insert").await?;
        let plain = bind_rows(diesel::sql_query(plain_sql.clone()).into_boxed().bind::<BigInt, _>(scope.tenant_id), target, &pairs);
        let got: HashSet<i64> = match plain.execute(conn).await {
            Ok(_) => {
                conn.batch_execute("RELEASE SAVEPOINT igny8_import_insert").await?;
                pairs.iter().map(|(_, id)| *id).collect()
            }
            Err(e) if crate::db::is_unique_violation(&e) => {
                conn.batch_execute("ROLLBACK TO SAVEPOINT igny8_import_insert; RELEASE SAVEPOINT igny8_import_insert").await?;
                let q = bind_rows(diesel::sql_query(insert_sql.clone()).into_boxed().bind::<BigInt, _>(scope.tenant_id), target, &pairs);
                q.load::<Id>(conn).await?.into_iter().map(|i| i.id).collect()
            }
            Err(e) => return Err(e.into()),
        };
        for (row, id) in pairs {
            if got.contains(&id) {
                out.inserted += 1;
                out.ids.insert(row.source_id.clone(), id);
                written.insert(row.source_id.clone());
                map_rows.push((row.source_id.clone(), id));
            } else {
                hashes.remove(&row.source_id);
                out.skipped.push((row.source_id.clone(), format!("already in the workspace ({})", describe(target, row))));
            }
        }
    }

    // Changed rows: a batch UPDATE; when it trips over a unique index, row by row so only that row is left out.
    let sets: Vec<String> = target.cols.iter().enumerate().map(|(i, c)| format!("{} = {}", c.name, value_expr(c, i, true))).collect();
    let update_sql = format!(
        "UPDATE {table} AS t SET {sets}, updated_at = now() FROM {unnest} WHERE t.tenant_id = $1 AND t.id = u.id RETURNING t.id",
        table = target.table,
        sets = sets.join(", "),
        unnest = unnest(target, 2),
    );
    for chunk in changed.chunks(BATCH) {
        let pairs: Vec<(&Row, i64)> = chunk.iter().map(|(r, id)| (r, *id)).collect();
        conn.batch_execute("SAVEPOINT igny8_import_update").await?;
        let q = bind_rows(diesel::sql_query(update_sql.clone()).into_boxed().bind::<BigInt, _>(scope.tenant_id), target, &pairs);
        match q.load::<Id>(conn).await {
            Ok(_) => {
                conn.batch_execute("RELEASE SAVEPOINT igny8_import_update").await?;
                for (row, id) in pairs {
                    out.updated += 1;
                    written.insert(row.source_id.clone());
                    map_rows.push((row.source_id.clone(), id));
                }
            }
            Err(e) if crate::db::is_unique_violation(&e) => {
                conn.batch_execute("ROLLBACK TO SAVEPOINT igny8_import_update").await?;
                for (row, id) in pairs {
                    let q = bind_rows(
                        diesel::sql_query(update_sql.clone()).into_boxed().bind::<BigInt, _>(scope.tenant_id),
                        target,
                        &[(row, id)],
                    );
                    match q.load::<Id>(conn).await {
                        Ok(_) => {
                            conn.batch_execute("RELEASE SAVEPOINT igny8_import_update; SAVEPOINT igny8_import_update").await?;
                            out.updated += 1;
                            written.insert(row.source_id.clone());
                            map_rows.push((row.source_id.clone(), id));
                        }
                        Err(e) if crate::db::is_unique_violation(&e) => {
                            conn.batch_execute("ROLLBACK TO SAVEPOINT igny8_import_update").await?;
                            // The row keeps what it had; it is checked against that, not against the change.
                            hashes.remove(&row.source_id);
                            out.ids.remove(&row.source_id);
                            out.skipped.push((
                                row.source_id.clone(),
                                format!(
                                    "changed in the source, but the change would duplicate another row ({}); kept as it was",
                                    describe(target, row)
                                ),
                            ));
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                conn.batch_execute("RELEASE SAVEPOINT igny8_import_update").await?;
            }
            Err(e) => return Err(e.into()),
        }
    }

    let wrote = clock.elapsed();
    // The map: what each written row is, and the hash it was written with.
    for chunk in map_rows.chunks(10_000) {
        diesel::sql_query(
            "INSERT INTO migration_map (tenant_id, source, source_table, source_id, target_id, row_hash) \
             SELECT $1, $2, $3, u.s, u.t, u.h FROM unnest($4::text[], $5::int8[], $6::text[]) AS u(s, t, h) \
             ON CONFLICT (tenant_id, source, source_table, source_id) \
             DO UPDATE SET target_id = EXCLUDED.target_id, row_hash = EXCLUDED.row_hash, updated_at = now()",
        )
        .bind::<BigInt, _>(scope.tenant_id)
        .bind::<Text, _>(scope.source)
        .bind::<Text, _>(source_table)
        .bind::<Array<Text>, _>(chunk.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(chunk.iter().map(|(_, t)| *t).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(chunk.iter().map(|(s, _)| hashes.get(s).map(String::as_str).unwrap_or("")).collect::<Vec<_>>())
        .execute(conn)
        .await?;
    }

    let mapped = clock.elapsed();
    // Read every imported row back and hash it where it is stored (map rows of source rows that are gone from
    // the source are read too, and ignored).
    let got: Vec<Hashed> = diesel::sql_query(format!(
        "SELECT m.source_id, {h} AS h FROM migration_map m JOIN {table} t ON t.tenant_id = m.tenant_id AND t.id = m.target_id \
         WHERE m.tenant_id = $1 AND m.source = $2 AND m.source_table = $3",
        h = hash_expr(target),
        table = target.table
    ))
    .bind::<BigInt, _>(scope.tenant_id)
    .bind::<Text, _>(scope.source)
    .bind::<Text, _>(source_table)
    .load(conn)
    .await?;
    let stored: HashMap<String, String> =
        got.into_iter().filter(|g| hashes.contains_key(&g.source_id)).map(|g| (g.source_id, g.h)).collect();
    out.expected = hashes.len() as i64;
    out.found = stored.len() as i64;
    for (sid, h) in &hashes {
        match stored.get(sid) {
            Some(s) if s == h => {}
            Some(_) if !written.contains(sid) => out.edited += 1,
            _ => out.mismatched.push(sid.clone()),
        }
    }
    out.mismatched.sort();
    tracing::debug!(table = target.table, ?planned, ?wrote, ?mapped, checked = ?clock.elapsed(), "import: table written and checked");
    out.source_hash = table_hash(hashes.into_values().collect());
    out.imported_hash = table_hash(stored.into_values().collect());
    Ok(out)
}

/// A few words naming a row in a report line (its first text column).
fn describe(target: &Target, row: &Row) -> String {
    target
        .cols
        .iter()
        .zip(&row.vals)
        .find_map(|(c, v)| match v {
            Val::Text(s) if c.kind == Kind::Text => Some(format!("{} “{}”", c.name, super::values::cut(s, 60))),
            _ => None,
        })
        .unwrap_or_else(|| format!("source row {}", row.source_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Target =
        Target { table: "x", cols: &[col("a", Kind::Text), col("b", Kind::Float), col("c", Kind::Time), col("d", Kind::List)] };

    #[test]
    fn row_hash_ignores_times_and_separates_fields() {
        let r = |c| Row {
            source_id: "7".into(),
            vals: vec![Val::Text("k".into()), Val::Float(0.45), c, Val::List(vec!["a".into(), "b".into()])],
        };
        assert_eq!(row_hash(&T, &r(Val::Null)), row_hash(&T, &r(Val::Time(Utc::now()))));
        let mut other = r(Val::Null);
        other.vals[0] = Val::Text("k\u{1f}0.4500".into());
        other.vals[1] = Val::Null;
        assert_ne!(row_hash(&T, &r(Val::Null)), row_hash(&T, &other));
        assert_eq!(table_hash(vec!["b".into(), "a".into()]), table_hash(vec!["a".into(), "b".into()]));
    }
}
