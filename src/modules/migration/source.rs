//! Reading the plugin's database: one MySQL/MariaDB connection inside a consistent read-only snapshot (rows
//! added while the import runs are for the next run), the columns each table really has, rows in id order
//! in batches. The connection speaks `SET NAMES binary`, so every value arrives as the bytes stored and text
//! is decoded here (`values`), where a byte sequence that is not UTF-8 can be noticed and reported.

use std::collections::HashMap;

use mysql_async::prelude::*;
use mysql_async::{Conn, Opts, Value};

use super::mapping::{Field, SourceTable};

/// A value as stored: NULL or its bytes (text protocol: numbers and dates are text too).
pub type Raw = Option<Vec<u8>>;

/// Rows per SELECT.
pub const BATCH: usize = 5_000;

pub struct Source {
    conn: Conn,
    pub prefix: String,
    /// `host:port/database`, for the report (never the password).
    pub location: String,
    tables: Vec<String>,
}

/// A plugin table as found: its full name, the id column, and for each field the column that holds it.
pub struct Found {
    pub table: String,
    pub id: String,
    pub columns: Vec<Option<String>>,
}

/// One source row: its id and the fields of its `SourceTable` in order (None where the column is absent).
pub struct SourceRow {
    pub id: i64,
    pub vals: Vec<Raw>,
}

fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn text_of(v: Value) -> String {
    match v {
        Value::Bytes(b) => String::from_utf8_lossy(&b).into_owned(),
        Value::NULL => String::new(),
        other => other.as_sql(true),
    }
}

fn raw_of(v: Value) -> Raw {
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(b),
        other => Some(other.as_sql(true).into_bytes()),
    }
}

/// The URL as the report shows it: without the password.
pub fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((cred, host)) => format!("{scheme}://{}@{host}", cred.split(':').next().unwrap_or("")),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

impl Source {
    pub async fn open(url: &str, prefix: &str) -> anyhow::Result<Source> {
        let opts = Opts::from_url(url)
            .map_err(|e| anyhow::anyhow!("--mysql: not a MySQL URL ({e}); expected mysql://user:password@host:3306/database"))?;
        let db = opts.db_name().map(str::to_string).filter(|d| !d.is_empty());
        let db = db.ok_or_else(|| anyhow::anyhow!("--mysql: the URL names no database (mysql://user:password@host:3306/DATABASE)"))?;
        let location = match opts.socket() {
            Some(s) => format!("{s}/{db}"),
            None => format!("{}:{}/{db}", opts.ip_or_hostname(), opts.tcp_port()),
        };
        let mut conn = Conn::new(opts).await.map_err(|e| anyhow::anyhow!("cannot connect to MySQL at {location}: {e}"))?;
        // Bytes as stored; one snapshot for every table, read-only.
        conn.query_drop("SET NAMES binary").await?;
        conn.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ").await?;
        conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY").await?;
        let tables: Vec<Value> = conn.query("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()").await?;
        let tables = tables.into_iter().map(text_of).collect();
        Ok(Source { conn, prefix: prefix.to_string(), location, tables })
    }

