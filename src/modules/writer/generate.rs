//! "Generate content" as a job (`writer.generate`, 3 credits, seed §8.4): prompt from the task, the
//! tenant's text model, and an answer checked before anything is stored — truncated, empty, far shorter
//! than asked, without headings or of the wrong shape fails the job (retried, then refunded) and the task
//! says why. The HTML is sanitised and the word count computed; the previous article becomes a version.

use std::sync::Arc;

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use super::article::{self, ArticleChange, Reason};
use super::prompts::CONTENT_PURPOSE;
use super::service::{Task, TaskStatus};
use super::{html, prompts};
use crate::ai::{ChatRequest, access, parse, router};
use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::db::schema::tasks;
use crate::error::{AppError, AppResult};
use crate::jobs::queue::enqueue_all_in_tx;
use crate::jobs::{ClaimedJob, Completion, Ended, Job, JobError, Subject};
use crate::state::AppState;
use crate::tenancy::TenantCtx;

pub const JOB_KIND: &str = "writer.generate";
pub const CREDITS: i64 = 3;

/// Queues generation for each task that is not already generating; all or none (one 402 for the lot).
pub async fn enqueue(state: &AppState, ctx: &TenantCtx, ids: &[i64]) -> AppResult<Vec<i64>> {
    ctx.require(Perm::EditContent)?;
    if ids.is_empty() {
        return Err(AppError::BadRequest("Select the tasks to generate".into()));
    }
    let (tenant_id, label, who) = (ctx.tenant_id, ctx.actor_label(), Who::from(ctx));
    let price = access::price(state, tenant_id, CONTENT_PURPOSE, CREDITS).await?;
    let ids = ids.to_vec();
    let mut conn = state.db.get().await?;
    let jobs = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let all: Vec<(i64, TaskStatus)> = tasks::table
                .filter(tasks::tenant_id.eq(tenant_id))
                .filter(tasks::id.eq_any(&ids))
                .select((tasks::id, tasks::status))
                .order(tasks::id)
                .load(conn)
                .await?;
            if all.is_empty() {
                return Err(AppError::NotFound);
            }
            let found: Vec<i64> = all.into_iter().filter(|(_, s)| s.can_generate()).map(|(id, _)| id).collect();
            if found.is_empty() {
                return Err(AppError::Conflict("Those tasks are already being generated".into()));
            }
            let payloads = found.iter().map(|id| Generate { task_id: *id }).collect();
            let jobs = enqueue_all_in_tx(conn, tenant_id, price, &label, payloads).await?;
            diesel::update(tasks::table.filter(tasks::tenant_id.eq(tenant_id)).filter(tasks::id.eq_any(&found)))
                .set((tasks::status.eq(TaskStatus::Generating), tasks::error.eq(None::<String>), tasks::updated_at.eq(diesel::dsl::now)))
                .execute(conn)
                .await?;
            audit::record(
                conn,
                &who,
                "task.generate_queued",
                ("task", format!("{} tasks", found.len())),
                serde_json::json!({ "tasks": found, "jobs": jobs }),
            )
            .await?;
            Ok(jobs)
        })
        .await?;
    crate::jobs::worker::wake(state).await;
    Ok(jobs)
}

#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    title: String,
    #[serde(default)]
    meta_title: String,
    #[serde(default)]
    meta_description: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    primary_keyword: String,
    content_html: String,
}

/// The answer's HTML, sanitised, with its word count — or why it cannot be stored: empty, far shorter than
/// `expected_words` (below the configured share), or without H2 headings. Shared by generate and reparse.
pub fn checked_article(state: &AppState, raw_html: &str, expected_words: i32) -> Result<(String, i32), JobError> {
    let content = html::sanitize(raw_html);
    let words = html::word_count(&content);
    if words == 0 {
        return Err(JobError::Fatal("the model returned an empty article".into()));
    }
    let needed = expected_words as i64 * state.config.writer_min_words_percent as i64 / 100;
    if (words as i64) < needed {
        return Err(JobError::Fatal(format!(
            "the article has {words} words; at least {needed} of the {expected_words} asked were expected"
        )));
    }
    if html::h2_count(&content) == 0 {
        return Err(JobError::Fatal("the article has no H2 headings".into()));
    }
    Ok((content, words))
}

/// `writer.generate` (3 credits): the article and its SEO meta for one task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Generate {
    pub task_id: i64,
}

impl Job for Generate {
    const KIND: &'static str = JOB_KIND;

    fn subject(&self) -> Option<Subject> {
        Some(Subject::task(self.task_id))
    }

    async fn run(self, state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
        write(&state, &job, self.task_id).await
    }

