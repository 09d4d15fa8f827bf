//! Running the clusterers on a selection of keywords and writing their result.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::local;
use super::mapping::Assigned;
use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::db::schema::keywords;
use crate::error::{AppError, AppResult};
use crate::modules::planner::clusters::service as clusters;
use crate::modules::planner::keywords::service::{self as kw, BulkAction, Selection};
use crate::state::AppState;
use crate::tenancy::TenantCtx;

/// Keywords one local run takes (10,000 cluster in about 1.5 s in a release build, `scripts/bench-clustering`).
pub const LOCAL_MAX: usize = 50_000;

#[derive(Debug, Default, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Written {
    pub clusters_created: usize,
    pub clusters_reused: usize,
    pub keywords_clustered: usize,
}

/// Creates (or reuses, by name) each cluster and moves its keywords in. Call inside a transaction.
pub async fn write_assignments(conn: &mut AsyncPgConnection, tenant_id: i64, assigned: &[Assigned], source: &str) -> AppResult<Written> {
    let mut w = Written::default();
    for a in assigned {
        let (id, created) = clusters::ensure(conn, tenant_id, &a.name, &a.description, source).await?;
        if created {
            w.clusters_created += 1
        } else {
            w.clusters_reused += 1
        }
        w.keywords_clustered += kw::apply_in_tx(conn, tenant_id, &a.keyword_ids, &BulkAction::MoveTo(Some(id))).await?;
    }
    Ok(w)
}

/// (id, keyword, volume) of the given ids, for the clusterers.
pub async fn load(conn: &mut AsyncPgConnection, tenant_id: i64, ids: &[i64]) -> AppResult<Vec<(i64, String, i64)>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(10_000) {
        let rows: Vec<(i64, String, Option<i32>)> = keywords::table
            .filter(keywords::tenant_id.eq(tenant_id))
            .filter(keywords::id.eq_any(chunk))
            .order(keywords::id)
            .select((keywords::id, keywords::keyword, keywords::volume))
            .load(conn)
            .await?;
        out.extend(rows.into_iter().map(|(id, k, v)| (id, k, v.unwrap_or(0) as i64)));
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct LocalResult {
    #[serde(flatten)]
    pub written: Written,
    pub unclustered: usize,
    pub threshold: f64,
}

/// Clusters the selection with the local clusterer and writes the clusters, in one transaction.
pub async fn cluster_locally(state: &AppState, ctx: &TenantCtx, sel: &Selection, threshold: f64) -> AppResult<LocalResult> {
    ctx.require(Perm::EditContent)?;
    if !(0.05..=0.95).contains(&threshold) {
        return Err(AppError::field("threshold", "Similarity threshold is between 0.05 and 0.95"));
    }
    let mut conn = state.db.get().await?;
    let ids = kw::selected_ids(&mut conn, ctx.tenant_id, sel).await?;
    if ids.is_empty() {
        return Err(AppError::BadRequest("Select the keywords to cluster".into()));
    }
    if ids.len() > LOCAL_MAX {
        return Err(AppError::BadRequest(format!("Local clustering takes up to {LOCAL_MAX} keywords at a time; narrow the filter")));
    }
    let items: Vec<local::Item> =
        load(&mut conn, ctx.tenant_id, &ids).await?.into_iter().map(|(id, keyword, volume)| local::Item { id, keyword, volume }).collect();
    let opts = local::Options { threshold, ..Default::default() };
    // CPU work off the async threads.
    let outcome = tokio::task::spawn_blocking(move || local::cluster(&items, &opts)).await.map_err(AppError::internal)?;
    let assigned: Vec<Assigned> = outcome
        .clusters
        .iter()
        .map(|c| Assigned { name: c.name.clone(), description: String::new(), keyword_ids: c.keyword_ids.clone() })
        .collect();
    let unclustered = outcome.unclustered.len();
    let (tenant_id, who) = (ctx.tenant_id, Who::from(ctx));
    let written = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let w = write_assignments(conn, tenant_id, &assigned, "local").await?;
            let detail = serde_json::json!({ "result": &w, "unclustered": unclustered, "threshold": threshold });
            audit::record(conn, &who, "keyword.clustered_locally", ("keyword", format!("{} keywords", ids.len())), detail).await?;
            Ok(w)
        })
        .await?;
    Ok(LocalResult { written, unclustered, threshold })
}
