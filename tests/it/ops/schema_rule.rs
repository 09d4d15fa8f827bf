//! The schema stays distributable by tenant (docs/SCALING.md): read from the migrated database's catalog, every
//! tenant table has `tenant_id NOT NULL`, its primary key and every unique index lead with `tenant_id`, and every
//! foreign key between tenant tables carries `tenant_id` on both sides. Tables without `tenant_id` must be one of
//! the known global (reference) tables, so a new one is a decision, not an accident.

use std::collections::{BTreeMap, BTreeSet};

use diesel::QueryableByName;
use diesel::sql_types::{Array, Bool, Int2, Text};
use diesel_async::RunQueryDsl;

use crate::harness::TestApp;

/// Tables without tenant_id, and why each may be global.
const GLOBAL: [(&str, &str); 13] = [
    ("tenants", "the distribution table itself (distributed by id, co-located with the tenant tables)"),
    ("users", "an account can belong to several workspaces (reference table)"),
    ("sessions", "a sign-in belongs to a user, before a workspace is chosen (reference table)"),
    ("account_tokens", "a mailed reset/verification link belongs to a user, not a workspace (reference table)"),
    ("plans", "reference data (reference table)"),
    ("model_rates", "reference data: AI prices (reference table)"),
    ("system_settings", "reference data: cadences and retention (reference table)"),
    ("cron_slots", "one row per scheduled slot across all workspaces (reference table)"),
    ("job_workers", "one row per worker process, whichever workspaces its jobs belong to (reference table)"),
    ("platform_ai_providers", "the platform's own AI provider accounts, serving every workspace (reference table)"),
    ("platform_ai_purposes", "which platform provider and model serve each purpose (reference table)"),
    ("stripe_events", "Stripe's events, deduplicated by Stripe's id before the workspace they concern is known (reference table)"),
    ("__diesel_schema_migrations", "migration bookkeeping"),
];

#[derive(QueryableByName)]
struct TableRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Bool>)]
    tenant_not_null: Option<bool>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Int2>)]
    tenant_attnum: Option<i16>,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    table: String,
    #[diesel(sql_type = Text)]
    index: String,
    #[diesel(sql_type = Bool)]
    primary: bool,
    /// Key columns in order (0 = an expression).
    #[diesel(sql_type = Array<Int2>)]
    keys: Vec<i16>,
}

#[derive(QueryableByName)]
struct ForeignKey {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    from_table: String,
    #[diesel(sql_type = Text)]
    to_table: String,
    #[diesel(sql_type = Array<Int2>)]
    from_cols: Vec<i16>,
    #[diesel(sql_type = Array<Int2>)]
    to_cols: Vec<i16>,
}

