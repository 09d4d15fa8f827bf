//! "Generate ideas" for a cluster as a job (`planner.ideas`, 1 credit per idea, 3–7 ideas). Ideas the
//! model gets partly wrong are repaired where the intent is clear (unknown type → post) and dropped
//! where not (no title); credits for ideas not delivered are returned.

use std::sync::Arc;

use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use super::service::{CONTENT_TYPES, IdeaInput, IdeaValues, LIST_ITEM_MAX, LIST_ITEMS_MAX, STRUCTURES, validate};
use crate::ai::{ChatRequest, access, parse, router};
use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::db::schema::{clusters, content_ideas, keywords};
use crate::error::{AppError, AppResult};
use crate::jobs::queue::enqueue_all_in_tx;
use crate::jobs::{ClaimedJob, Completion, Job, JobError, Subject};
use crate::modules::planner::prompts;
use crate::modules::planner::prompts::IDEAS_PURPOSE;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::validate::Check;

pub const JOB_KIND: &str = "planner.ideas";
pub const MIN_IDEAS: i64 = 3;
pub const MAX_IDEAS: i64 = 7;

/// Queues one job per cluster, all or none (one transaction, so a 402 leaves nothing queued).
pub async fn enqueue(state: &AppState, ctx: &TenantCtx, cluster_ids: &[i64], count: i64) -> AppResult<Vec<i64>> {
    ctx.require(Perm::EditContent)?;
    if !(MIN_IDEAS..=MAX_IDEAS).contains(&count) {
        return Err(AppError::field("count", format!("Ideas per cluster is between {MIN_IDEAS} and {MAX_IDEAS}")));
    }
    if cluster_ids.is_empty() {
        return Err(AppError::BadRequest("Select the clusters to generate ideas for".into()));
    }
    let mut conn = state.db.get().await?;
    let found: Vec<i64> = clusters::table
        .filter(clusters::tenant_id.eq(ctx.tenant_id))
        .filter(clusters::id.eq_any(cluster_ids))
        .select(clusters::id)
        .order(clusters::id)
        .load(&mut conn)
        .await?;
    if found.is_empty() {
        return Err(AppError::NotFound);
    }
    let (tenant_id, label) = (ctx.tenant_id, ctx.actor_label());
    let price = access::price(state, tenant_id, IDEAS_PURPOSE, count).await?;
    // One reservation check for the whole request, so the 402 names the full price.
    let ids = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let payloads = found.iter().map(|cid| Ideas { cluster_id: *cid, count }).collect();
            enqueue_all_in_tx(conn, tenant_id, price, &label, payloads).await
        })
        .await?;
    crate::jobs::worker::wake(state).await;
    Ok(ids)
}

#[derive(Debug, Deserialize)]
struct Answer {
    ideas: Vec<AnswerIdea>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct AnswerIdea {
    title: String,
    description: String,
    content_type: String,
    structure: String,
    target_keywords: Vec<String>,
    outline: Vec<String>,
    estimated_words: Option<serde_json::Value>,
}

/// Each item on its own (a separator inside an item becomes a space), cut to the form's limits.
fn fit_list(items: &[String], sep: &[char]) -> Vec<String> {
    items
        .iter()
        .map(|s| s.replace(sep, " ").split_whitespace().collect::<Vec<_>>().join(" ").chars().take(LIST_ITEM_MAX).collect::<String>())
        .filter(|s| !s.is_empty())
        .take(LIST_ITEMS_MAX)
        .collect()
}

/// The model's idea through the same checks as the edit form, after repairing what has an obvious fix.
fn usable(a: AnswerIdea) -> Option<IdeaValues> {
    let kind = a.content_type.trim().to_lowercase();
    let structure = a.structure.trim().to_lowercase().replace(['-', ' '], "_");
    let words = a.estimated_words.and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))).unwrap_or(1500);
    let input = IdeaInput {
        title: a.title,
        description: a.description.chars().take(2000).collect(),
        content_type: if CONTENT_TYPES.contains(&kind.as_str()) { kind } else { "post".into() },
        structure: if STRUCTURES.contains(&structure.as_str()) { structure } else { "guide".into() },
        // A model's over-long list is trimmed to what the form allows; a person typing gets a field error instead.
        target_keywords: fit_list(&a.target_keywords, &[',', '\n']).join("\n"),
        outline: fit_list(&a.outline, &['\n']).join("\n"),
        estimated_words: words.clamp(300, 10_000).to_string(),
    };
    let mut c = Check::new();
    let values = validate(&mut c, &input);
    c.errors.is_empty().then_some(values)
}

