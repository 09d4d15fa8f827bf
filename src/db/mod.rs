//! Postgres: the connection pool, embedded migrations and small shared query helpers.

pub mod counts;
pub mod schema;
pub mod text_enum;

use std::time::Duration;

use diesel_async::RunQueryDsl;
use diesel_async::pooled_connection::deadpool::{Hook, HookError, Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncMigrationHarness, AsyncPgConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type DbPool = Pool<AsyncPgConnection>;
pub type DbConn = Object<AsyncPgConnection>;

pub fn pool(database_url: &str, max_size: usize) -> anyhow::Result<DbPool> {
    // Fast recycling: no verification query on every checkout (a broken connection fails its query and
    // is dropped by the pool); the default "verified" mode costs one extra round trip per request.
    let mut cfg = ManagerConfig::default();
    cfg.recycling_method = RecyclingMethod::Fast;
    let mgr = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, cfg);
    Ok(Pool::builder(mgr)
        .max_size(max_size)
        // A future dropped mid-transaction leaves its connection idle in the pool with the transaction
        // open (and its row locks held) until the next checkout discards it. Postgres ends such a
        // session after a minute, so a forgotten lock can never block the queue or a tenant for long.
        .post_create(Hook::async_fn(|conn, _| {
            Box::pin(async move {
                let conn: &mut AsyncPgConnection = conn;
                diesel::sql_query("SET idle_in_transaction_session_timeout = '60s'")
                    .execute(conn)
                    .await
                    .map_err(|e| HookError::Backend(diesel_async::pooled_connection::PoolError::QueryError(e)))?;
                Ok(())
            })
        }))
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(5)))
        .create_timeout(Some(Duration::from_secs(5)))
        .build()?)
}

/// Closes a pooled connection instead of returning it to the pool: a connection that carried large messages
/// (stored uploads, batch inserts of thousands of rows) keeps read and write buffers that size for as long as it
/// lives. The pool opens a fresh one when it needs it.
pub fn retire(conn: DbConn) {
    drop(Object::take(conn));
}

/// Applies every pending embedded migration; returns the versions applied.
/// Needs the multi-threaded runtime (the harness uses `block_in_place`).
pub async fn migrate(pool: &DbPool) -> anyhow::Result<Vec<String>> {
    let conn = pool.get().await.map_err(|e| anyhow::anyhow!("cannot connect to Postgres: {e}"))?;
    let mut harness = AsyncMigrationHarness::new(conn);
    let applied = harness.run_pending_migrations(MIGRATIONS).map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

/// `like` pattern for a user's search text, with `%`, `_` and `\` taken literally.
pub fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// True when a diesel error is a unique-constraint violation (a duplicate the user should hear about).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}
