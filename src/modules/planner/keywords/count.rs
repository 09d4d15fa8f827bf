//! "N matching" for the keywords list, cached in Redis under the tenant's keyword revision (bumped by a
//! trigger on every statement that changes its keywords), so paging through a filter counts it once.
//! Redis missing or failing only costs the cache: the count is then taken from Postgres every time.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::filter::{self, KeywordFilter};
use crate::app::AppState;
use crate::auth::secrets::sha256_hex;
use crate::db::schema::keyword_revisions;
use crate::error::AppResult;
use crate::kv::{self, redis};

/// Long enough to cover a working session on one filter; the revision makes it exact, not the expiry.
const TTL_SECS: u64 = 600;

/// The tenant's keyword revision (0 before its first keyword).
pub async fn revision(conn: &AsyncPgConnection, tenant_id: i64) -> AppResult<i64> {
    Ok(keyword_revisions::table.find(tenant_id).select(keyword_revisions::rev).first(&mut &*conn).await.optional()?.unwrap_or(0))
}

fn cache_key(state: &AppState, tenant_id: i64, rev: i64, f: &KeywordFilter) -> String {
    let mut plain = f.clone();
    plain.sort.clear();
    plain.dir.clear();
    kv::key(&state.config.redis_namespace, &format!("kw{tenant_id}"), &format!("count:{rev}:{}", &sha256_hex(&plain.to_query())[..16]))
}

/// The count at revision `rev`: from the cache, or counted and cached.
pub async fn at_revision(state: &AppState, conn: &AsyncPgConnection, tenant_id: i64, rev: i64, f: &KeywordFilter) -> AppResult<i64> {
    let key = cache_key(state, tenant_id, rev, f);
    let mut cache = state.redis.get().await.ok();
    if let Some(c) = cache.as_mut() {
        if let Ok(Some(n)) = redis::cmd("GET").arg(&key).query_async::<Option<i64>>(c).await {
            return Ok(n);
        }
    }
    let n: i64 = filter::matching(tenant_id, f).count().get_result(&mut &*conn).await?;
    if let Some(c) = cache.as_mut() {
        let _: Result<(), _> = redis::cmd("SET").arg(&key).arg(n).arg("EX").arg(TTL_SECS).query_async(c).await;
    }
    Ok(n)
}
