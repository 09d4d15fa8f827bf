//! "Cluster by meaning" as a job (`planner.cluster_semantic`, free): the keywords are embedded by the local
//! model (cached vectors reused), grouped by [`super::cluster_embeddings`] and written in the job's completion
//! transaction, like the AI clustering — so the page shows its progress and result the same way.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::encoder::{self, BATCH, DIMS, Encoder, MODEL_NAME};
use super::{DEFAULT_THRESHOLD, SEMANTIC_MAX, cache, cluster_embeddings};
use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::error::{AppError, AppResult};
use crate::jobs::queue;
use crate::jobs::{ClaimedJob, Completion, Job, JobError};
use crate::modules::planner::clustering::local::Item;
use crate::modules::planner::clustering::mapping::Assigned;
use crate::modules::planner::clustering::service::{Written, load, write_assignments};
use crate::modules::planner::keywords::service::{self as kw, Selection};
use crate::state::AppState;
use crate::tenancy::TenantCtx;

pub const JOB_KIND: &str = "planner.cluster_semantic";
/// What the clusters' `source` and the audit entry call this method.
pub const SOURCE: &str = "semantic";
/// Keywords embedded between two progress reports (and cache writes, so a retried job keeps what it did).
const CHUNK: usize = BATCH * 8;

/// Why "Cluster by meaning" cannot run on this server, if it cannot (the model folder is missing or incomplete).
pub fn unavailable(state: &AppState) -> Option<String> {
    encoder::missing_files(&model_dir(state))
}

fn model_dir(state: &AppState) -> PathBuf {
    PathBuf::from(&state.config.model_dir)
}

/// Queues clustering by meaning of the selection; returns (job id, keywords). Free: no credits reserved.
pub async fn enqueue(state: &AppState, ctx: &TenantCtx, sel: &Selection, threshold: Option<f64>) -> AppResult<(i64, usize)> {
    ctx.require(Perm::EditContent)?;
    let threshold = threshold.unwrap_or(DEFAULT_THRESHOLD);
    if !(0.05..=0.95).contains(&threshold) {
        return Err(AppError::field("threshold", "Similarity threshold is between 0.05 and 0.95"));
    }
    if let Some(why) = unavailable(state) {
        return Err(AppError::Unavailable(why));
    }
    let mut conn = state.db.get().await?;
    let ids = kw::selected_ids(&mut conn, ctx.tenant_id, sel).await?;
    if ids.is_empty() {
        return Err(AppError::BadRequest("Select the keywords to cluster".into()));
    }
    if ids.len() > SEMANTIC_MAX {
        return Err(AppError::BadRequest(format!(
            "Clustering by meaning takes up to {SEMANTIC_MAX} keywords at a time ({} selected); narrow the filter",
            ids.len()
        )));
    }
    let n = ids.len();
    let job = ClusterSemantic { keyword_ids: ids, threshold }.new_job(ctx.tenant_id).by(ctx.actor_label());
    let id = queue::enqueue(&state.db, job).await?;
    crate::jobs::worker::wake(state).await;
    Ok((id, n))
}

/// `planner.cluster_semantic`: the keywords grouped by the meaning model. Nothing is written to the keywords
/// until the clusters are known, so a job that ends in failure leaves them as they were.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterSemantic {
    pub keyword_ids: Vec<i64>,
    pub threshold: f64,
}

impl Job for ClusterSemantic {
    const KIND: &'static str = JOB_KIND;

    async fn run(self, state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
        cluster(state, job, self.keyword_ids, self.threshold).await
    }
}

