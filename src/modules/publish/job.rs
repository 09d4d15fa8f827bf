//! `publish.post` (0 credits): media → content rewrite → terms → the post (its remote id stored in the same
//! step) → attach media → SEO meta. Each step is recorded on the publication as it ends. Before anything is
//! created the post is looked up by stored remote id, then by slug (drafts too), so a retry after a crash
//! between "created" and "id stored" adopts the post instead of making a second one.

use std::collections::HashMap;
use std::sync::Arc;

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};

use super::content::rewrite_images;
use super::service::{self, Publication, record_step};
use crate::app::AppState;
use crate::audit::{self, Who};
use crate::db::schema::{images, publications, published_media, tasks};
use crate::error::AppError;
use crate::jobs::queue::{ClaimedJob, Completion, JobError};
use crate::modules::sites::service::{Connection, connect};
use crate::modules::writer::service::Task;
use crate::wordpress::{WpError, posts, text_of};

impl From<WpError> for JobError {
    fn from(e: WpError) -> Self {
        if e.is_transient() { JobError::retry(e.to_string()) } else { JobError::Fatal(e.to_string()) }
    }
}

/// Marks which IGNY8 task a post belongs to (tenant too: two workspaces may publish to one site).
pub fn marker(tenant_id: i64, task_id: i64) -> String {
    format!("{tenant_id}:{task_id}")
}

fn task_id_of(job: &ClaimedJob) -> Result<i64, JobError> {
    job.payload.get("task_id").and_then(|v| v.as_i64()).ok_or_else(|| JobError::Fatal("the job names no task".into()))
}

pub async fn run(state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
    let task_id = task_id_of(&job)?;
    let result = publish(&state, &job, task_id).await;
    if let Err(e) = &result {
        finish_failed(&state, &job, task_id, e).await;
    }
    result
}

/// After the last attempt (or a fatal error): the publication says why, the task gets its status back.
async fn finish_failed(state: &AppState, job: &ClaimedJob, task_id: i64, e: &JobError) {
    let Ok(mut conn) = state.db.get().await else { return };
    let tenant_id = job.tenant_id;
    let _ = record_step(&mut conn, tenant_id, task_id, "failed", false, e.message()).await;
    if !job.is_final(e) {
        return;
    }
    let _ = conn
        .transaction::<_, AppError, _>(async |conn| {
            let Some(p) = service::get(conn, tenant_id, task_id).await? else { return Ok(()) };
            diesel::update(publications::table.filter(publications::tenant_id.eq(tenant_id)).filter(publications::task_id.eq(task_id)))
                .set((publications::state.eq("failed"), publications::error.eq(e.message()), publications::updated_at.eq(diesel::dsl::now)))
                .execute(conn)
                .await?;
            let live = p.remote_id.is_some() && matches!(p.remote_status.as_str(), "publish" | "future");
            diesel::update(
                tasks::table.filter(tasks::tenant_id.eq(tenant_id)).filter(tasks::id.eq(task_id)).filter(tasks::status.eq("publishing")),
            )
            .set(tasks::status.eq(if live { "published" } else { p.task_status_before.as_str() }))
            .execute(conn)
            .await?;
            Ok(())
        })
        .await;
}

struct Ctx<'a> {
    state: &'a AppState,
    tenant_id: i64,
    task_id: i64,
    c: Connection,
    /// Steps done since the last write: saved with the remote id, with the completion, or on failure —
    /// not one commit each (they would be a third of IGNY8's own time per article).
    trail: std::sync::Mutex<Vec<Value>>,
}

impl Ctx<'_> {
    fn step(&self, step: &str, detail: &str) {
        self.push(step, true, detail);
    }
    fn push(&self, step: &str, ok: bool, detail: &str) {
        self.trail.lock().expect("trail lock").push(json!({ "step": step, "ok": ok, "detail": detail, "at": chrono::Utc::now() }));
    }
    fn take(&self) -> Value {
        Value::Array(std::mem::take(&mut *self.trail.lock().expect("trail lock")))
    }
}

