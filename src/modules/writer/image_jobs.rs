//! Images as jobs. `writer.image_prompts` (free) asks the text model for a featured-image prompt and the
//! workspace's number of in-article prompts (no more than the article's H2s), stores them as image rows and
//! queues one `writer.image` job per image (1 credit each). `writer.image` renders one image on the
//! workspace's image provider, stores it and places the in-article ones after their H2.

use std::sync::Arc;

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use super::images::{self, ImageKind, ImageStatus};
use super::service::{Task, TaskStatus};
use super::{html, prompts};
use crate::ai::platform::IMAGE_PURPOSE;
use crate::ai::{ChatRequest, ImageRequest, access, parse, router};
use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::billing::Price;
use crate::db::schema::{images as images_t, tasks};
use crate::error::{AppError, AppResult};
use crate::jobs::queue::{enqueue_all_in_tx, enqueue_in_tx};
use crate::jobs::{ClaimedJob, Completion, Ended, Job, JobError, Subject};
use crate::state::AppState;
use crate::tenancy::TenantCtx;

pub const PROMPTS_KIND: &str = "writer.image_prompts";
pub const IMAGE_KIND: &str = "writer.image";
pub const CREDITS_PER_IMAGE: i64 = 1;

/// "Generate images" for tasks that have an article.
pub async fn enqueue_prompts(state: &AppState, ctx: &TenantCtx, ids: &[i64]) -> AppResult<Vec<i64>> {
    ctx.require(Perm::EditContent)?;
    let (tenant_id, label, ids) = (ctx.tenant_id, ctx.actor_label(), ids.to_vec());
    // The prompts are free; the images they plan cost credits — both need a provider.
    let price = access::price(state, tenant_id, prompts::IMAGE_PROMPTS_PURPOSE, 0).await?;
    access::price(state, tenant_id, IMAGE_PURPOSE, CREDITS_PER_IMAGE).await?;
    let mut conn = state.db.get().await?;
    let jobs = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let found: Vec<(i64, TaskStatus, i32)> = tasks::table
                .filter(tasks::tenant_id.eq(tenant_id))
                .filter(tasks::id.eq_any(&ids))
                .select((tasks::id, tasks::status, tasks::word_count))
                .load(conn)
                .await?;
            if found.is_empty() {
                return Err(AppError::NotFound);
            }
            let ready: Vec<i64> = found.iter().filter(|(_, s, w)| s.is_written() && *w > 0).map(|(id, _, _)| *id).collect();
            if ready.is_empty() {
                return Err(AppError::Conflict("Images are made from an article: generate the content first".into()));
            }
            let payloads = ready.iter().map(|id| ImagePrompts { task_id: *id }).collect();
            enqueue_all_in_tx(conn, tenant_id, price, &label, payloads).await
        })
        .await?;
    crate::jobs::worker::wake(state).await;
    Ok(jobs)
}

#[derive(Debug, Deserialize)]
struct PromptAnswer {
    featured: ImagePrompt,
    #[serde(default)]
    in_article: Vec<ImagePrompt>,
}

#[derive(Debug, Deserialize)]
struct ImagePrompt {
    prompt: String,
    #[serde(default)]
    alt: String,
}

/// `writer.image_prompts` (free): the prompts and alt texts of a task's images, which it then queues.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImagePrompts {
    pub task_id: i64,
}

impl Job for ImagePrompts {
    const KIND: &'static str = PROMPTS_KIND;

    fn subject(&self) -> Option<Subject> {
        Some(Subject::task(self.task_id))
    }

    async fn run(self, state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
        plan_images(state, job, self.task_id).await
    }

    /// The task says why its images were not made ("Generate images" works again at once).
    async fn on_final_failure(&self, conn: &mut AsyncPgConnection, ended: &Ended<'_>) -> AppResult<()> {
        diesel::update(tasks::table.filter(tasks::tenant_id.eq(ended.tenant_id)).filter(tasks::id.eq(self.task_id)))
            .set(tasks::error.eq(format!("images: {}", ended.reason)))
            .execute(conn)
            .await?;
        Ok(())
    }
}