/// Vectors of `items`, from the cache or embedded (and stored); returns them with how many were embedded now.
async fn vectors(
    state: &AppState,
    job: &ClaimedJob,
    enc: Arc<Encoder>,
    items: &[(i64, String)],
) -> Result<(Vec<Vec<f32>>, usize), JobError> {
    let tenant_id = job.tenant_id;
    let cached = {
        let mut conn = state.db.get().await?;
        cache::lookup(&mut conn, tenant_id, MODEL_NAME, DIMS, items).await?
    };
    let todo: Vec<usize> = (0..items.len()).filter(|&i| cached[i].is_none()).collect();
    let mut out: Vec<Vec<f32>> = cached.into_iter().map(Option::unwrap_or_default).collect();
    // Steps: each chunk embedded, then the grouping.
    let steps = todo.len().div_ceil(CHUNK) as i32 + 1;
    for (n, chunk) in todo.chunks(CHUNK).enumerate() {
        let texts: Vec<String> = chunk.iter().map(|&i| items[i].1.clone()).collect();
        let enc = enc.clone();
        // CPU work off the async threads.
        let vs = tokio::task::spawn_blocking(move || enc.embed(&texts.iter().map(String::as_str).collect::<Vec<_>>()))
            .await
            .map_err(|e| JobError::Fatal(format!("the meaning model stopped: {e}")))?
            .map_err(JobError::Fatal)?;
        let rows: Vec<(i64, String, Vec<f32>)> = chunk.iter().zip(vs).map(|(&i, v)| (items[i].0, items[i].1.clone(), v)).collect();
        {
            let mut conn = state.db.get().await?;
            cache::store(&mut conn, tenant_id, MODEL_NAME, &rows).await?;
        }
        for (&i, (_, _, v)) in chunk.iter().zip(rows) {
            out[i] = v;
        }
        crate::jobs::progress::report(&state.db, job, n as i32 + 1, steps).await;
    }
    Ok((out, todo.len()))
}

async fn cluster(state: Arc<AppState>, job: ClaimedJob, ids: Vec<i64>, threshold: f64) -> Result<Completion, JobError> {
    let tenant_id = job.tenant_id;
    if let Some(why) = unavailable(&state) {
        return Err(JobError::Fatal(why));
    }
    let rows = {
        let mut conn = state.db.get().await?;
        load(&mut conn, tenant_id, &ids).await?
    };
    if rows.is_empty() {
        return Err(JobError::Fatal("none of the keywords exist any more".into()));
    }
    let dir = model_dir(&state);
    let enc = tokio::task::spawn_blocking(move || encoder::shared(&dir))
        .await
        .map_err(|e| JobError::Fatal(format!("the meaning model could not be loaded: {e}")))?
        .map_err(JobError::Fatal)?;
    let texts: Vec<(i64, String)> = rows.iter().map(|(id, k, _)| (*id, k.clone())).collect();
    let (vecs, embedded) = vectors(&state, &job, enc, &texts).await?;
    let items: Vec<Item> = rows.into_iter().map(|(id, keyword, volume)| Item { id, keyword, volume }).collect();
    let n = items.len();
    let outcome = tokio::task::spawn_blocking(move || cluster_embeddings(&items, &vecs, threshold))
        .await
        .map_err(|e| JobError::Fatal(format!("grouping stopped: {e}")))?;
    let assigned: Vec<Assigned> = outcome
        .clusters
        .iter()
        .map(|c| Assigned { name: c.name.clone(), description: String::new(), keyword_ids: c.keyword_ids.clone() })
        .collect();
    let summary = serde_json::json!({
        "method": SOURCE,
        "keywords": n,
        "clusters": assigned.len(),
        "unclustered": outcome.unclustered.len(),
        "embedded": embedded,
        "cached": n - embedded,
        "threshold": threshold,
    });
    let (job_id, result) = (job.id, summary.clone());
    Ok(Completion {
        result: summary,
        effects: Some(Box::new(move |conn| {
            Box::pin(async move {
                let w: Written = write_assignments(conn, tenant_id, &assigned, SOURCE).await?;
                let who = Who { tenant_id, user_id: None, label: format!("job #{job_id}"), ip: None };
                let detail = serde_json::json!({ "written": w, "summary": result });
                audit::record(conn, &who, "keyword.clustered_semantic", ("job", job_id.to_string()), detail).await
            })
        })),
        actual_credits: None,
    })
}
