//! `publish.post` (0 credits): media → content rewrite → terms → the post (its remote id stored in the same
//! step) → attach media → SEO meta. The steps are kept on the publication's trail. Before anything is created
//! the post is looked up by stored remote id, then by slug (drafts too), and each image by its marker slug, so
//! a retry after a crash adopts what the lost attempt made instead of making a second one (`remote`, `media`).

use std::sync::Arc;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::content::rewrite_images;
use super::media::{self, ImageState};
use super::remote;
use super::service::{self, Publication, PublicationState, record_step};
use crate::audit::{self, Who};
use crate::db::schema::{publications, tasks};
use crate::error::{AppError, AppResult};
use crate::jobs::{ClaimedJob, Completion, Ended, Job, JobError, Subject};
use crate::modules::sites::service::{Connection, connect};
use crate::modules::writer::service::{Task, TaskStatus};
use crate::state::AppState;
use crate::wordpress::posts::{self, remote as wp_status};
use crate::wordpress::{WpError, text_of};

impl From<WpError> for JobError {
    fn from(e: WpError) -> Self {
        if e.is_transient() { JobError::retry(e.to_string()) } else { JobError::Fatal(e.to_string()) }
    }
}

/// Marks which IGNY8 task a post belongs to (tenant too: two workspaces may publish to one site).
pub fn marker(tenant_id: i64, task_id: i64) -> String {
    format!("{tenant_id}:{task_id}")
}

/// `publish.post` (0 credits): publish or update the task's article on its publication's site.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PublishPost {
    pub task_id: i64,
    /// Rehearsal knob for the crash tests: stop as if the process died right after the post was created, on
    /// attempts up to this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash_after_create_attempts: Option<i64>,
    /// The same, right after the first image was uploaded (before IGNY8 noted it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash_after_upload_attempts: Option<i64>,
}

impl PublishPost {
    pub fn new(task_id: i64) -> Self {
        PublishPost { task_id, ..Default::default() }
    }
    /// Is this attempt one the rehearsal knob `knob` stops?
    pub(super) fn rehearse(knob: Option<i64>, job: &ClaimedJob) -> bool {
        knob.is_some_and(|n| n >= job.attempts as i64)
    }
}

impl Job for PublishPost {
    const KIND: &'static str = service::PUBLISH_KIND;
    const MAX_ATTEMPTS: i32 = 5;

    fn subject(&self) -> Option<Subject> {
        Some(Subject::task(self.task_id))
    }

    async fn run(self, state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
        let result = publish(&state, &job, &self).await;
        // A retry to come is noted on the trail; the end of the job is the failure hook's.
        if let Err(e) = &result
            && !job.is_final(e)
            && let Ok(mut conn) = state.db.get().await
            && let Err(err) = record_step(&mut conn, job.tenant_id, self.task_id, "failed", false, e.message()).await
        {
            tracing::warn!(error = %err, "could not note the failed attempt on the publication");
        }
        result
    }