    /// The task shows why and can be generated again: failed, or back to draft when it still has an article.
    async fn on_final_failure(&self, conn: &mut AsyncPgConnection, ended: &Ended<'_>) -> AppResult<()> {
        let task = tasks::table.filter(tasks::tenant_id.eq(ended.tenant_id)).filter(tasks::id.eq(self.task_id));
        let Some(words) =
            task.filter(tasks::status.eq(TaskStatus::Generating)).select(tasks::word_count).first::<i32>(conn).await.optional()?
        else {
            return Ok(()); // moved on since (edited, deleted)
        };
        diesel::update(task)
            .set((
                tasks::status.eq(TaskStatus::after_failed_generation(words > 0)),
                tasks::error.eq(ended.reason),
                tasks::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        Ok(())
    }
}

async fn write(state: &AppState, job: &ClaimedJob, task_id: i64) -> Result<Completion, JobError> {
    let tenant_id = job.tenant_id;
    let (task, prompt, style) = {
        let mut conn = state.db.get().await?;
        let task = super::service::get(&mut conn, tenant_id, task_id).await.map_err(|e| match e {
            AppError::NotFound => JobError::Fatal("the task was deleted".into()),
            other => other.into(),
        })?;
        let prompt = crate::modules::thinker::service::resolve(&state.prompts, &mut conn, tenant_id, "content").await?;
        let profile = match task.author_profile_id {
            Some(p) => crate::modules::thinker::styles::profile(&mut conn, tenant_id, p).await.ok(),
            None => None,
        };
        let strategy = match task.strategy_id {
            Some(s) => crate::modules::thinker::styles::strategy(&mut conn, tenant_id, s).await.ok(),
            None => None,
        };
        (task, prompt, crate::modules::thinker::styles::prompt_values(profile.as_ref(), strategy.as_ref()))
    };
    let outline = task.outline.iter().map(|h| format!("- {h}")).collect::<Vec<_>>().join("\n");
    let primary = if task.primary_keyword.is_empty() {
        <[String]>::first(&task.target_keywords).cloned().unwrap_or_default()
    } else {
        task.primary_keyword.clone()
    };
    let mut values = vec![
        ("TITLE", task.title.clone()),
        ("PRIMARY_KEYWORD", primary.clone()),
        ("SECONDARY_KEYWORDS", task.target_keywords.iter().skip(1).cloned().collect::<Vec<_>>().join(", ")),
        ("OUTLINE", outline),
        ("WORD_COUNT", task.word_count_goal.to_string()),
    ];
    values.extend(style);
    let user = prompt.render(&values);
    let mut req = ChatRequest::new(prompt.system.clone(), user).purpose(prompts::CONTENT_PURPOSE);
    req.json = true;
    req.max_tokens = ((task.word_count_goal as u32) * 2 + 1000).min(16_000);
    let res = router::chat(state, tenant_id, Some(job.id), req).await?;
    let answer: Answer = parse::json(&res)?;
    let (content, words) = checked_article(state, &answer.content_html, task.word_count_goal)?;
    let title = if answer.title.trim().is_empty() { task.title.clone() } else { html::fit(&answer.title, 300) };
    let meta_title = html::fit(if answer.meta_title.trim().is_empty() { &title } else { &answer.meta_title }, 60);
    let meta_description = html::fit(&answer.meta_description, 160);
    let slug = html::slugify(if answer.slug.trim().is_empty() { &title } else { &answer.slug });
    let primary = if answer.primary_keyword.trim().is_empty() { primary } else { html::fit(&answer.primary_keyword, 200) };
    let (job_id, model, sample) = (job.id, res.model.clone(), res.sample);
    // Sample text is free, even when the job was priced before the dev provider ended up serving it.
    let credits = if sample { 0 } else { CREDITS };
    Ok(Completion {
        result: serde_json::json!({ "task_id": task_id, "words": words, "model": model, "tokens_in": res.tokens_in, "tokens_out": res.tokens_out }),
        effects: Some(Box::new(move |conn| {
            Box::pin(async move {
                let by = format!("job #{job_id}");
                let change = |_: &Task| {
                    Ok(ArticleChange {
                        title: Some(title),
                        meta_title: Some(meta_title),
                        meta_description: Some(meta_description),
                        slug: Some(slug),
                        primary_keyword: Some(primary),
                        content_html: Some(content),
                        word_count: Some(words),
                        ai_model: Some(model.clone()),
                        status: Some(TaskStatus::Draft),
                        error: Some(None),
                        sample: Some(sample),
                        ..Default::default()
                    })
                };
                article::replace(conn, tenant_id, task_id, Reason::Generate, &by, credits, change).await?;
                let who = Who { tenant_id, user_id: None, label: by, ip: None };
                audit::record(
                    conn,
                    &who,
                    "task.generated",
                    ("task", task_id.to_string()),
                    serde_json::json!({ "words": words, "model": model }),
                )
                .await
            })
        })),
        actual_credits: sample.then_some(0),
    })
}
