//! What the workspace tests share: every tenant table (from the catalog), row counts per workspace, a fixture
//! that puts rows into every one of them, and a reader for the export's zip.

use std::collections::BTreeMap;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

/// Rows in every tenant table of the test's database.
const FILL: &str = include_str!("fill.sql");

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Every base table with a `tenant_id` column, read here independently of the app's own lookup.
pub async fn tenant_tables(conn: &mut AsyncPgConnection) -> Vec<String> {
    let rows: Vec<Name> = diesel::sql_query(
        "SELECT c.table_name::text AS name FROM information_schema.columns c
           JOIN information_schema.tables t USING (table_schema, table_name)
          WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'
          ORDER BY 1",
    )
    .load(conn)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.name).collect()
}

/// Rows per tenant table for one workspace.
pub async fn counts(conn: &mut AsyncPgConnection, tenant_id: i64) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for t in tenant_tables(conn).await {
        let c: Count = diesel::sql_query(format!("SELECT count(*)::bigint AS n FROM {t} WHERE tenant_id = {tenant_id}"))
            .get_result(conn)
            .await
            .unwrap();
        out.insert(t, c.n);
    }
    out
}

/// Puts rows tagged `tag` into every tenant table for the workspace (`user_id` is one of its members), and checks
/// that no tenant table is left empty — a new table must be added to the fixture, so the tests cover it.
pub async fn fill(conn: &mut AsyncPgConnection, tenant_id: i64, user_id: i64, tag: &str) {
    let sql = FILL.replace("{t}", &tenant_id.to_string()).replace("{u}", &user_id.to_string()).replace("{tag}", tag);
    conn.batch_execute(&sql).await.unwrap();
    let empty: Vec<String> = counts(conn, tenant_id).await.into_iter().filter(|(_, n)| *n == 0).map(|(t, _)| t).collect();
    assert!(empty.is_empty(), "tests/it/workspaces/fill.sql puts no row into {empty:?}: add one");
}

fn u16at(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes([b[at], b[at + 1]]) as usize
}

fn u32at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// The files of a zip with stored entries, read from its central directory (CRC checked).
pub fn unzip(zip: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let end = zip.len() - 22;
    assert_eq!(u32at(zip, end), 0x0605_4b50, "a zip end record");
    let (n, mut at) = (u16at(zip, end + 10), u32at(zip, end + 16));
    let mut out = BTreeMap::new();
    for _ in 0..n {
        assert_eq!(u32at(zip, at), 0x0201_4b50, "a central directory entry");
        assert_eq!(u16at(zip, at + 10), 0, "stored");
        let (crc, size, name_len) = (u32at(zip, at + 16) as u32, u32at(zip, at + 24), u16at(zip, at + 28));
        let name = String::from_utf8(zip[at + 46..at + 46 + name_len].to_vec()).unwrap();
        let local = u32at(zip, at + 42);
        assert_eq!(u32at(zip, local), 0x0403_4b50, "a local header");
        let data_at = local + 30 + u16at(zip, local + 26) + u16at(zip, local + 28);
        let data = zip[data_at..data_at + size].to_vec();
        assert_eq!(crc32fast::hash(&data), crc, "CRC of {name}");
        out.insert(name, data);
        at += 46 + name_len;
    }
    out
}
