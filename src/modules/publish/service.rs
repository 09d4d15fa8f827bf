//! Publications: one per task — which site, which remote post, what was asked (status, date, terms) and
//! what each step of the last run did. Publishing, unpublishing and status sync are jobs (0 credits); the
//! page, the API and automation all queue them through the functions here.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use super::job::PublishPost;
use super::sync::{Sync, Unpublish};
use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::db::schema::{publications, sites, tasks};
use crate::error::{AppError, AppResult};
use crate::jobs::queue::enqueue_in_tx;
use crate::jobs::{Job, Subject};
use crate::modules::writer::service::TaskStatus;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::validate::Check;
use crate::wordpress::posts::{PostStatus, remote};

pub const PUBLISH_KIND: &str = "publish.post";
pub const UNPUBLISH_KIND: &str = "publish.unpublish";
pub const SYNC_KIND: &str = "publish.sync";

crate::text_enum! {
    /// `publications.state`: how the last publish or unpublish request of the article went.
    pub enum PublicationState {
        Queued = "queued",
        Running = "running",
        Done = "done",
        Failed = "failed",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = publications)]
pub struct Publication {
    pub task_id: i64,
    pub site_id: i64,
    pub remote_id: Option<i64>,
    pub remote_status: String,
    pub remote_url: String,
    pub remote_modified: Option<DateTime<Utc>>,
    pub state: PublicationState,
    pub post_status: PostStatus,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub categories: Vec<String>,
    pub tags: Vec<String>,
    pub task_status_before: TaskStatus,
    pub steps: serde_json::Value,
    pub warning: Option<String>,
    pub error: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub synced_at: Option<DateTime<Utc>>,
}

