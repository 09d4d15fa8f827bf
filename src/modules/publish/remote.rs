//! The post on the site: finding the one this task already has (never a duplicate), the body IGNY8 sends,
//! creating or updating it with its remote id stored at once, and its SEO meta.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use super::job::{Ctx, PublishPost, marker};
use super::service::Publication;
use crate::db::schema::publications;
use crate::jobs::{ClaimedJob, JobError};
use crate::modules::writer::service::Task;
use crate::wordpress::posts::{self, PostStatus, remote};
use crate::wordpress::text_of;

/// Finds the post this task already has on the site: by stored id, then by slug (adopting it only when it
/// carries this task's marker, or — without the companion plugin — the same title).
pub(super) async fn find_post(cx: &Ctx<'_>, task: &Task, p: &Publication) -> Result<Option<Value>, JobError> {
    let wp = &cx.c.wp;
    if let Some(id) = p.remote_id {
        return match posts::get_post(wp, id).await? {
            Some(post) if text_of(&post, "status") == remote::TRASH => {
                mark_remote(cx, remote::TRASH).await?;
                Err(JobError::Fatal(format!(
                    "post {id} is in the site's trash; IGNY8 does not re-create it (publish as a new post, or restore it on the site)"
                )))
            }
            Some(post) => Ok(Some(post)),
            None => {
                mark_remote(cx, remote::DELETED).await?;
                Err(JobError::Fatal(format!(
                    "post {id} was deleted on the site; IGNY8 does not re-create it (publish as a new post to put it back)"
                )))
            }
        };
    }
    if task.slug.is_empty() {
        return Ok(None);
    }
    let mark = marker(cx.tenant_id, cx.task_id);
    let found = posts::posts_with_slug(wp, &task.slug).await?;
    for post in &found {
        let ours = match post.pointer("/meta/igny8_task_id").and_then(|v| v.as_str()) {
            Some(m) if !m.is_empty() => m == mark,
            _ => text_of(post, "title") == task.title,
        };
        if ours {
            let id = post.get("id").and_then(|v| v.as_i64()).unwrap_or(0);
            cx.step("lookup", &format!("found post {id} by its slug and adopted it"));
            store_remote(cx, p, post, id).await?;
            return Ok(Some(post.clone()));
        }
    }
    if let Some(other) = <[Value]>::first(&found) {
        return Err(JobError::Fatal(format!(
            "the slug “{}” is taken on the site by post {} that IGNY8 did not publish; change the article's slug",
            task.slug,
            other.get("id").and_then(|v| v.as_i64()).unwrap_or(0)
        )));
    }
    Ok(None)
}

/// What IGNY8 sends for the post.
pub(super) fn post_body(
    cx: &Ctx<'_>,
    task: &Task,
    publication: &Publication,
    content: String,
    featured: i64,
    category_ids: Vec<i64>,
    tag_ids: Vec<i64>,
) -> Value {
    let mut body = json!({
        "title": task.title,
        "content": content,
        "excerpt": task.meta_description,
        "slug": task.slug,
        "status": publication.post_status,
        "categories": category_ids,
        "tags": tag_ids,
        "featured_media": featured,
        "meta": { "igny8_task_id": marker(cx.tenant_id, cx.task_id) },
    });
    if let Some(author) = cx.c.site.default_author {
        body["author"] = json!(author);
    }
    if let Some(at) = publication.scheduled_at.filter(|_| publication.post_status == PostStatus::Future) {
        body["date_gmt"] = json!(at.format("%Y-%m-%dT%H:%M:%S").to_string());
    }
    body
}