/// What breaks the rule in the database `conn` is connected to; also the number of tenant tables and of
/// foreign keys into them (so a test can see the check looked at something).
async fn rule_problems(conn: &mut diesel_async::AsyncPgConnection) -> (Vec<String>, usize, usize) {
    let tables: Vec<TableRow> = diesel::sql_query(
        "SELECT c.relname::text AS name, a.attnotnull AS tenant_not_null, a.attnum AS tenant_attnum
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1",
    )
    .load(conn)
    .await
    .unwrap();
    let indexes: Vec<IndexRow> = diesel::sql_query(
        "SELECT c.relname::text AS table, i.relname::text AS index, ix.indisprimary AS primary,
                (ix.indkey::int2[])[0:ix.indnkeyatts - 1] AS keys
         FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class c ON c.oid = ix.indrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND (ix.indisunique OR ix.indisprimary) ORDER BY 1, 2",
    )
    .load(conn)
    .await
    .unwrap();
    let fks: Vec<ForeignKey> = diesel::sql_query(
        "SELECT con.conname::text AS name, src.relname::text AS from_table, dst.relname::text AS to_table,
                con.conkey AS from_cols, con.confkey AS to_cols
         FROM pg_constraint con JOIN pg_class src ON src.oid = con.conrelid JOIN pg_class dst ON dst.oid = con.confrelid
         JOIN pg_namespace n ON n.oid = src.relnamespace
         WHERE con.contype = 'f' AND n.nspname = 'public' ORDER BY 1",
    )
    .load(conn)
    .await
    .unwrap();

    let global: BTreeMap<&str, &str> = GLOBAL.into_iter().collect();
    let tenant_col: BTreeMap<&str, i16> = tables.iter().filter_map(|t| Some((t.name.as_str(), t.tenant_attnum?))).collect();
    let mut problems: Vec<String> = Vec::new();

    for t in &tables {
        match (t.tenant_attnum, global.contains_key(t.name.as_str())) {
            (Some(_), true) => problems.push(format!("{}: listed as global but has tenant_id", t.name)),
            (None, false) => problems.push(format!(
                "{}: no tenant_id and not a known global table — add tenant_id, or list it in GLOBAL with the reason (and in docs/SCALING.md)",
                t.name
            )),
            (Some(_), false) if t.tenant_not_null != Some(true) => problems.push(format!("{}: tenant_id must be NOT NULL", t.name)),
            _ => {}
        }
    }
    let with_pk: BTreeSet<&str> = indexes.iter().filter(|i| i.primary).map(|i| i.table.as_str()).collect();
    for (table, col) in &tenant_col {
        if !with_pk.contains(table) {
            problems.push(format!("{table}: no primary key (it must start with tenant_id)"));
        }
        for ix in indexes.iter().filter(|i| i.table == *table) {
            if <[i16]>::first(&ix.keys) != Some(col) {
                let what = if ix.primary { "primary key" } else { "unique index" };
                problems.push(format!("{table}: {what} {} does not start with tenant_id", ix.index));
            }
        }
    }
    // tenants is distributed by id: its key is (id), the column every tenant_id points at.
    let tenants_id: i16 = match indexes.iter().find(|i| i.table == "tenants" && i.primary).map(|i| i.keys.as_slice()) {
        Some([id]) => *id,
        _ => {
            problems.push("tenants: its primary key must be (id)".into());
            0
        }
    };

    for fk in &fks {
        let from_tenant = tenant_col.get(fk.from_table.as_str());
        let to_tenant = tenant_col.get(fk.to_table.as_str());
        match (from_tenant, to_tenant) {
            // Between tenant tables: tenant_id on both sides, in the same position.
            (Some(f), Some(t)) => {
                if !fk.from_cols.iter().zip(&fk.to_cols).any(|(a, b)| a == f && b == t) {
                    problems.push(format!("{} ({} → {}): does not carry tenant_id on both sides", fk.name, fk.from_table, fk.to_table));
                }
            }
            // Into the tenants table: exactly tenant_id → tenants.id.
            (Some(f), None) if fk.to_table == "tenants" => {
                if fk.from_cols != vec![*f] || fk.to_cols != vec![tenants_id] {
                    problems.push(format!("{}: a reference to tenants must be (tenant_id) → tenants(id)", fk.name));
                }
            }
            // A tenant table may point at a global (reference) table: users, plans.
            (Some(_), None) => {}
            // A global table must not point into distributed data.
            (None, Some(_)) => {
                problems.push(format!("{}: global table {} references tenant table {}", fk.name, fk.from_table, fk.to_table))
            }
            (None, None) if fk.to_table == "tenants" && fk.from_table != "tenants" => {
                problems.push(format!("{}: global table {} references tenants", fk.name, fk.from_table))
            }
            (None, None) => {}
        }
    }
    let into_tenant_tables = fks.iter().filter(|f| tenant_col.contains_key(f.to_table.as_str())).count();
    (problems, tenant_col.len(), into_tenant_tables)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_tenant_table_keys_and_references_lead_with_tenant_id() {
    let app = TestApp::spawn().await;
    let mut conn = app.db().await;
    let (problems, tenant_tables, references) = rule_problems(&mut conn).await;
    assert!(problems.is_empty(), "the schema breaks the distribution rule (docs/SCALING.md):\n  {}", problems.join("\n  "));
    assert!(tenant_tables >= 20 && references >= 10, "the check saw {tenant_tables} tenant tables and {references} references");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rule_check_names_each_kind_of_violation() {
    let app = TestApp::spawn().await;
    let mut conn = app.db().await;
    for sql in [
        "CREATE TABLE scratch_parent (tenant_id bigint NOT NULL, id bigint NOT NULL, code text, PRIMARY KEY (id))",
        "CREATE UNIQUE INDEX scratch_parent_code ON scratch_parent (code, tenant_id)",
        "CREATE TABLE scratch_child (tenant_id bigint NOT NULL, parent_id bigint REFERENCES scratch_parent (id), PRIMARY KEY (tenant_id, parent_id))",
        "CREATE TABLE scratch_global (id bigint PRIMARY KEY)",
    ] {
        diesel::sql_query(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let (problems, _, _) = rule_problems(&mut conn).await;
    let all = problems.join("\n");
    for expected in [
        "scratch_parent: primary key scratch_parent_pkey does not start with tenant_id",
        "scratch_parent: unique index scratch_parent_code does not start with tenant_id",
        "scratch_child_parent_id_fkey (scratch_child → scratch_parent): does not carry tenant_id on both sides",
        "scratch_global: no tenant_id and not a known global table",
    ] {
        assert!(all.contains(expected), "missing “{expected}” in:\n{all}");
    }
    assert_eq!(problems.len(), 4, "{all}");
}