    /// The publication says why; the task gets its status back (published if the post is still live).
    async fn on_final_failure(&self, conn: &mut AsyncPgConnection, ended: &Ended<'_>) -> AppResult<()> {
        let (tenant_id, task_id) = (ended.tenant_id, self.task_id);
        let Some(p) = service::get(conn, tenant_id, task_id).await? else { return Ok(()) };
        record_step(conn, tenant_id, task_id, "failed", false, ended.reason).await?;
        diesel::update(publications::table.filter(publications::tenant_id.eq(tenant_id)).filter(publications::task_id.eq(task_id)))
            .set((
                publications::state.eq(PublicationState::Failed),
                publications::error.eq(ended.reason),
                publications::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        diesel::update(
            tasks::table
                .filter(tasks::tenant_id.eq(tenant_id))
                .filter(tasks::id.eq(task_id))
                .filter(tasks::status.eq(TaskStatus::Publishing)),
        )
        .set(tasks::status.eq(p.task_status_after()))
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// What one run works with: the site, and the steps done since the last write — saved with the remote id, with
/// the completion, or on failure, not one commit each (they would be a third of IGNY8's own time per article).
pub(super) struct Ctx<'a> {
    pub state: &'a AppState,
    pub tenant_id: i64,
    pub task_id: i64,
    pub c: Connection,
    trail: std::sync::Mutex<Vec<Value>>,
}

impl Ctx<'_> {
    pub fn step(&self, step: &str, detail: &str) {
        self.push(step, true, detail);
    }
    pub fn push(&self, step: &str, ok: bool, detail: &str) {
        self.trail.lock().expect("trail lock").push(json!({ "step": step, "ok": ok, "detail": detail, "at": chrono::Utc::now() }));
    }
    pub fn take(&self) -> Value {
        Value::Array(std::mem::take(&mut *self.trail.lock().expect("trail lock")))
    }
}

async fn publish(state: &AppState, job: &ClaimedJob, payload: &PublishPost) -> Result<Completion, JobError> {
    let (tenant_id, task_id) = (job.tenant_id, payload.task_id);
    let (task, publication, imgs, images, c) = {
        let mut conn = state.db.get().await?;
        // The task and the publication (marked running as it is read) in one round trip.
        let shared: &AsyncPgConnection = &conn;
        let (task, p) = tokio::try_join!(
            tasks::table
                .filter(tasks::tenant_id.eq(tenant_id))
                .filter(tasks::id.eq(task_id))
                .select(Task::as_select())
                .first::<Task>(&mut &*shared),
            diesel::update(publications::table.filter(publications::tenant_id.eq(tenant_id)).filter(publications::task_id.eq(task_id)))
                .set((
                    publications::state.eq(PublicationState::Running),
                    publications::steps.eq(json!([])),
                    publications::warning.eq(None::<String>),
                ))
                .returning(Publication::as_returning())
                .get_result::<Publication>(&mut &*shared),
        )
        .map_err(|e| match e {
            diesel::result::Error::NotFound => JobError::Fatal("the task or its publication was deleted".into()),
            other => other.into(),
        })?;
        let imgs = media::ready_images(&mut conn, tenant_id, task_id, p.site_id).await?;
        let images = media::image_state(&mut conn, tenant_id, task_id).await?;
        let c = match connect(state, &mut conn, tenant_id, p.site_id).await {
            Err(AppError::Conflict(m)) => return Err(JobError::Fatal(m)),
            Err(AppError::NotFound) => return Err(JobError::Fatal("the site was deleted".into())),
            other => other?,
        };
        (task, p, imgs, images, c)
    };
    let cx = Ctx { state, tenant_id, task_id, c, trail: Default::default() };
    let out = steps(&cx, job, payload, &task, &publication, &imgs, images).await;
    if out.is_err()
        && let Ok(mut conn) = state.db.get().await
        && let Err(e) = service::append_steps(&mut conn, tenant_id, task_id, cx.take()).await
    {
        tracing::warn!(error = %e, "could not save the steps of a failed publish attempt");
    }
    out
}

async fn steps(
    cx: &Ctx<'_>,
    job: &ClaimedJob,
    payload: &PublishPost,
    task: &Task,
    publication: &Publication,
    imgs: &[media::ReadyImage],
    images: ImageState,
) -> Result<Completion, JobError> {
    let wp = &cx.c.wp;
    let known = remote::find_post(cx, task, publication).await?;
    let post_id_known = known.as_ref().and_then(|p| p.get("id")).and_then(|v| v.as_i64());

    // 1. Media: each image once per site (again only when it was regenerated); one lost to a crash is adopted.
    let uploaded = media::upload(cx, job, payload, task, publication, imgs, post_id_known).await?;

    // 2. The article's image sources point at the site's copies.
    let content = rewrite_images(&task.content_html, &uploaded.urls());
    let in_article = uploaded.urls().len().saturating_sub(imgs.iter().filter(|i| i.position == 0).count());
    cx.step("content", &format!("{in_article} image source(s) rewritten"));

    // 3. Terms, created when missing.
    let mut category_ids = Vec::new();
    for name in &publication.categories {
        category_ids.push(posts::term_id(wp, "categories", name).await?);
    }
    let mut tag_ids = Vec::new();
    for name in &publication.tags {
        tag_ids.push(posts::term_id(wp, "tags", name).await?);
    }
    let plural = if category_ids.len() == 1 { "y" } else { "ies" };
    cx.step("terms", &format!("{} categor{plural}, {} tag(s)", category_ids.len(), tag_ids.len()));

    // 4. The post: update the one found, or create it and store its id at once.
    let featured = imgs.iter().find(|i| i.position == 0).and_then(|i| uploaded.remote.get(&i.id)).map(|r| r.0).unwrap_or(0);
    let body = remote::post_body(cx, task, publication, content, featured, category_ids, tag_ids);
    let (post, created) = remote::create_or_update(cx, job, payload, publication, &body, post_id_known).await?;
    let post_id = post.get("id").and_then(|v| v.as_i64()).unwrap_or(0);
    cx.step("post", &format!("{} post {post_id} ({})", if created { "created" } else { "updated" }, text_of(&post, "status")));

    // 5. Attach media uploaded before the post existed.
    media::attach(cx, &uploaded, publication.site_id, post_id).await?;

    // 6. SEO meta: may fail alone; the article is out either way.
    let mut warnings: Vec<String> = remote::seo_meta(cx, task, post_id).await.into_iter().collect();
    warnings.extend(images.warning());
    let warning = (!warnings.is_empty()).then(|| warnings.join(" "));
    completion(cx, publication, &post, created, warning)
}

/// The job's result, and the publication and task as they end, written with the completion.
fn completion(
    cx: &Ctx<'_>,
    publication: &Publication,
    post: &Value,
    created: bool,
    warning: Option<String>,
) -> Result<Completion, JobError> {
    let (tenant_id, task_id) = (cx.tenant_id, cx.task_id);
    let trail = cx.take();
    let post_id = post.get("id").and_then(|v| v.as_i64()).unwrap_or(0);
    let remote_status = text_of(post, "status");
    let link = text_of(post, "link");
    let site_id = publication.site_id;
    let task_status = if wp_status::is_live(&remote_status) { TaskStatus::Published } else { publication.task_status_before };
    let result = json!({ "post_id": post_id, "created": created, "status": remote_status, "url": link, "warning": warning });
    Ok(Completion {
        result,
        effects: Some(Box::new(move |conn| {
            Box::pin(async move {
                diesel::update(publications::table.filter(publications::tenant_id.eq(tenant_id)).filter(publications::task_id.eq(task_id)))
                    .set((
                        publications::state.eq(PublicationState::Done),
                        publications::steps.eq(publications::steps.concat(trail)),
                        publications::warning.eq(&warning),
                        publications::error.eq(None::<String>),
                        publications::published_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)
                    .await?;
                diesel::update(tasks::table.filter(tasks::tenant_id.eq(tenant_id)).filter(tasks::id.eq(task_id)))
                    .set((tasks::status.eq(task_status), tasks::updated_at.eq(diesel::dsl::now)))
                    .execute(conn)
                    .await?;
                let who = Who { tenant_id, user_id: None, label: "worker".into(), ip: None };
                audit::record(
                    conn,
                    &who,
                    "task.published",
                    ("task", task_id.to_string()),
                    json!({ "site_id": site_id, "post_id": post_id, "status": remote_status, "created": created }),
                )
                .await
            })
        })),
        actual_credits: None,
    })
}