async fn plan_images(state: Arc<AppState>, job: ClaimedJob, task_id: i64) -> Result<Completion, JobError> {
    let tenant_id = job.tenant_id;
    let (task, prompt, per_article) = {
        let mut conn = state.db.get().await?;
        let task: Task = super::service::get(&mut conn, tenant_id, task_id).await.map_err(|e| match e {
            AppError::NotFound => JobError::Fatal("the task was deleted".into()),
            other => other.into(),
        })?;
        let prompt = crate::modules::thinker::service::resolve(&state.prompts, &mut conn, tenant_id, "image_prompts").await?;
        let settings = state.ai_settings.get(&state, tenant_id).await?;
        (task, prompt, settings.images_per_article.clamp(0, 4) as usize)
    };
    let count = per_article.min(html::h2_count(&task.content_html));
    let user = prompt.render(&[
        ("TITLE", task.title.clone()),
        ("ARTICLE_TEXT", html::text(&task.content_html, 1500)),
        ("IMAGE_COUNT", count.to_string()),
    ]);
    let mut req = ChatRequest::new(prompt.system.clone(), user).purpose(prompts::IMAGE_PROMPTS_PURPOSE);
    req.json = true;
    let res = router::chat(&state, tenant_id, Some(job.id), req).await?;
    let answer: PromptAnswer = parse::json(&res)?;
    let image_price = access::price(&state, tenant_id, IMAGE_PURPOSE, CREDITS_PER_IMAGE).await?;
    let clean = |p: &ImagePrompt| (p.prompt.trim().chars().take(1000).collect::<String>(), html::fit(&p.alt, 200));
    let mut wanted: Vec<(ImageKind, i32, String, String)> = Vec::new();
    let (fp, fa) = clean(&answer.featured);
    if fp.is_empty() {
        return Err(JobError::Fatal("the model gave no featured-image prompt".into()));
    }
    wanted.push((ImageKind::Featured, 0, fp, if fa.is_empty() { task.title.clone() } else { fa }));
    for (i, p) in answer.in_article.iter().filter(|p| !p.prompt.trim().is_empty()).take(count).enumerate() {
        let (pp, pa) = clean(p);
        wanted.push((ImageKind::InArticle, i as i32 + 1, pp, pa));
    }
    let (job_id, n) = (job.id, wanted.len());
    Ok(Completion {
        result: serde_json::json!({ "task_id": task_id, "images": n }),
        effects: Some(Box::new(move |conn| {
            Box::pin(async move {
                // A new set replaces the task's images.
                diesel::delete(images_t::table.filter(images_t::tenant_id.eq(tenant_id)).filter(images_t::task_id.eq(task_id)))
                    .execute(conn)
                    .await?;
                for (kind, position, prompt, alt) in &wanted {
                    let id: i64 = diesel::insert_into(images_t::table)
                        .values((
                            images_t::tenant_id.eq(tenant_id),
                            images_t::task_id.eq(task_id),
                            images_t::kind.eq(kind),
                            images_t::position.eq(position),
                            images_t::prompt.eq(prompt),
                            images_t::alt.eq(alt),
                        ))
                        .returning(images_t::id)
                        .get_result(conn)
                        .await?;
                    queue_image(conn, tenant_id, id, image_price, &format!("job #{job_id}")).await?;
                }
                let who = Who { tenant_id, user_id: None, label: format!("job #{job_id}"), ip: None };
                audit::record(conn, &who, "images.planned", ("task", task_id.to_string()), serde_json::json!({ "images": n })).await
            })
        })),
        actual_credits: None,
    })
}