    pub fn full(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    pub fn has_table(&self, name: &str) -> bool {
        let full = self.full(name);
        self.tables.iter().any(|t| t.eq_ignore_ascii_case(&full))
    }

    /// Plugin tables (`{prefix}igny8_*`) present in the database.
    pub fn plugin_tables(&self) -> Vec<String> {
        let lead = self.full("igny8_").to_ascii_lowercase();
        let mut out: Vec<String> = self.tables.iter().filter(|t| t.to_ascii_lowercase().starts_with(&lead)).cloned().collect();
        out.sort();
        out
    }

    async fn columns(&mut self, table: &str) -> anyhow::Result<Vec<String>> {
        let cols: Vec<Value> = self
            .conn
            .exec(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position",
                (table,),
            )
            .await?;
        Ok(cols.into_iter().map(text_of).collect())
    }

    /// Finds which column holds each field; a missing required field (or id) stops the import.
    pub async fn find(&mut self, t: &SourceTable) -> anyhow::Result<Found> {
        let table = self.full(t.name);
        let cols = self.columns(&table).await.map_err(|e| anyhow::anyhow!("{table}: cannot list its columns: {e}"))?;
        let pick = |cands: &[&str]| cands.iter().find_map(|c| cols.iter().find(|x| x.eq_ignore_ascii_case(c)).cloned());
        let id = pick(t.id).ok_or_else(|| anyhow::anyhow!("{table}: no id column (looked for {})", t.id.join(", ")))?;
        let mut columns = Vec::with_capacity(t.fields.len());
        for Field { name, columns: cands, required } in t.fields {
            let c = pick(cands);
            if c.is_none() && *required {
                anyhow::bail!("{table}: no column for {name} (looked for {}); correct src/modules/migration/mapping.rs", cands.join(", "));
            }
            columns.push(c);
        }
        Ok(Found { table, id, columns })
    }

    pub async fn count(&mut self, table: &str) -> anyhow::Result<i64> {
        let n: Option<i64> = self
            .conn
            .query_first(format!("SELECT COUNT(*) FROM {}", ident(table)))
            .await
            .map_err(|e| anyhow::anyhow!("{table}: cannot be read: {e}"))?;
        Ok(n.unwrap_or(0))
    }

    /// Every row of a found table, in id order (fetched `BATCH` at a time).
    pub async fn rows(&mut self, f: &Found) -> anyhow::Result<Vec<SourceRow>> {
        let present: Vec<&String> = f.columns.iter().flatten().collect();
        let mut select = vec![format!("CAST({} AS SIGNED)", ident(&f.id))];
        select.extend(present.iter().map(|c| ident(c)));
        let mut out = Vec::new();
        let mut after = i64::MIN;
        loop {
            let sql = format!(
                "SELECT {} FROM {} WHERE {} > {after} ORDER BY {} LIMIT {BATCH}",
                select.join(", "),
                ident(&f.table),
                ident(&f.id),
                ident(&f.id)
            );
            let rows: Vec<mysql_async::Row> =
                self.conn.query(sql).await.map_err(|e| anyhow::anyhow!("{}: cannot be read: {e}", f.table))?;
            let n = rows.len();
            for row in rows {
                let mut vals = row.unwrap().into_iter();
                let id = vals.next().map(text_of).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
                let mut got = vals.map(raw_of);
                let vals = f.columns.iter().map(|c| if c.is_some() { got.next().flatten() } else { None }).collect();
                after = id;
                out.push(SourceRow { id, vals });
            }
            if n < BATCH {
                break;
            }
        }
        Ok(out)
    }

    /// `{prefix}options` rows with these names or starting with `igny8_`: (option_id, name, value).
    pub async fn options(&mut self, names: &[&str], prefix: &str) -> anyhow::Result<Vec<(i64, String, Raw)>> {
        let table = self.full("options");
        let mut sql = format!("SELECT option_id, option_name, option_value FROM {} WHERE option_name LIKE ?", ident(&table));
        sql.push_str(&" OR option_name = ?".repeat(names.len()));
        sql.push_str(" ORDER BY option_id");
        let mut params: Vec<Value> = vec![Value::from(format!("{}%", prefix.replace('_', "\\_")))];
        params.extend(names.iter().map(|n| Value::from(*n)));
        let rows: Vec<(Value, Value, Value)> =
            self.conn.exec(sql, params).await.map_err(|e| anyhow::anyhow!("{table}: cannot be read: {e}"))?;
        Ok(rows.into_iter().map(|(id, n, v)| (text_of(id).parse().unwrap_or(0), text_of(n), raw_of(v))).collect())
    }

    /// Posts by id (`{prefix}posts`), any type and status.
    pub async fn posts(&mut self, ids: &[i64]) -> anyhow::Result<HashMap<i64, Post>> {
        let table = self.full("posts");
        let mut out = HashMap::new();
        for chunk in ids.chunks(1_000) {
            let list = chunk.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
            let sql = format!(
                "SELECT ID, post_title, post_content, post_status, post_type, post_name, post_author, post_date_gmt FROM {} WHERE ID IN ({list})",
                ident(&table)
            );
            let rows: Vec<mysql_async::Row> = self.conn.query(sql).await.map_err(|e| anyhow::anyhow!("{table}: cannot be read: {e}"))?;
            for row in rows {
                let mut v = row.unwrap().into_iter();
                let id: i64 = v.next().map(text_of).and_then(|s| s.parse().ok()).unwrap_or(0);
                let mut next = || v.next().and_then(raw_of);
                let post = Post {
                    title: next(),
                    content: next(),
                    status: next(),
                    post_type: next(),
                    slug: next(),
                    author: next().and_then(|b| String::from_utf8(b).ok()).and_then(|s| s.parse().ok()),
                    date_gmt: next(),
                };
                out.insert(id, post);
            }
        }
        Ok(out)
    }

    /// `(post_id, meta_key, meta_value)` of these keys, for these posts (or for every post when `ids` is None).
    pub async fn postmeta(&mut self, keys: &[&str], ids: Option<&[i64]>) -> anyhow::Result<Vec<(i64, String, Raw)>> {
        let table = self.full("postmeta");
        let marks = vec!["?"; keys.len()].join(",");
        let params: Vec<Value> = keys.iter().map(|k| Value::from(*k)).collect();
        let mut out = Vec::new();
        let chunks: Vec<Option<String>> = match ids {
            None => vec![None],
            Some(ids) => ids.chunks(1_000).map(|c| Some(c.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","))).collect(),
        };
        for list in chunks {
            let filter = list.map(|l| format!(" AND post_id IN ({l})")).unwrap_or_default();
            let sql =
                format!("SELECT post_id, meta_key, meta_value FROM {} WHERE meta_key IN ({marks}){filter} ORDER BY meta_id", ident(&table));
            let rows: Vec<(Value, Value, Value)> =
                self.conn.exec(sql, params.clone()).await.map_err(|e| anyhow::anyhow!("{table}: cannot be read: {e}"))?;
            out.extend(rows.into_iter().map(|(p, k, v)| (text_of(p).parse().unwrap_or(0), text_of(k), raw_of(v))));
        }
        Ok(out)
    }

