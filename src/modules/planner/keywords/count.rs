//! The keywords list's "N matching", through the shared per-revision count cache (`db::counts`).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::filter::{self, KeywordFilter};
use crate::db::counts;
use crate::error::AppResult;
use crate::listing::Filter;
use crate::state::AppState;

pub const LIST: &str = "keywords";

pub async fn revision(conn: &AsyncPgConnection, tenant_id: i64) -> AppResult<i64> {
    counts::revision(conn, tenant_id, LIST).await
}

/// The count at revision `rev` (sort and direction do not change it, so they are not part of the key).
pub async fn at_revision(state: &AppState, conn: &AsyncPgConnection, tenant_id: i64, rev: i64, f: &KeywordFilter) -> AppResult<i64> {
    counts::cached(state, tenant_id, LIST, rev, &f.count_key(), || async {
        Ok(filter::matching(tenant_id, f).count().get_result(&mut &*conn).await?)
    })
    .await
}