/// `planner.ideas` (1 credit per idea): content ideas for one cluster. Ideas are written with the completion, so a
/// job that ends in failure leaves the cluster as it was (and "Generate ideas" works again).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ideas {
    pub cluster_id: i64,
    #[serde(default = "default_count")]
    pub count: i64,
}

fn default_count() -> i64 {
    MIN_IDEAS
}

impl Job for Ideas {
    const KIND: &'static str = JOB_KIND;

    fn subject(&self) -> Option<Subject> {
        Some(Subject::cluster(self.cluster_id))
    }

    async fn run(self, state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
        ideas_for(state, job, self.cluster_id, self.count.clamp(MIN_IDEAS, MAX_IDEAS) as usize).await
    }
}

async fn ideas_for(state: Arc<AppState>, job: ClaimedJob, cluster_id: i64, count: usize) -> Result<Completion, JobError> {
    let tenant_id = job.tenant_id;
    let (name, description, top, prompt) = {
        let mut conn = state.db.get().await?;
        let (name, description): (String, String) = clusters::table
            .filter(clusters::tenant_id.eq(tenant_id))
            .filter(clusters::id.eq(cluster_id))
            .select((clusters::name, clusters::description))
            .first(&mut conn)
            .await
            .optional()?
            .ok_or_else(|| JobError::Fatal("the cluster was deleted".into()))?;
        let top: Vec<String> = keywords::table
            .filter(keywords::tenant_id.eq(tenant_id))
            .filter(keywords::cluster_id.eq(cluster_id))
            .order((keywords::volume.desc().nulls_last(), keywords::id))
            .select(keywords::keyword)
            .limit(20)
            .load(&mut conn)
            .await?;
        let prompt = crate::modules::thinker::service::resolve(&state.prompts, &mut conn, tenant_id, "ideas").await?;
        (name, description, top, prompt)
    };
    let user = prompt.render(&prompts::ideas_values(&name, &description, &top, count));
    let mut req = ChatRequest::new(prompt.system.clone(), user).purpose(prompts::IDEAS_PURPOSE);
    req.json = true;
    req.max_tokens = 600 * count as u32;
    let res = router::chat(&state, tenant_id, Some(job.id), req).await?;
    let answer: Answer = parse::json(&res)?;
    let offered = answer.ideas.len();
    let ideas: Vec<IdeaValues> = answer.ideas.into_iter().filter_map(usable).take(count).collect();
    if ideas.is_empty() {
        return Err(JobError::Fatal(format!("the model returned no usable ideas ({offered} offered)")));
    }
    let (kept, sample) = (ideas.len(), res.sample);
    let job_id = job.id;
    Ok(Completion {
        result: serde_json::json!({ "cluster_id": cluster_id, "ideas": kept, "offered": offered, "asked": count }),
        effects: Some(Box::new(move |conn| {
            Box::pin(async move {
                let rows: Vec<_> = ideas
                    .iter()
                    .map(|v| {
                        (
                            content_ideas::tenant_id.eq(tenant_id),
                            content_ideas::cluster_id.eq(Some(cluster_id)),
                            content_ideas::job_id.eq(Some(job_id)),
                            content_ideas::title.eq(&v.title),
                            content_ideas::description.eq(&v.description),
                            content_ideas::content_type.eq(&v.content_type),
                            content_ideas::structure.eq(&v.structure),
                            content_ideas::target_keywords.eq(&v.target_keywords),
                            content_ideas::outline.eq(&v.outline),
                            content_ideas::estimated_words.eq(v.estimated_words),
                            content_ideas::sample.eq(sample),
                        )
                    })
                    .collect();
                diesel::insert_into(content_ideas::table).values(rows).execute(conn).await?;
                let who = Who { tenant_id, user_id: None, label: format!("job #{job_id}"), ip: None };
                audit::record(conn, &who, "idea.generated", ("cluster", cluster_id.to_string()), serde_json::json!({ "ideas": kept })).await
            })
        })),
        // Seed §8.4: 1 credit per idea delivered; the rest of the reservation goes back.
        actual_credits: Some(if sample { 0 } else { kept as i64 }),
    })
}