async fn publish(state: &AppState, job: &ClaimedJob, task_id: i64) -> Result<Completion, JobError> {
    let tenant_id = job.tenant_id;
    let (task, publication, imgs, c) = {
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
                .set((publications::state.eq("running"), publications::steps.eq(json!([])), publications::warning.eq(None::<String>)))
                .returning(Publication::as_returning())
                .get_result::<Publication>(&mut &*shared),
        )
        .map_err(|e| match e {
            diesel::result::Error::NotFound => JobError::Fatal("the task or its publication was deleted".into()),
            other => other.into(),
        })?;
        let imgs = ready_images(&mut conn, tenant_id, task_id, p.site_id).await?;
        let c = match connect(state, &mut conn, tenant_id, p.site_id).await {
            Err(AppError::Conflict(m)) => return Err(JobError::Fatal(m)),
            other => other.map_err(gone("site"))?,
        };
        (task, p, imgs, c)
    };
    let cx = Ctx { state, tenant_id, task_id, c, trail: Default::default() };
    let out = steps(&cx, job, &task, &publication, &imgs).await;
    if out.is_err()
        && let Ok(mut conn) = state.db.get().await
    {
        let _ = service::append_steps(&mut conn, tenant_id, task_id, cx.take()).await;
    }
    out
}

