//! "Reparse" as a job (`writer.reparse`, 1 credit): the reparse prompt restructures an existing article;
//! the answer passes the same checks as a generated one (and may not lose more than the configured share
//! of the words); the previous article is kept as a version. A failure leaves the article as it was.

use std::sync::Arc;

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use super::article::{self, ArticleChange, Reason};
use super::generate::checked_article;
use super::prompts;
use super::prompts::REPARSE_PURPOSE;
use super::service::{Task, TaskStatus};
use crate::ai::{ChatRequest, access, parse, router};
use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::db::schema::tasks;
use crate::error::{AppError, AppResult};
use crate::jobs::queue::enqueue_all_in_tx;
use crate::jobs::{ClaimedJob, Completion, Ended, Job, JobError, Subject};
use crate::state::AppState;
use crate::tenancy::TenantCtx;

pub const JOB_KIND: &str = "writer.reparse";
pub const CREDITS: i64 = 1;

/// Why a reparse that finished after the article was edited or restored changed nothing (its credit is refunded).
pub const CHANGED_MEANWHILE: &str = "The article changed while it was being reparsed; it was left as it is";

pub async fn enqueue(state: &AppState, ctx: &TenantCtx, ids: &[i64]) -> AppResult<Vec<i64>> {
    ctx.require(Perm::EditContent)?;
    let (tenant_id, label, ids) = (ctx.tenant_id, ctx.actor_label(), ids.to_vec());
    let price = access::price(state, tenant_id, REPARSE_PURPOSE, CREDITS).await?;
    let mut conn = state.db.get().await?;
    let jobs = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let found: Vec<(i64, TaskStatus, i32)> = tasks::table
                .filter(tasks::tenant_id.eq(tenant_id))
                .filter(tasks::id.eq_any(&ids))
                .select((tasks::id, tasks::status, tasks::word_count))
                .order(tasks::id)
                .load(conn)
                .await?;
            if found.is_empty() {
                return Err(AppError::NotFound);
            }
            let ready: Vec<i64> = found.iter().filter(|(_, s, w)| s.is_written() && *w > 0).map(|(id, _, _)| *id).collect();
            if ready.is_empty() {
                return Err(AppError::Conflict("Only tasks with an article (draft, review or ready) can be reparsed".into()));
            }
            let payloads = ready.iter().map(|id| Reparse { task_id: *id }).collect();
            enqueue_all_in_tx(conn, tenant_id, price, &label, payloads).await
        })
        .await?;
    crate::jobs::worker::wake(state).await;
    Ok(jobs)
}

#[derive(Deserialize)]
struct Answer {
    content_html: String,
}

/// `writer.reparse` (1 credit): the article restructured by the reparse prompt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reparse {
    pub task_id: i64,
}

impl Job for Reparse {
    const KIND: &'static str = JOB_KIND;

    fn subject(&self) -> Option<Subject> {
        Some(Subject::task(self.task_id))
    }

    async fn run(self, state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
        reparse(&state, &job, self.task_id).await
    }

    /// The article stays as it was; the task says why the reparse did not happen.
    async fn on_final_failure(&self, conn: &mut AsyncPgConnection, ended: &Ended<'_>) -> AppResult<()> {
        diesel::update(tasks::table.filter(tasks::tenant_id.eq(ended.tenant_id)).filter(tasks::id.eq(self.task_id)))
            .set(tasks::error.eq(format!("reparse: {}", ended.reason)))
            .execute(conn)
            .await?;
        Ok(())
    }
}

async fn reparse(state: &AppState, job: &ClaimedJob, task_id: i64) -> Result<Completion, JobError> {
    let tenant_id = job.tenant_id;
    let (task, prompt) = {
        let mut conn = state.db.get().await?;
        let task: Task = super::service::get(&mut conn, tenant_id, task_id).await.map_err(|e| match e {
            AppError::NotFound => JobError::Fatal("the task was deleted".into()),
            other => other.into(),
        })?;
        (task, crate::modules::thinker::service::resolve(&state.prompts, &mut conn, tenant_id, "reparse").await?)
    };
    if task.content_html.is_empty() {
        return Err(JobError::Fatal("the task has no article to reparse".into()));
    }
    let user = prompt.render(&[
        ("TITLE", task.title.clone()),
        ("PRIMARY_KEYWORD", task.primary_keyword.clone()),
        ("ARTICLE_HTML", task.content_html.clone()),
    ]);
    let mut req = ChatRequest::new(prompt.system.clone(), user).purpose(prompts::REPARSE_PURPOSE);
    req.json = true;
    req.max_tokens = ((task.word_count as u32) * 2 + 1000).min(16_000);
    let res = router::chat(state, tenant_id, Some(job.id), req).await?;
    let answer: Answer = parse::json(&res)?;
    let (content, words) = checked_article(state, &answer.content_html, task.word_count)?;
    let (job_id, read_html, sample) = (job.id, task.content_html, res.sample);
    let credits = if sample { 0 } else { CREDITS };
    Ok(Completion {
        result: serde_json::json!({ "task_id": task_id, "words": words, "before": task.word_count }),
        effects: Some(Box::new(move |conn| {
            Box::pin(async move {
                let by = format!("job #{job_id}");
                // Restructured from the article as it was when the job began: if it was edited or restored since,
                // replacing it would throw that change away.
                let change = |now: &Task| {
                    if now.content_html != read_html {
                        return Err(AppError::Conflict(CHANGED_MEANWHILE.into()));
                    }
                    // Restructured by the dev provider, the article becomes sample text; a real model keeps what it was.
                    let sample = (sample || now.sample).then_some(true);
                    Ok(ArticleChange {
                        content_html: Some(content),
                        word_count: Some(words),
                        error: Some(None),
                        sample,
                        ..Default::default()
                    })
                };
                article::replace(conn, tenant_id, task_id, Reason::Reparse, &by, credits, change).await?;
                let who = Who { tenant_id, user_id: None, label: by, ip: None };
                audit::record(conn, &who, "task.reparsed", ("task", task_id.to_string()), serde_json::json!({ "words": words })).await
            })
        })),
        actual_credits: sample.then_some(0),
    })
}
