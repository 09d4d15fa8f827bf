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
use crate::modules::writer::service::EDITOR_STATUSES;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::forms::Check;

pub const PUBLISH_KIND: &str = "publish.post";
pub const UNPUBLISH_KIND: &str = "publish.unpublish";
pub const SYNC_KIND: &str = "publish.sync";

/// Remote statuses after which IGNY8 never re-creates the post by itself.
pub const GONE: [&str; 2] = ["trash", "deleted"];

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = publications)]
pub struct Publication {
    pub task_id: i64,
    pub site_id: i64,
    pub remote_id: Option<i64>,
    pub remote_status: String,
    pub remote_url: String,
    pub remote_modified: Option<DateTime<Utc>>,
    pub state: String,
    pub post_status: String,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub categories: Vec<String>,
    pub tags: Vec<String>,
    pub task_status_before: String,
    pub steps: serde_json::Value,
    pub warning: Option<String>,
    pub error: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub synced_at: Option<DateTime<Utc>>,
}

impl Publication {
    pub fn is_gone(&self) -> bool {
        GONE.contains(&self.remote_status.as_str())
    }
    pub fn is_busy(&self) -> bool {
        matches!(self.state.as_str(), "queued" | "running")
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
    #[serde(deserialize_with = "crate::web::forms::list_or_csv")]
    pub categories: Vec<String>,
    #[serde(deserialize_with = "crate::web::forms::list_or_csv")]
    pub tags: Vec<String>,
    /// Publish again as a new post after the old one was trashed or deleted on the site.
    pub as_new_post: bool,
}

const MAX_TERMS: usize = 10;

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

/// Queues publishing of one task. An article already on the site is updated in place (never a second post);
/// one trashed or deleted there is only published again when asked for explicitly (`as_new_post`).
pub async fn enqueue_publish(state: &AppState, ctx: &TenantCtx, task_id: i64, input: &PublishInput) -> AppResult<i64> {
    ctx.require(Perm::EditContent)?;
    let (tenant_id, who, label) = (ctx.tenant_id, Who::from(ctx), ctx.actor_label());
    let mut conn = state.db.get().await?;
    let site: (i64, String, String) = sites::table
        .filter(sites::tenant_id.eq(tenant_id))
        .filter(sites::id.eq(input.site_id))
        .select((sites::id, sites::default_status, sites::default_category))
        .first(&mut conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::field("site_id", "Choose one of this workspace's sites"))?;
    let mut c = Check::new();
    let status = if input.status.trim().is_empty() { site.1.clone() } else { input.status.trim().to_string() };
    if !crate::modules::sites::service::POST_STATUSES.contains(&status.as_str()) {
        c.fail("status", "Status is draft, publish or future (scheduled)");
    }
    let scheduled_at = if status == "future" {
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
    if categories.is_empty() && !site.2.is_empty() {
        categories.push(site.2.clone());
    }
    let tags = terms(&mut c, "tags", "Tags", &input.tags);
    c.finish()?;
    let site_id = site.0;
    let as_new = input.as_new_post;
    let job = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let (task_status, words): (String, i32) = tasks::table
                .filter(tasks::tenant_id.eq(tenant_id))
                .filter(tasks::id.eq(task_id))
                .select((tasks::status, tasks::word_count))
                .for_update()
                .first(conn)
                .await?;
            // "publishing" with no job behind it is what a cancelled or dead job leaves: it may be published again.
            let stale = task_status == "publishing" && !has_open_job(conn, tenant_id, task_id).await?;
            let publishable = EDITOR_STATUSES.contains(&task_status.as_str()) || task_status == "published" || stale;
            if !publishable || words == 0 {
                return Err(AppError::Conflict(format!("This task is {task_status}; only a task with an article can be published")));
            }
            let before = get(conn, tenant_id, task_id).await?;
            let mut keep_remote = true;
            if let Some(p) = &before {
                if p.is_busy() && has_open_job(conn, tenant_id, task_id).await? {
                    return Err(AppError::Conflict("This article is already being published".into()));
                }
                if p.is_gone() && !as_new {
                    return Err(AppError::Conflict(format!(
                        "The post was {} on WordPress; IGNY8 does not re-create it on its own. Publish it as a new post if you want it back",
                        if p.remote_status == "trash" { "trashed" } else { "deleted" }
                    )));
                }
                // Moving to another site: only once the post is no longer public on the first one.
                let moving = p.site_id != site_id;
                if moving && p.remote_id.is_some() && matches!(p.remote_status.as_str(), "publish" | "future" | "private" | "pending") {
                    return Err(AppError::field("site_id", "This article is live on another site; unpublish it there first"));
                }
                keep_remote = (!p.is_gone() || !as_new) && !moving;
            }
            let status_before = if task_status == "published" || stale { before.as_ref().map(|p| p.task_status_before.clone()).unwrap_or("ready".into()) } else { task_status.clone() };
            diesel::insert_into(publications::table)
                .values((
                    publications::tenant_id.eq(tenant_id),
                    publications::task_id.eq(task_id),
                    publications::site_id.eq(site_id),
                    publications::state.eq("queued"),
                    publications::post_status.eq(&status),
                    publications::scheduled_at.eq(scheduled_at),
                    publications::categories.eq(&categories),
                    publications::tags.eq(&tags),
                    publications::task_status_before.eq(&status_before),
                ))
                .on_conflict((publications::tenant_id, publications::task_id))
                .do_update()
                .set((
                    publications::site_id.eq(site_id),
                    publications::state.eq("queued"),
                    publications::post_status.eq(&status),
                    publications::scheduled_at.eq(scheduled_at),
                    publications::categories.eq(&categories),
                    publications::tags.eq(&tags),
                    publications::task_status_before.eq(&status_before),
                    publications::error.eq(None::<String>),
                    publications::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            if !keep_remote {
                diesel::update(publications::table.filter(publications::tenant_id.eq(tenant_id)).filter(publications::task_id.eq(task_id)))
                    .set((publications::remote_id.eq(None::<i64>), publications::remote_status.eq(""), publications::remote_url.eq("")))
                    .execute(conn)
                    .await?;
            }
            diesel::update(tasks::table.filter(tasks::tenant_id.eq(tenant_id)).filter(tasks::id.eq(task_id)))
                .set((tasks::status.eq("publishing"), tasks::updated_at.eq(diesel::dsl::now)))
                .execute(conn)
                .await?;
            audit::record(conn, &who, "task.publish_requested", ("task", task_id.to_string()), serde_json::json!({ "site_id": site_id, "status": status, "as_new_post": as_new }))
                .await?;
            enqueue_in_tx(conn, &PublishPost::new(task_id).new_job(tenant_id).by(label)).await
        })
        .await?;
    crate::jobs::worker::wake(state).await;
    Ok(job)
}

/// Publishes the article again where it is, as it is there (status, date, terms): an update in place, e.g. to add
/// images finished after the post went out.
pub async fn enqueue_refresh(state: &AppState, ctx: &TenantCtx, task_id: i64) -> AppResult<i64> {
    let p = {
        let mut conn = state.db.get().await?;
        get(&mut conn, ctx.tenant_id, task_id).await?.ok_or(AppError::NotFound)?
    };
    let status = match p.remote_status.as_str() {
        "publish" | "future" | "draft" => p.remote_status.clone(),
        _ => p.post_status.clone(),
    };
    let input = PublishInput {
        site_id: p.site_id,
        scheduled_at: p.scheduled_at.filter(|_| status == "future").map(|t| t.to_rfc3339()).unwrap_or_default(),
        status,
        categories: p.categories,
        tags: p.tags,
        as_new_post: false,
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
                .set((publications::state.eq("queued"), publications::updated_at.eq(diesel::dsl::now)))
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