async fn steps(
    cx: &Ctx<'_>,
    job: &ClaimedJob,
    task: &Task,
    publication: &Publication,
    imgs: &[ReadyImage],
) -> Result<Completion, JobError> {
    let (state, tenant_id, task_id) = (cx.state, cx.tenant_id, cx.task_id);
    let wp = &cx.c.wp;

    // 1. Media: each image once per site (re-uploaded only when it was regenerated).
    let known = find_post(cx, task, publication).await?;
    let post_id_known = known.as_ref().and_then(|p| p.get("id")).and_then(|v| v.as_i64());
    let (mut uploaded, mut reused) = (0, 0);
    let mut remote: HashMap<i64, (i64, String, Option<i64>)> = HashMap::new();
    let to_upload: Vec<i64> = imgs.iter().filter(|i| i.published.is_none()).map(|i| i.id).collect();
    let mut data = image_data(state, tenant_id, &to_upload).await?;
    for img in imgs {
        if let Some((rid, url, attached)) = &img.published {
            remote.insert(img.id, (*rid, url.clone(), *attached));
            reused += 1;
            continue;
        }
        let (content_type, data) = data.remove(&img.id).ok_or_else(|| JobError::Fatal(format!("image {} was deleted", img.id)))?;
        let name = format!("{}-{}.{}", if task.slug.is_empty() { "image" } else { &task.slug }, img.position, ext(&content_type));
        let m = posts::upload_image(wp, &name, &content_type, data, &img.alt, post_id_known).await?;
        let mut conn = state.db.get().await?;
        diesel::insert_into(published_media::table)
            .values((
                published_media::tenant_id.eq(tenant_id),
                published_media::image_id.eq(img.id),
                published_media::site_id.eq(publication.site_id),
                published_media::remote_id.eq(m.id),
                published_media::remote_url.eq(&m.url),
                published_media::sha256.eq(&img.sha256),
                published_media::attached_to.eq(post_id_known),
            ))
            .on_conflict((published_media::tenant_id, published_media::image_id, published_media::site_id))
            .do_update()
            .set((
                published_media::remote_id.eq(m.id),
                published_media::remote_url.eq(&m.url),
                published_media::sha256.eq(&img.sha256),
                published_media::attached_to.eq(post_id_known),
            ))
            .execute(&mut conn)
            .await?;
        remote.insert(img.id, (m.id, m.url, post_id_known));
        uploaded += 1;
    }
    cx.step("media", &format!("{uploaded} uploaded, {reused} already on the site"));

    // 2. The article's image sources point at the site's copies.
    let urls: HashMap<i64, (i64, String)> = remote.iter().map(|(k, (rid, url, _))| (*k, (*rid, url.clone()))).collect();
    let content = rewrite_images(&task.content_html, &urls);
    cx.step(
        "content",
        &format!("{} image source(s) rewritten", urls.len().saturating_sub(imgs.iter().filter(|i| i.position == 0).count())),
    );

    // 3. Terms, created when missing.
    let mut category_ids = Vec::new();
    for name in &publication.categories {
        category_ids.push(posts::term_id(wp, "categories", name).await?);
    }
    let mut tag_ids = Vec::new();
    for name in &publication.tags {
        tag_ids.push(posts::term_id(wp, "tags", name).await?);
    }
    cx.step(
        "terms",
        &format!("{} categor{}, {} tag(s)", category_ids.len(), if category_ids.len() == 1 { "y" } else { "ies" }, tag_ids.len()),
    );

    // 4. The post: update the one found, or create it and store its id at once.
    let featured = imgs.iter().find(|i| i.position == 0).and_then(|i| remote.get(&i.id)).map(|r| r.0).unwrap_or(0);
    let mut body = json!({
        "title": task.title,
        "content": content,
        "excerpt": task.meta_description,
        "slug": task.slug,
        "status": publication.post_status,
        "categories": category_ids,
        "tags": tag_ids,
        "featured_media": featured,
        "meta": { "igny8_task_id": marker(tenant_id, task_id) },
    });
    if let Some(author) = cx.c.site.default_author {
        body["author"] = json!(author);
    }
    if let Some(at) = publication.scheduled_at.filter(|_| publication.post_status == "future") {
        body["date_gmt"] = json!(at.format("%Y-%m-%dT%H:%M:%S").to_string());
    }
    let (post, created) = match post_id_known {
        Some(id) => (posts::update_post(wp, id, &body).await?, false),
        None => {
            let p = posts::create_post(wp, &body).await?;
            let id =
                p.get("id").and_then(|v| v.as_i64()).ok_or_else(|| JobError::Fatal("WordPress did not return the new post's id".into()))?;
            // Rehearsal knob for the crash test: stop as if the process died right after the post was created.
            if job.payload.get("crash_after_create_attempts").and_then(|v| v.as_i64()).is_some_and(|n| n >= job.attempts as i64) {
                return Err(JobError::retry("stopped after creating the post (rehearsed crash)"));
            }
            store_remote(cx, publication, &p, id).await?;
            (p, true)
        }
    };
    let post_id = post.get("id").and_then(|v| v.as_i64()).unwrap_or(0);
    if !created {
        store_remote(cx, publication, &post, post_id).await?;
    }
    cx.step("post", &format!("{} post {post_id} ({})", if created { "created" } else { "updated" }, text_of(&post, "status")));

    // 5. Attach media uploaded before the post existed.
    let (mut attached, mut attached_ids) = (0, Vec::new());
    for (image_id, (rid, _, parent)) in &remote {
        if *parent != Some(post_id) {
            posts::attach(wp, *rid, post_id).await?;
            attached_ids.push(*image_id);
            attached += 1;
        }
    }
    if attached > 0 {
        // Attaching again is harmless, so this is written once for all of them.
        let mut conn = state.db.get().await?;
        diesel::update(
            published_media::table
                .filter(published_media::tenant_id.eq(tenant_id))
                .filter(published_media::image_id.eq_any(&attached_ids))
                .filter(published_media::site_id.eq(publication.site_id)),
        )
        .set(published_media::attached_to.eq(post_id))
        .execute(&mut conn)
        .await?;
        cx.step("attach", &format!("{attached} image(s) attached to the post"));
    }

    // 6. SEO meta: may fail alone; the article is out either way.
    let plugin = cx.c.site.seo_in_use().to_string();
    let meta = posts::seo_meta(
        &plugin,
        if task.meta_title.is_empty() { &task.title } else { &task.meta_title },
        &task.meta_description,
        &task.primary_keyword,
    );
    let warning = match posts::write_meta(wp, post_id, &meta).await {
        Ok(dropped) if dropped.is_empty() => {
            cx.step("seo", &format!("meta title, description and focus keyword saved ({plugin})"));
            None
        }
        Ok(dropped) => Some(format!(
            "SEO meta not saved: WordPress ignored {} — install the IGNY8 companion plugin on the site (it makes these fields writable), then publish again",
            dropped.join(", ")
        )),
        Err(e) => Some(format!("SEO meta not saved: {e}")),
    };
    if let Some(w) = &warning {
        cx.push("seo", false, w);
    }
    let trail = cx.take();

    let remote_status = text_of(&post, "status");
    let link = text_of(&post, "link");
    let (site_id, live) = (publication.site_id, matches!(remote_status.as_str(), "publish" | "future"));
    let task_status = if live { "published".to_string() } else { publication.task_status_before.clone() };
    let result = json!({ "post_id": post_id, "created": created, "status": remote_status, "url": link, "warning": warning });
    Ok(Completion {
        result,
        effects: Some(Box::new(move |conn| {
            Box::pin(async move {
                diesel::update(publications::table.filter(publications::tenant_id.eq(tenant_id)).filter(publications::task_id.eq(task_id)))
                    .set((
                        publications::state.eq("done"),
                        publications::steps.eq(publications::steps.concat(trail)),
                        publications::warning.eq(&warning),
                        publications::error.eq(None::<String>),
                        publications::published_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)
                    .await?;
                diesel::update(tasks::table.filter(tasks::tenant_id.eq(tenant_id)).filter(tasks::id.eq(task_id)))
                    .set((tasks::status.eq(&task_status), tasks::updated_at.eq(diesel::dsl::now)))
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

fn gone(what: &'static str) -> impl Fn(AppError) -> JobError {
    move |e| match e {
        AppError::NotFound => JobError::Fatal(format!("the {what} was deleted")),
        other => other.into(),
    }
}

/// Finds the post this task already has on the site: by stored id, then by slug (adopting it only when it
/// carries this task's marker, or — without the companion plugin — the same title).
async fn find_post(cx: &Ctx<'_>, task: &Task, p: &Publication) -> Result<Option<Value>, JobError> {
    let wp = &cx.c.wp;
    if let Some(id) = p.remote_id {
        return match posts::get_post(wp, id).await? {
            Some(post) if text_of(&post, "status") == "trash" => {
                mark_remote(cx, "trash").await?;
                Err(JobError::Fatal(format!(
                    "post {id} is in the site's trash; IGNY8 does not re-create it (publish as a new post, or restore it on the site)"
                )))
            }
            Some(post) => Ok(Some(post)),
            None => {
                mark_remote(cx, "deleted").await?;
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

struct ReadyImage {
    id: i64,
    position: i32,
    alt: String,
    sha256: String,
    /// Already in this site's library with the same bytes: (remote id, url, attached to).
    published: Option<(i64, String, Option<i64>)>,
}

/// An image and, when this site already has it, its media item: (id, position, alt, sha256, remote id, url,
/// remote sha256, attached to).
type ImageRow = (i64, i32, String, String, Option<i64>, Option<String>, Option<String>, Option<i64>);

async fn ready_images(conn: &mut AsyncPgConnection, tenant_id: i64, task_id: i64, site_id: i64) -> Result<Vec<ReadyImage>, JobError> {
    let rows: Vec<ImageRow> = images::table
        .left_join(
            published_media::table.on(published_media::tenant_id
                .eq(images::tenant_id)
                .and(published_media::image_id.eq(images::id))
                .and(published_media::site_id.eq(site_id))),
        )
        .filter(images::tenant_id.eq(tenant_id))
        .filter(images::task_id.eq(task_id))
        .filter(images::status.eq("ready"))
        .order(images::position)
        .select((
            images::id,
            images::position,
            images::alt,
            images::sha256,
            published_media::remote_id.nullable(),
            published_media::remote_url.nullable(),
            published_media::sha256.nullable(),
            published_media::attached_to.nullable(),
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, position, alt, sha256, rid, url, rsha, attached)| {
            let published = match (rid, url, rsha) {
                (Some(r), Some(u), Some(s)) if s == sha256 => Some((r, u, attached)),
                _ => None,
            };
            ReadyImage { id, position, alt, sha256, published }
        })
        .collect())
}

/// The bytes of the images still to upload, in one query.
async fn image_data(state: &AppState, tenant_id: i64, ids: &[i64]) -> Result<HashMap<i64, (String, Vec<u8>)>, JobError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut conn = state.db.get().await?;
    let rows: Vec<(i64, String, Option<Vec<u8>>)> = images::table
        .filter(images::tenant_id.eq(tenant_id))
        .filter(images::id.eq_any(ids))
        .select((images::id, images::content_type, images::data))
        .load(&mut conn)
        .await?;
    rows.into_iter().map(|(id, ct, data)| Ok((id, (ct, data.ok_or_else(|| JobError::Fatal(format!("image {id} has no data")))?)))).collect()
}

fn ext(content_type: &str) -> &'static str {
    match content_type {
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        "image/gif" => "gif",
        _ => "png",
    }
}
