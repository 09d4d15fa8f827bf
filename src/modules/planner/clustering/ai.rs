//! AI clustering as a job (`planner.cluster_ai`, 1 credit per 30 keywords): the keywords go to the model
//! in batches of a configurable size; each answer is mapped back to ids (see `mapping`) and the clusters
//! are written in the job's completion transaction, with the report kept as the job's result.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::mapping::{Answer, Assigned, Report, map_answer};
use super::service::{Written, load, write_assignments};
use crate::ai::{ChatRequest, parse, router};
use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::error::{AppError, AppResult};
use crate::jobs::queue;
use crate::jobs::{ClaimedJob, Completion, Job, JobError};
use crate::modules::planner::keywords::service::{self as kw, Selection};
use crate::modules::planner::prompts;
use crate::state::AppState;
use crate::tenancy::TenantCtx;

pub const JOB_KIND: &str = "planner.cluster_ai";
pub const KEYWORDS_PER_CREDIT: i64 = 30;
pub const AI_MAX: usize = 5_000;
pub const DEFAULT_BATCH: usize = 100;

/// Seed §8.4: 1 credit per 30 keywords, rounded up.
pub fn price(keywords: usize) -> i64 {
    (keywords as i64 + KEYWORDS_PER_CREDIT - 1) / KEYWORDS_PER_CREDIT
}

/// Queues AI clustering of the selection; the credits are reserved now (402 when short).
pub async fn enqueue(state: &AppState, ctx: &TenantCtx, sel: &Selection, batch_size: Option<usize>) -> AppResult<(i64, usize)> {
    ctx.require(Perm::EditContent)?;
    let batch = batch_size.unwrap_or(DEFAULT_BATCH);
    if !(10..=300).contains(&batch) {
        return Err(AppError::field("batch_size", "Batch size is between 10 and 300 keywords per request"));
    }
    let mut conn = state.db.get().await?;
    let ids = kw::selected_ids(&mut conn, ctx.tenant_id, sel).await?;
    if ids.is_empty() {
        return Err(AppError::BadRequest("Select the keywords to cluster".into()));
    }
    if ids.len() > AI_MAX {
        return Err(AppError::BadRequest(format!(
            "AI clustering takes up to {AI_MAX} keywords at a time ({} selected); narrow the filter or cluster locally",
            ids.len()
        )));
    }
    let n = ids.len();
    let cost = crate::ai::access::price(state, ctx.tenant_id, crate::modules::planner::prompts::CLUSTER_PURPOSE, price(n)).await?;
    let job = ClusterAi { keyword_ids: ids, batch_size: batch }.new_job(ctx.tenant_id).price(cost).by(ctx.actor_label());
    let id = queue::enqueue(&state.db, job).await?;
    crate::jobs::worker::wake(state).await;
    Ok((id, n))
}

/// `planner.cluster_ai` (1 credit per 30 keywords): the keywords clustered by the model, batch by batch. Nothing
/// is written until the last batch is in, so a job that ends in failure leaves the keywords as they were.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterAi {
    pub keyword_ids: Vec<i64>,
    #[serde(default = "default_batch")]
    pub batch_size: usize,
}

fn default_batch() -> usize {
    DEFAULT_BATCH
}

impl Job for ClusterAi {
    const KIND: &'static str = JOB_KIND;

    async fn run(self, state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
        cluster(state, job, self.keyword_ids, self.batch_size.clamp(10, 300)).await
    }
}

async fn cluster(state: Arc<AppState>, job: ClaimedJob, ids: Vec<i64>, batch: usize) -> Result<Completion, JobError> {
    let tenant_id = job.tenant_id;
    let sent = {
        let mut conn = state.db.get().await?;
        load(&mut conn, tenant_id, &ids).await?
    };
    if sent.is_empty() {
        return Err(JobError::Fatal("none of the keywords exist any more".into()));
    }
    let sent: Vec<(i64, String)> = sent.into_iter().map(|(id, k, _)| (id, k)).collect();
    let prompt = {
        let mut conn = state.db.get().await?;
        crate::modules::thinker::service::resolve(&state.prompts, &mut conn, tenant_id, "clustering").await?
    };
    let batches: Vec<&[(i64, String)]> = sent.chunks(batch).collect();
    let mut assigned: Vec<Assigned> = Vec::new();
    let mut report = Report::default();
    for (i, part) in batches.iter().enumerate() {
        let words: Vec<&str> = part.iter().map(|(_, k)| k.as_str()).collect();
        let user = prompt.render(&[("KEYWORDS", prompts::keyword_lines(&words)), ("KEYWORD_COUNT", words.len().to_string())]);
        let mut req = ChatRequest::new(prompt.system.clone(), user).purpose(prompts::CLUSTER_PURPOSE);
        req.json = true;
        req.max_tokens = (part.len() as u32 * 24 + 400).min(16_000);
        req.temperature = 0.2;
        let res = router::chat(&state, tenant_id, Some(job.id), req).await?;
        let answer: Answer = parse::json(&res)?;
        let (a, r) = map_answer(part, &answer);
        report.merge(r);
        for cluster in a {
            match assigned.iter_mut().find(|x| super::mapping::match_key(&x.name) == super::mapping::match_key(&cluster.name)) {
                Some(x) => x.keyword_ids.extend(cluster.keyword_ids),
                None => assigned.push(cluster),
            }
        }
        crate::jobs::progress::report(&state.db, &job, (i + 1) as i32, batches.len() as i32).await;
    }
    let sent_count = sent.len();
    let summary = serde_json::json!({ "keywords": sent_count, "clusters": assigned.len(), "report": &report });
    let (job_id, result) = (job.id, summary.clone());
    Ok(Completion {
        result: summary,
        effects: Some(Box::new(move |conn| {
            Box::pin(async move {
                let w: Written = write_assignments(conn, tenant_id, &assigned, "ai").await?;
                let who = Who { tenant_id, user_id: None, label: format!("job #{job_id}"), ip: None };
                let detail = serde_json::json!({ "written": w, "summary": result });
                audit::record(conn, &who, "keyword.clustered_ai", ("job", job_id.to_string()), detail).await
            })
        })),
        actual_credits: None,
    })
}
