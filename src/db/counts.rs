//! "N matching" for long lists (keywords, tasks), cached in Redis under the tenant's revision of that list
//! (a trigger bumps it on every statement that changes the list's rows), so paging through one filter counts
//! once and a changed list is never shown with a stale count. Redis missing, failing or hanging only costs the
//! cache (each call is bounded by the short Redis timeout).

use std::future::Future;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::crypto::secrets::sha256_hex;
use crate::db::schema::list_revisions;
use crate::error::AppResult;
use crate::kv::{self, redis};
use crate::state::AppState;

/// Long enough to cover a working session on one filter; the revision makes it exact, not the expiry.
const TTL_SECS: u64 = 600;

/// The hash tag of a tenant's cached counts of `list`.
fn tag(list: &str, tenant_id: i64) -> String {
    format!("{list}{tenant_id}")
}

/// A SCAN pattern for every cached count of `list` for the tenant (deleting a workspace forgets them).
pub fn key_pattern(namespace: &str, list: &str, tenant_id: i64) -> String {
    kv::pattern(namespace, &tag(list, tenant_id), "count:*")
}

/// The tenant's revision of `list` (0 before its first row). Shared connection, so it can be pipelined.
pub async fn revision(conn: &AsyncPgConnection, tenant_id: i64, list: &str) -> AppResult<i64> {
    Ok(list_revisions::table
        .filter(list_revisions::tenant_id.eq(tenant_id))
        .filter(list_revisions::list.eq(list))
        .select(list_revisions::rev)
        .first(&mut &*conn)
        .await
        .optional()?
        .unwrap_or(0))
}

/// The count for `filter_key` (the filter as a canonical string) at revision `rev`: cached, or `count()`.
pub async fn cached<F, Fut>(state: &AppState, tenant_id: i64, list: &str, rev: i64, filter_key: &str, count: F) -> AppResult<i64>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = AppResult<i64>>,
{
    let key = kv::key(&state.config.redis_namespace, &tag(list, tenant_id), &format!("count:{rev}:{}", &sha256_hex(filter_key)[..16]));
    let pool = &state.redis;
    let mut cache = pool.bounded(pool.get()).await.ok();
    if let Some(c) = cache.as_mut()
        && let Ok(Some(n)) = pool.bounded(redis::cmd("GET").arg(&key).query_async::<Option<i64>>(c)).await
    {
        return Ok(n);
    }
    let n = count().await?;
    if let Some(c) = cache.as_mut() {
        let _ = pool.bounded(redis::cmd("SET").arg(&key).arg(n).arg("EX").arg(TTL_SECS).query_async::<()>(c)).await;
    }
    Ok(n)
}
