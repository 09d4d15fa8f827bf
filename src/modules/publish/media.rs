//! The article's images on the site: each uploaded once per site (again only when it was regenerated), under a
//! marker slug unique to the image and its bytes, so an upload whose answer a crash lost is found and adopted on
//! the next attempt instead of leaving an orphan and a second copy in the media library. Also what publishing
//! needs to know of images still being made or failed for good.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::job::{Ctx, PublishPost};
use super::service::Publication;
use crate::db::schema::{images, published_media};
use crate::error::AppResult;
use crate::jobs::{ClaimedJob, JobError, Subject, open};
use crate::modules::writer::image_jobs::PROMPTS_KIND;
use crate::modules::writer::images::ImageStatus;
use crate::modules::writer::service::Task;
use crate::wordpress::posts;

pub(super) struct ReadyImage {
    pub id: i64,
    pub position: i32,
    pub alt: String,
    pub sha256: String,
    /// Already in this site's library with the same bytes: (remote id, url, attached to).
    pub published: Option<(i64, String, Option<i64>)>,
}

/// An image and, when this site already has it, its media item: (id, position, alt, sha256, remote id, url,
/// remote sha256, attached to).
type ImageRow = (i64, i32, String, String, Option<i64>, Option<String>, Option<String>, Option<i64>);