impl Publication {
    pub fn is_gone(&self) -> bool {
        remote::is_gone(&self.remote_status)
    }
    pub fn is_busy(&self) -> bool {
        matches!(self.state, PublicationState::Queued | PublicationState::Running)
    }
    /// On the site and visible (or scheduled to be).
    pub fn is_live(&self) -> bool {
        self.remote_id.is_some() && remote::is_live(&self.remote_status)
    }
    /// The task's status once a publish or unpublish is over: published while the post is live, otherwise the
    /// status it had before it was sent.
    pub fn task_status_after(&self) -> TaskStatus {
        if self.is_live() { TaskStatus::Published } else { self.task_status_before }
    }
    /// `(step, ok, detail)` of the last run, for the page.
    pub fn step_list(&self) -> Vec<(String, bool, String)> {
        self.steps
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| {
                        let t = |k: &str| s.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
                        (t("step"), s.get("ok").and_then(|v| v.as_bool()).unwrap_or(false), t("detail"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Is a publish or unpublish job of this task still queued or running? (The publication's own state can be left
/// behind by a job that was cancelled or died, so the queue is what decides "busy".)
pub async fn has_open_job(conn: &mut AsyncPgConnection, tenant_id: i64, task_id: i64) -> AppResult<bool> {
    crate::jobs::open::has_open(conn, tenant_id, Subject::task(task_id), &[PUBLISH_KIND, UNPUBLISH_KIND]).await
}

pub async fn get(conn: &mut AsyncPgConnection, tenant_id: i64, task_id: i64) -> AppResult<Option<Publication>> {
    Ok(publications::table
        .filter(publications::tenant_id.eq(tenant_id))
        .filter(publications::task_id.eq(task_id))
        .select(Publication::as_select())
        .first(conn)
        .await
        .optional()?)
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PublishInput {
    pub site_id: i64,
    /// draft, publish or future; empty → the site's default.
    pub status: String,
    /// For `future`: RFC 3339, or `YYYY-MM-DDTHH:MM` from a datetime-local field (UTC).
    pub scheduled_at: String,
    /// Comma-separated on forms; a list in JSON.
    #[serde(deserialize_with = "crate::validate::list_or_csv")]
    pub categories: Vec<String>,
    #[serde(deserialize_with = "crate::validate::list_or_csv")]
    pub tags: Vec<String>,
    /// Publish again as a new post after the old one was trashed or deleted on the site.
    pub as_new_post: bool,
    /// The editor confirmed publishing sample text from the dev provider (automation never does).
    pub confirm_sample: bool,
}

const MAX_TERMS: usize = 10;

pub const SAMPLE_NEEDS_CONFIRMATION: &str =
    "This article is sample text from the offline dev provider. Tick “Publish sample text anyway” to publish it.";

fn terms(c: &mut Check, field: &str, label: &str, given: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in given.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        if t.chars().count() > 100 || t.chars().any(|ch| ch.is_control()) {
            c.fail(field, format!("{label}: “{}” is too long or has control characters", t.chars().take(40).collect::<String>()));
        } else if !out.iter().any(|o| o.eq_ignore_ascii_case(t)) {
            out.push(t.to_string());
        }
    }
    if out.len() > MAX_TERMS {
        c.fail(field, format!("At most {MAX_TERMS} {}", label.to_lowercase()));
    }
    out
}

fn parse_when(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").ok().map(|n| n.and_utc()))
}

/// What a publish request asks for, checked.
struct Request {
    site_id: i64,
    status: PostStatus,
    scheduled_at: Option<DateTime<Utc>>,
    categories: Vec<String>,
    tags: Vec<String>,
    as_new: bool,
}

/// Checks the request against the workspace's site (its default status and category fill what is left out).
async fn checked_request(conn: &mut AsyncPgConnection, tenant_id: i64, input: &PublishInput) -> AppResult<Request> {
    let (site_id, default_status, default_category): (i64, PostStatus, String) = sites::table
        .filter(sites::tenant_id.eq(tenant_id))
        .filter(sites::id.eq(input.site_id))
        .select((sites::id, sites::default_status, sites::default_category))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::field("site_id", "Choose one of this workspace's sites"))?;
    let mut c = Check::new();
    let status = match input.status.trim() {
        "" => Some(default_status),
        given => PostStatus::parse(given),
    };
    if status.is_none() {
        c.fail("status", "Status is draft, publish or future (scheduled)");
    }
    let scheduled_at = if status == Some(PostStatus::Future) {
        match parse_when(&input.scheduled_at) {
            Some(t) if t > Utc::now() => Some(t),
            Some(_) => {
                c.fail("scheduled_at", "A scheduled post needs a date in the future");
                None
            }
            None => {
                c.fail("scheduled_at", "Give the date and time to publish at (UTC)");
                None
            }
        }
    } else {
        None
    };
    let mut categories = terms(&mut c, "categories", "Categories", &input.categories);
    if categories.is_empty() && !default_category.is_empty() {
        categories.push(default_category);
    }
    let tags = terms(&mut c, "tags", "Tags", &input.tags);
    c.finish()?;
    let status = status.expect("checked above");
    Ok(Request { site_id, status, scheduled_at, categories, tags, as_new: input.as_new_post })
}

/// Queues publishing of one task. An article already on the site is updated in place (never a second post);
/// one trashed or deleted there is only published again when asked for explicitly (`as_new_post`).
pub async fn enqueue_publish(state: &AppState, ctx: &TenantCtx, task_id: i64, input: &PublishInput) -> AppResult<i64> {
    ctx.require(Perm::EditContent)?;
    let (tenant_id, who, label) = (ctx.tenant_id, Who::from(ctx), ctx.actor_label());
    let mut conn = state.db.get().await?;
    let req = checked_request(&mut conn, tenant_id, input).await?;
    let confirm_sample = input.confirm_sample;
    let job = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let (task_status, words, sample): (TaskStatus, i32, bool) = tasks::table
                .filter(tasks::tenant_id.eq(tenant_id))
                .filter(tasks::id.eq(task_id))
                .select((tasks::status, tasks::word_count, tasks::sample))
                .for_update()
                .first(conn)
                .await?;
            if sample && !confirm_sample {
                return Err(AppError::Conflict(SAMPLE_NEEDS_CONFIRMATION.into()));
            }
            // "publishing" with no job behind it is what a cancelled or dead job leaves: it may be published again.
            let stale = task_status == TaskStatus::Publishing && !has_open_job(conn, tenant_id, task_id).await?;
            let publishable = task_status.is_written() || task_status == TaskStatus::Published || stale;
            if !publishable || words == 0 {
                return Err(AppError::Conflict(format!("This task is {task_status}; only a task with an article can be published")));
            }
            let before = get(conn, tenant_id, task_id).await?;
            let keep_remote = match &before {
                Some(p) => may_publish_again(conn, tenant_id, task_id, p, &req).await?,
                None => true,
            };
            let status_before = match (&before, task_status == TaskStatus::Published || stale) {
                (_, false) => task_status,
                (Some(p), true) => p.task_status_before,
                (None, true) => TaskStatus::Ready,
            };
            record_request(conn, tenant_id, task_id, &req, status_before, keep_remote).await?;
            diesel::update(tasks::table.filter(tasks::tenant_id.eq(tenant_id)).filter(tasks::id.eq(task_id)))
                .set((tasks::status.eq(TaskStatus::Publishing), tasks::updated_at.eq(diesel::dsl::now)))
                .execute(conn)
                .await?;
            let detail = serde_json::json!({ "site_id": req.site_id, "status": req.status, "as_new_post": req.as_new });
            audit::record(conn, &who, "task.publish_requested", ("task", task_id.to_string()), detail).await?;
            enqueue_in_tx(conn, &PublishPost::new(task_id).new_job(tenant_id).by(label)).await
        })
        .await?;
    crate::jobs::worker::wake(state).await;
    Ok(job)
}

/// Whether an article with a publication may be sent now, and whether its remote post is kept (updated in place)
/// or forgotten (a new post: asked for after a trash or delete, or on another site).
async fn may_publish_again(conn: &mut AsyncPgConnection, tenant_id: i64, task_id: i64, p: &Publication, req: &Request) -> AppResult<bool> {
    if p.is_busy() && has_open_job(conn, tenant_id, task_id).await? {
        return Err(AppError::Conflict("This article is already being published".into()));
    }
    if p.is_gone() && !req.as_new {
        return Err(AppError::Conflict(format!(
            "The post was {} on WordPress; IGNY8 does not re-create it on its own. Publish it as a new post if you want it back",
            if p.remote_status == remote::TRASH { "trashed" } else { "deleted" }
        )));
    }
    // Moving to another site: only once the post is no longer public on the first one.
    let moving = p.site_id != req.site_id;
    if moving && p.remote_id.is_some() && remote::is_out(&p.remote_status) {
        return Err(AppError::field("site_id", "This article is live on another site; unpublish it there first"));
    }
    Ok((!p.is_gone() || !req.as_new) && !moving)
}

/// The publication as requested: queued, with what was asked; the remote post forgotten unless `keep_remote`.
async fn record_request(
    conn: &mut AsyncPgConnection,
    tenant_id: i64,
    task_id: i64,
    req: &Request,
    status_before: TaskStatus,
    keep_remote: bool,
) -> AppResult<()> {
    diesel::insert_into(publications::table)
        .values((
            publications::tenant_id.eq(tenant_id),
            publications::task_id.eq(task_id),
            publications::site_id.eq(req.site_id),
            publications::state.eq(PublicationState::Queued),
            publications::post_status.eq(req.status),
            publications::scheduled_at.eq(req.scheduled_at),
            publications::categories.eq(&req.categories),
            publications::tags.eq(&req.tags),
            publications::task_status_before.eq(status_before),
        ))
        .on_conflict((publications::tenant_id, publications::task_id))
        .do_update()
        .set((
            publications::site_id.eq(req.site_id),
            publications::state.eq(PublicationState::Queued),
            publications::post_status.eq(req.status),
            publications::scheduled_at.eq(req.scheduled_at),
            publications::categories.eq(&req.categories),
            publications::tags.eq(&req.tags),
            publications::task_status_before.eq(status_before),
            publications::error.eq(None::<String>),
            publications::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    if !keep_remote {
        diesel::update(publications::table.filter(publications::tenant_id.eq(tenant_id)).filter(publications::task_id.eq(task_id)))
            .set((publications::remote_id.eq(None::<i64>), publications::remote_status.eq(remote::NONE), publications::remote_url.eq("")))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Publishes the article again where it is, as it is there (status, date, terms): an update in place, e.g. to add
/// images finished after the post went out.
pub async fn enqueue_refresh(state: &AppState, ctx: &TenantCtx, task_id: i64) -> AppResult<i64> {
    let p = {
        let mut conn = state.db.get().await?;
        get(&mut conn, ctx.tenant_id, task_id).await?.ok_or(AppError::NotFound)?
    };
    // As it is on the site now (a scheduled post may have gone out since), else as it was asked for.
    let status = PostStatus::parse(&p.remote_status).unwrap_or(p.post_status);
    let input = PublishInput {
        site_id: p.site_id,
        scheduled_at: p.scheduled_at.filter(|_| status == PostStatus::Future).map(|t| t.to_rfc3339()).unwrap_or_default(),
        status: status.to_string(),
        categories: p.categories,
        tags: p.tags,
        as_new_post: false,
        // Already on the site: whoever sent sample text there confirmed it then.
        confirm_sample: true,
    };
    enqueue_publish(state, ctx, task_id, &input).await
}

/// Queues taking a published article back to draft on its site.
pub async fn enqueue_unpublish(state: &AppState, ctx: &TenantCtx, task_id: i64) -> AppResult<i64> {
    ctx.require(Perm::EditContent)?;
    let (tenant_id, who, label) = (ctx.tenant_id, Who::from(ctx), ctx.actor_label());
    let mut conn = state.db.get().await?;
    let job = conn
        .transaction::<_, AppError, _>(async move |conn| {
            // The task row serialises this with a publish request for the same article.
            tasks::table
                .filter(tasks::tenant_id.eq(tenant_id))
                .filter(tasks::id.eq(task_id))
                .select(tasks::id)
                .for_update()
                .first::<i64>(conn)
                .await?;
            let p = get(conn, tenant_id, task_id).await?.ok_or(AppError::NotFound)?;
            if p.remote_id.is_none() || p.is_gone() {
                return Err(AppError::Conflict("This article is not on a site".into()));
            }
            if p.is_busy() && has_open_job(conn, tenant_id, task_id).await? {
                return Err(AppError::Conflict("This article is being published; try again when that has finished".into()));
            }
            diesel::update(publications::table.filter(publications::tenant_id.eq(tenant_id)).filter(publications::task_id.eq(task_id)))
                .set((publications::state.eq(PublicationState::Queued), publications::updated_at.eq(diesel::dsl::now)))
                .execute(conn)
                .await?;
            audit::record(
                conn,
                &who,
                "task.unpublish_requested",
                ("task", task_id.to_string()),
                serde_json::json!({ "site_id": p.site_id }),
            )
            .await?;
            enqueue_in_tx(conn, &Unpublish { task_id }.new_job(tenant_id).by(label)).await
        })
        .await?;
    crate::jobs::worker::wake(state).await;
    Ok(job)
}

/// Queues a status sync of every published article of the workspace (or of one site).
pub async fn enqueue_sync(state: &AppState, ctx: &TenantCtx, site_id: Option<i64>) -> AppResult<i64> {
    ctx.require(Perm::EditContent)?;
    if let Some(id) = site_id {
        // Another workspace's site is simply not found (and nothing is queued).
        let mut conn = state.db.get().await?;
        sites::table.filter(sites::tenant_id.eq(ctx.tenant_id)).filter(sites::id.eq(id)).select(sites::id).first::<i64>(&mut conn).await?;
    }
    enqueue_sync_as(state, ctx.tenant_id, &ctx.actor_label(), site_id).await
}

/// The same for the scheduler, which has no user.
pub async fn enqueue_sync_as(state: &AppState, tenant_id: i64, label: &str, site_id: Option<i64>) -> AppResult<i64> {
    let id = crate::jobs::queue::enqueue(&state.db, Sync { site_id }.new_job(tenant_id).by(label)).await?;
    crate::jobs::worker::wake(state).await;
    Ok(id)
}

/// Appends one step's outcome to the publication's trail.
pub async fn record_step(conn: &mut AsyncPgConnection, tenant_id: i64, task_id: i64, step: &str, ok: bool, detail: &str) -> AppResult<()> {
    append_steps(conn, tenant_id, task_id, serde_json::json!([{ "step": step, "ok": ok, "detail": detail, "at": Utc::now() }])).await
}

/// Appends steps (a JSON array) to the publication's trail.
pub async fn append_steps(conn: &mut AsyncPgConnection, tenant_id: i64, task_id: i64, steps: serde_json::Value) -> AppResult<()> {
    diesel::update(publications::table.filter(publications::tenant_id.eq(tenant_id)).filter(publications::task_id.eq(task_id)))
        .set((publications::steps.eq(publications::steps.concat(steps)), publications::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await?;
    Ok(())
}