    /// `(ID, user_login, display_name, user_email)` of these users.
    pub async fn users(&mut self, ids: &[i64]) -> anyhow::Result<Vec<(i64, String, String, String)>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let table = self.full("users");
        let list = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let sql = format!("SELECT ID, user_login, display_name, user_email FROM {} WHERE ID IN ({list}) ORDER BY ID", ident(&table));
        let rows: Vec<(Value, Value, Value, Value)> =
            self.conn.query(sql).await.map_err(|e| anyhow::anyhow!("{table}: cannot be read: {e}"))?;
        Ok(rows.into_iter().map(|(i, l, d, e)| (text_of(i).parse().unwrap_or(0), text_of(l), text_of(d), text_of(e))).collect())
    }

    pub async fn close(self) {
        let _ = self.conn.disconnect().await;
    }
}

/// A WordPress post as the import needs it.
pub struct Post {
    pub title: Raw,
    pub content: Raw,
    pub status: Raw,
    pub post_type: Raw,
    pub slug: Raw,
    pub author: Option<i64>,
    pub date_gmt: Raw,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_password_never_reaches_the_report() {
        assert_eq!(super::redact("mysql://wp:s3cret@db.example:3306/wordpress"), "mysql://wp@db.example:3306/wordpress");
        assert_eq!(super::redact("mysql://db.example/wordpress"), "mysql://db.example/wordpress");
    }
}