/// Updates the post found, or creates it and stores its id at once. Returns the post and whether it is new.
pub(super) async fn create_or_update(
    cx: &Ctx<'_>,
    job: &ClaimedJob,
    payload: &PublishPost,
    publication: &Publication,
    body: &Value,
    known: Option<i64>,
) -> Result<(Value, bool), JobError> {
    let wp = &cx.c.wp;
    let (post, created) = match known {
        Some(id) => (posts::update_post(wp, id, body).await?, false),
        None => {
            let p = posts::create_post(wp, body).await?;
            let id =
                p.get("id").and_then(|v| v.as_i64()).ok_or_else(|| JobError::Fatal("WordPress did not return the new post's id".into()))?;
            if PublishPost::rehearse(payload.crash_after_create_attempts, job) {
                return Err(JobError::retry("stopped after creating the post (rehearsed crash)"));
            }
            store_remote(cx, publication, &p, id).await?;
            (p, true)
        }
    };
    if !created {
        let post_id = post.get("id").and_then(|v| v.as_i64()).unwrap_or(0);
        store_remote(cx, publication, &post, post_id).await?;
    }
    Ok((post, created))
}

/// Writes the SEO meta and reads it back. Returns a warning only about what matters to the user: the fields of
/// the SEO plugin in use (IGNY8's own `igny8_*` keys are only needed when there is none).
pub(super) async fn seo_meta(cx: &Ctx<'_>, task: &Task, post_id: i64) -> Option<String> {
    let plugin = cx.c.site.seo_in_use().to_string();
    let meta = posts::seo_meta(
        &plugin,
        if task.meta_title.is_empty() { &task.title } else { &task.meta_title },
        &task.meta_description,
        &task.primary_keyword,
    );
    let warning = match posts::write_meta(&cx.c.wp, post_id, &meta).await {
        Ok(dropped) => {
            let matters = posts::seo_keys_that_matter(&plugin);
            let lost: Vec<&String> = dropped.iter().filter(|k| matters.contains(&k.as_str())).collect();
            if lost.is_empty() {
                let saved = if dropped.is_empty() { String::new() } else { format!("; not needed by {plugin}: {}", dropped.join(", ")) };
                cx.step("seo", &format!("meta title, description and focus keyword saved ({plugin}){saved}"));
                return None;
            }
            let fix = match plugin.as_str() {
                "yoast" | "rankmath" => {
                    "install the IGNY8 companion plugin on the site (it makes these fields writable), then publish again"
                }
                _ => "install an SEO plugin (Yoast or Rank Math) or the IGNY8 companion plugin, then publish again",
            };
            format!("SEO meta not saved: WordPress ignored {} — {fix}", lost.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "))
        }
        Err(e) => format!("SEO meta not saved: {e}"),
    };
    cx.push("seo", false, &warning);
    Some(warning)
}

/// Stores the remote id (and what WordPress says of the post) in its own statement, right away.
async fn store_remote(cx: &Ctx<'_>, p: &Publication, post: &Value, id: i64) -> Result<(), JobError> {
    let mut conn = cx.state.db.get().await?;
    let modified = chrono::NaiveDateTime::parse_from_str(&text_of(post, "modified_gmt"), "%Y-%m-%dT%H:%M:%S").ok().map(|n| n.and_utc());
    diesel::update(
        publications::table
            .filter(publications::tenant_id.eq(cx.tenant_id))
            .filter(publications::task_id.eq(cx.task_id))
            .filter(publications::site_id.eq(p.site_id)),
    )
    .set((
        publications::steps.eq(publications::steps.concat(cx.take())),
        publications::remote_id.eq(id),
        publications::remote_status.eq(text_of(post, "status")),
        publications::remote_url.eq(text_of(post, "link")),
        publications::remote_modified.eq(modified),
    ))
    .execute(&mut conn)
    .await?;
    Ok(())
}

async fn mark_remote(cx: &Ctx<'_>, status: &str) -> Result<(), JobError> {
    let mut conn = cx.state.db.get().await?;
    diesel::update(publications::table.filter(publications::tenant_id.eq(cx.tenant_id)).filter(publications::task_id.eq(cx.task_id)))
        .set((publications::remote_status.eq(status), publications::synced_at.eq(diesel::dsl::now)))
        .execute(&mut conn)
        .await?;
    Ok(())
}