pub(super) async fn ready_images(
    conn: &mut AsyncPgConnection,
    tenant_id: i64,
    task_id: i64,
    site_id: i64,
) -> Result<Vec<ReadyImage>, JobError> {
    let rows: Vec<ImageRow> = images::table
        .left_join(
            published_media::table.on(published_media::tenant_id
                .eq(images::tenant_id)
                .and(published_media::image_id.eq(images::id))
                .and(published_media::site_id.eq(site_id))),
        )
        .filter(images::tenant_id.eq(tenant_id))
        .filter(images::task_id.eq(task_id))
        .filter(images::status.eq(ImageStatus::Ready))
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

/// Images of the article that are not ready: still being planned or rendered, or failed for good.
#[derive(Debug, Default)]
pub(super) struct ImageState {
    /// Images queued, plus one while their prompts are still being written.
    pub pending: i64,
    /// Why each failed image failed.
    pub failed: Vec<String>,
}

impl ImageState {
    /// What the publication should say about them.
    pub fn warning(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.pending > 0 {
            parts.push(
                "Some images were still being made and are not in the post yet; automation's publish step adds them when they \
                 are ready (or publish again)."
                    .to_string(),
            );
        }
        if !self.failed.is_empty() {
            let first = <[String]>::first(&self.failed).cloned().unwrap_or_default();
            parts.push(format!(
                "{} image(s) failed and were left out ({first}); regenerate them on the images page (automation's publish step then \
                 adds them, or publish again).",
                self.failed.len()
            ));
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

pub(super) async fn image_state(conn: &mut AsyncPgConnection, tenant_id: i64, task_id: i64) -> AppResult<ImageState> {
    let rows: Vec<(ImageStatus, Option<String>)> = images::table
        .filter(images::tenant_id.eq(tenant_id))
        .filter(images::task_id.eq(task_id))
        .filter(images::status.ne(ImageStatus::Ready))
        .select((images::status, images::error))
        .load(conn)
        .await?;
    let mut out = ImageState::default();
    for (status, error) in rows {
        if status == ImageStatus::Failed {
            out.failed.push(error.unwrap_or_else(|| "no reason given".into()));
        } else {
            out.pending += 1;
        }
    }
    if open::has_open(conn, tenant_id, Subject::task(task_id), &[PROMPTS_KIND]).await? {
        out.pending += 1;
    }
    Ok(out)
}

/// The images on the site after the media step: image id → (remote id, url, attached to).
pub(super) struct Uploaded {
    pub remote: HashMap<i64, (i64, String, Option<i64>)>,
}

impl Uploaded {
    pub fn urls(&self) -> HashMap<i64, (i64, String)> {
        self.remote.iter().map(|(k, (rid, url, _))| (*k, (*rid, url.clone()))).collect()
    }
}

/// The marker slug of an image's media item: unique per installation, workspace, image and bytes.
pub fn media_slug(install: &str, tenant_id: i64, image_id: i64, sha256: &str) -> String {
    format!("igny8-{install}-{tenant_id}-{image_id}-{}", &sha256.get(..12).unwrap_or(sha256).to_lowercase())
}

/// Uploads the images the site does not have yet; those an earlier, interrupted attempt uploaded are found by
/// their marker slug (one request for all of them) and adopted.
pub(super) async fn upload(
    cx: &Ctx<'_>,
    job: &ClaimedJob,
    payload: &PublishPost,
    task: &Task,
    publication: &Publication,
    imgs: &[ReadyImage],
    post_id: Option<i64>,
) -> Result<Uploaded, JobError> {
    let (state, tenant_id, wp) = (cx.state, cx.tenant_id, &cx.c.wp);
    let install = state.install_id().await?;
    let slug_of = |i: &ReadyImage| media_slug(&install, tenant_id, i.id, &i.sha256);
    let to_upload: Vec<&ReadyImage> = imgs.iter().filter(|i| i.published.is_none()).collect();
    let slugs: Vec<String> = to_upload.iter().map(|i| slug_of(i)).collect();
    let mut on_site = if slugs.is_empty() { HashMap::new() } else { posts::media_by_slugs(wp, &slugs).await? };
    let ids: Vec<i64> = to_upload.iter().filter(|i| !on_site.contains_key(&slug_of(i))).map(|i| i.id).collect();
    let mut data = image_data(state, tenant_id, &ids).await?;
    let (mut uploaded, mut reused, mut adopted) = (0, 0, 0);
    let mut remote = HashMap::new();
    for img in imgs {
        if let Some((rid, url, attached)) = &img.published {
            remote.insert(img.id, (*rid, url.clone(), *attached));
            reused += 1;
            continue;
        }
        let slug = slug_of(img);
        let m = match on_site.remove(&slug) {
            Some(m) => {
                adopted += 1;
                m
            }
            None => {
                let (content_type, bytes) = data.remove(&img.id).ok_or_else(|| JobError::Fatal(format!("image {} was deleted", img.id)))?;
                let stem = if task.slug.is_empty() { "image" } else { &task.slug };
                let name = format!("{stem}-{}.{}", img.position, ext(&content_type));
                let m = posts::upload_image(wp, &name, &slug, &content_type, bytes, &img.alt, post_id).await?;
                if PublishPost::rehearse(payload.crash_after_upload_attempts, job) {
                    return Err(JobError::retry("stopped after uploading an image (rehearsed crash)"));
                }
                uploaded += 1;
                m
            }
        };
        record(state, tenant_id, img, publication.site_id, m.id, &m.url, post_id).await?;
        remote.insert(img.id, (m.id, m.url, post_id));
    }
    let found = if adopted > 0 { format!(", {adopted} found on the site from an interrupted attempt") } else { String::new() };
    cx.step("media", &format!("{uploaded} uploaded, {reused} already on the site{found}"));
    Ok(Uploaded { remote })
}

/// Notes the image's media item on the site (its own statement: the upload happened, whatever comes next).
async fn record(
    state: &crate::state::AppState,
    tenant_id: i64,
    img: &ReadyImage,
    site_id: i64,
    remote_id: i64,
    url: &str,
    attached: Option<i64>,
) -> Result<(), JobError> {
    let mut conn = state.db.get().await?;
    diesel::insert_into(published_media::table)
        .values((
            published_media::tenant_id.eq(tenant_id),
            published_media::image_id.eq(img.id),
            published_media::site_id.eq(site_id),
            published_media::remote_id.eq(remote_id),
            published_media::remote_url.eq(url),
            published_media::sha256.eq(&img.sha256),
            published_media::attached_to.eq(attached),
        ))
        .on_conflict((published_media::tenant_id, published_media::image_id, published_media::site_id))
        .do_update()
        .set((
            published_media::remote_id.eq(remote_id),
            published_media::remote_url.eq(url),
            published_media::sha256.eq(&img.sha256),
            published_media::attached_to.eq(attached),
        ))
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// Attaches to the post the media uploaded before it existed.
pub(super) async fn attach(cx: &Ctx<'_>, uploaded: &Uploaded, site_id: i64, post_id: i64) -> Result<(), JobError> {
    let mut attached_ids = Vec::new();
    for (image_id, (rid, _, parent)) in &uploaded.remote {
        if *parent != Some(post_id) {
            posts::attach(&cx.c.wp, *rid, post_id).await?;
            attached_ids.push(*image_id);
        }
    }
    if attached_ids.is_empty() {
        return Ok(());
    }
    // Attaching again is harmless, so this is written once for all of them.
    let mut conn = cx.state.db.get().await?;
    diesel::update(
        published_media::table
            .filter(published_media::tenant_id.eq(cx.tenant_id))
            .filter(published_media::image_id.eq_any(&attached_ids))
            .filter(published_media::site_id.eq(site_id)),
    )
    .set(published_media::attached_to.eq(post_id))
    .execute(&mut conn)
    .await?;
    cx.step("attach", &format!("{} image(s) attached to the post", attached_ids.len()));
    Ok(())
}

/// The bytes of the images still to upload, in one query.
async fn image_data(state: &crate::state::AppState, tenant_id: i64, ids: &[i64]) -> Result<HashMap<i64, (String, Vec<u8>)>, JobError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_slug_names_workspace_image_and_bytes() {
        assert_eq!(media_slug("k3x9", 7, 42, "ABCDEF0123456789ff"), "igny8-k3x9-7-42-abcdef012345");
        assert_ne!(media_slug("k3x9", 7, 42, "abcdef012345aa"), media_slug("k3x9", 7, 42, "bbcdef012345aa"));
        assert_ne!(media_slug("k3x9", 1, 2, "ab"), media_slug("other", 1, 2, "ab"));
    }
}