/// Queues one image (1 credit). Short of credits, the image is marked failed with the reason instead.
async fn queue_image(conn: &mut diesel_async::AsyncPgConnection, tenant_id: i64, image_id: i64, price: Price, by: &str) -> AppResult<()> {
    match enqueue_in_tx(conn, &RenderImage { image_id }.new_job(tenant_id).price(price).by(by)).await {
        Ok(_) => Ok(()),
        Err(AppError::PaymentRequired(msg)) => {
            diesel::update(images_t::table.filter(images_t::tenant_id.eq(tenant_id)).filter(images_t::id.eq(image_id)))
                .set((images_t::status.eq(ImageStatus::Failed), images_t::error.eq(msg)))
                .execute(conn)
                .await?;
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// "Regenerate" one image: a new render of the same prompt (1 credit).
pub async fn regenerate(state: &AppState, ctx: &TenantCtx, image_id: i64) -> AppResult<i64> {
    ctx.require(Perm::EditContent)?;
    let (tenant_id, label) = (ctx.tenant_id, ctx.actor_label());
    let price = access::price(state, tenant_id, IMAGE_PURPOSE, CREDITS_PER_IMAGE).await?;
    let mut conn = state.db.get().await?;
    let id = conn
        .transaction::<_, AppError, _>(async move |conn| {
            crate::billing::ledger::lock_and_check(conn, tenant_id, price.credits).await?;
            let n = diesel::update(images_t::table.filter(images_t::tenant_id.eq(tenant_id)).filter(images_t::id.eq(image_id)))
                .set((
                    images_t::status.eq(ImageStatus::Queued),
                    images_t::error.eq(None::<String>),
                    images_t::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            if n == 0 {
                return Err(AppError::NotFound);
            }
            enqueue_in_tx(conn, &RenderImage { image_id }.new_job(tenant_id).price(price).by(label)).await
        })
        .await?;
    crate::jobs::worker::wake(state).await;
    Ok(id)
}

/// `writer.image` (1 credit): one image rendered on the workspace's image provider.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RenderImage {
    pub image_id: i64,
}

impl Job for RenderImage {
    const KIND: &'static str = IMAGE_KIND;

    fn subject(&self) -> Option<Subject> {
        Some(Subject::image(self.image_id))
    }

    async fn run(self, state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
        render(&state, &job, self.image_id).await
    }

    /// The image shows why it failed and can be regenerated.
    async fn on_final_failure(&self, conn: &mut AsyncPgConnection, ended: &Ended<'_>) -> AppResult<()> {
        diesel::update(images_t::table.filter(images_t::tenant_id.eq(ended.tenant_id)).filter(images_t::id.eq(self.image_id)))
            .set((images_t::status.eq(ImageStatus::Failed), images_t::error.eq(ended.reason), images_t::updated_at.eq(diesel::dsl::now)))
            .execute(conn)
            .await?;
        Ok(())
    }
}

async fn render(state: &AppState, job: &ClaimedJob, image_id: i64) -> Result<Completion, JobError> {
    let tenant_id = job.tenant_id;
    let ((task_id, kind, prompt_text), title, template) = {
        let mut conn = state.db.get().await?;
        let row: (i64, ImageKind, String) = images_t::table
            .filter(images_t::tenant_id.eq(tenant_id))
            .filter(images_t::id.eq(image_id))
            .select((images_t::task_id, images_t::kind, images_t::prompt))
            .first(&mut conn)
            .await
            .optional()?
            .ok_or_else(|| JobError::Fatal("the image was removed".into()))?;
        let title: String =
            tasks::table.filter(tasks::tenant_id.eq(tenant_id)).filter(tasks::id.eq(row.0)).select(tasks::title).first(&mut conn).await?;
        let template = crate::modules::thinker::service::resolve(&state.prompts, &mut conn, tenant_id, "image").await?;
        (row, title, template)
    };
    let (width, height) = match kind {
        ImageKind::Featured => (1200, 630),
        ImageKind::InArticle => (1024, 768),
    };
    let req =
        ImageRequest { model: String::new(), prompt: template.render(&[("IMAGE_PROMPT", prompt_text), ("TITLE", title)]), width, height };
    let res = router::image(state, tenant_id, Some(job.id), req).await?;
    if res.bytes.is_empty() {
        return Err(JobError::Fatal("the image provider returned no image".into()));
    }
    let (bytes, content_type, model, sample) = (res.bytes, res.content_type, res.model, res.sample);
    let (size, hash) = (bytes.len() as i32, crate::crypto::secrets::sha256_hex(&bytes));
    let secret = state.config.secret_key.clone();
    Ok(Completion {
        result: serde_json::json!({ "image_id": image_id, "bytes": size, "content_type": content_type }),
        effects: Some(Box::new(move |conn| {
            Box::pin(async move {
                diesel::update(images_t::table.filter(images_t::tenant_id.eq(tenant_id)).filter(images_t::id.eq(image_id)))
                    .set((
                        images_t::status.eq(ImageStatus::Ready),
                        images_t::data.eq(Some(&bytes)),
                        images_t::content_type.eq(&content_type),
                        images_t::size_bytes.eq(size),
                        images_t::sha256.eq(&hash),
                        images_t::model.eq(&model),
                        images_t::sample.eq(sample),
                        images_t::error.eq(None::<String>),
                        images_t::updated_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)
                    .await?;
                if kind == ImageKind::InArticle {
                    images::place_in_task(&secret, conn, tenant_id, task_id).await?;
                }
                Ok(())
            })
        })),
        actual_credits: sample.then_some(0),
    })
}
