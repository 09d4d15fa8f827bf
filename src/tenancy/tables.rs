//! Which tables hold a workspace's rows: every base table of the schema with a `tenant_id` column, read from
//! information_schema when asked. Export and deletion both start here, so a table added by a later migration is
//! exported and deleted without a list anyone has to remember to update.

use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::AppResult;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantTable {
    pub name: String,
    /// Every column, in table order.
    pub columns: Vec<String>,
}

impl TenantTable {
    /// The columns never exported (sealed keys, password and token hashes).
    pub fn secret_columns(&self) -> Vec<&str> {
        self.columns.iter().map(String::as_str).filter(|c| is_secret(c)).collect()
    }
}

/// A column or JSON key that holds a secret: sealed values (`*_enc`), digests of API-token and invitation secrets
/// (`token_hash`), passwords, plugin secrets, and the sealed body of a queued mail (`sealed`, which can carry a
/// one-time link). Content digests (`row_hash`, `sha256`) are data and stay.
pub fn is_secret(name: &str) -> bool {
    name.ends_with("_enc") || name == "token_hash" || name.contains("password") || name.contains("secret") || name == "sealed"
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

/// The tenant tables of the connection's schema, by name.
pub async fn tenant_tables(conn: &mut AsyncPgConnection) -> AppResult<Vec<TenantTable>> {
    let cols: Vec<Column> = diesel::sql_query(
        "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name
           FROM information_schema.columns c
           JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
          WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
            AND EXISTS (SELECT 1 FROM information_schema.columns k
                         WHERE k.table_schema = c.table_schema AND k.table_name = c.table_name AND k.column_name = 'tenant_id')
          ORDER BY c.table_name, c.ordinal_position",
    )
    .load(conn)
    .await?;
    let mut out: Vec<TenantTable> = Vec::new();
    for c in cols {
        match out.last_mut() {
            Some(t) if t.name == c.table_name => t.columns.push(c.column_name),
            _ => out.push(TenantTable { name: c.table_name, columns: vec![c.column_name] }),
        }
    }
    Ok(out)
}

/// `"name"` — an identifier from the catalog, quoted for SQL.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'` — a string literal for SQL.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_recognised_by_name() {
        for c in ["text_api_key_enc", "app_password_enc", "plugin_secret_enc", "token_hash", "password_hash", "sealed"] {
            assert!(is_secret(c), "{c}");
        }
        for c in ["token_prefix", "sha256", "row_hash", "name", "payload", "data", "api_root"] {
            assert!(!is_secret(c), "{c}");
        }
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
