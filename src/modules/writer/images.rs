//! Article images: the rows (bytes, type, size, hash and alt text live in Postgres), their public URLs
//! (an HMAC token in the path, so the sandboxed preview and WordPress can fetch them without a session),
//! placement in the article (featured aside; in-article image n after the n-th H2), and the images list.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::db::schema::{images, tasks};
use crate::error::AppResult;
use crate::listing::Filter;
use crate::listing::PageParams;

crate::text_enum! {
    /// `images.status`: queued (its job is to make it), ready (stored), failed (with the reason).
    pub enum ImageStatus {
        Queued = "queued",
        Ready = "ready",
        Failed = "failed",
    }
}

crate::text_enum! {
    /// `images.kind`: the featured image (position 0) or one placed after an H2.
    pub enum ImageKind {
        Featured = "featured",
        InArticle = "in_article",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = images)]
pub struct Image {
    pub id: i64,
    pub task_id: i64,
    pub kind: ImageKind,
    pub position: i32,
    pub prompt: String,
    pub alt: String,
    pub status: ImageStatus,
    pub provider: String,
    pub model: String,
    pub content_type: String,
    pub size_bytes: i32,
    pub sha256: String,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Made by the offline dev provider: labelled "sample".
    pub sample: bool,
}

/// The path an image is served at: `/media/images/{id}/{token}`.
pub fn url(secret: &str, tenant_id: i64, id: i64) -> String {
    format!("/media/images/{id}/{}", token(secret, tenant_id, id))
}

pub fn token(secret: &str, tenant_id: i64, id: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("image:{tenant_id}:{id}").as_bytes());
    mac.finalize().into_bytes().iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// Where our placed figures start; they are recognised by their image path when images are placed again.
const FIGURE_MARK: &str = "<figure><img src=\"/media/images/";

/// The article with its in-article images after their H2s (earlier placements removed first).
/// `placed` is (position, src, alt), position n ≥ 1 meaning "after the n-th H2".
pub fn place(html: &str, placed: &[(i32, String, String)]) -> String {
    let mut clean = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(FIGURE_MARK) {
        clean.push_str(&rest[..at]);
        rest = match rest[at..].find("</figure>") {
            Some(end) => &rest[at + end + "</figure>".len()..],
            None => "",
        };
    }
    clean.push_str(rest);
    let mut out = String::with_capacity(clean.len() + placed.len() * 120);
    let mut h2 = 0;
    let mut rest = clean.as_str();
    while let Some(end) = rest.find("</h2>") {
        let cut = end + "</h2>".len();
        out.push_str(&rest[..cut]);
        rest = &rest[cut..];
        h2 += 1;
        for (_, src, alt) in placed.iter().filter(|(p, _, _)| *p == h2) {
            out.push_str(&format!("{FIGURE_MARK}{}\" alt=\"{}\"></figure>", src.trim_start_matches("/media/images/"), html_escape(alt)));
        }
    }
    out.push_str(rest);
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Puts the task's ready in-article images into its article (inside the caller's transaction).
pub async fn place_in_task(secret: &str, conn: &mut AsyncPgConnection, tenant_id: i64, task_id: i64) -> AppResult<()> {
    let html: String = tasks::table
        .filter(tasks::tenant_id.eq(tenant_id))
        .filter(tasks::id.eq(task_id))
        .select(tasks::content_html)
        .for_update()
        .first(conn)
        .await?;
    let ready: Vec<(i64, i32, String)> = images::table
        .filter(images::tenant_id.eq(tenant_id))
        .filter(images::task_id.eq(task_id))
        .filter(images::status.eq(ImageStatus::Ready))
        .filter(images::kind.eq(ImageKind::InArticle))
        .order(images::position)
        .select((images::id, images::position, images::alt))
        .load(conn)
        .await?;
    let placed: Vec<(i32, String, String)> = ready.into_iter().map(|(id, pos, alt)| (pos, url(secret, tenant_id, id), alt)).collect();
    let html = place(&html, &placed);
    diesel::update(tasks::table.filter(tasks::tenant_id.eq(tenant_id)).filter(tasks::id.eq(task_id)))
        .set((tasks::content_html.eq(html), tasks::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct ImageFilter {
    pub status: String,
    pub kind: String,
    pub task: String,
}

impl Filter for ImageFilter {
    fn fields(&self) -> Vec<(&'static str, &str)> {
        vec![("status", &self.status), ("kind", &self.kind), ("task", &self.task)]
    }
}

/// The workspace's images narrowed by the filter: rows and count both start here.
fn matching<'a>(tenant_id: i64, f: &ImageFilter) -> images::BoxedQuery<'a, diesel::pg::Pg> {
    let mut q = images::table.filter(images::tenant_id.eq(tenant_id)).into_boxed();
    if let Some(status) = ImageStatus::parse(f.status.trim()) {
        q = q.filter(images::status.eq(status));
    }
    if let Some(kind) = ImageKind::parse(f.kind.trim()) {
        q = q.filter(images::kind.eq(kind));
    }
    if let Some(t) = crate::listing::id_field(&f.task) {
        q = q.filter(images::task_id.eq(t));
    }
    q
}

pub async fn list(conn: &mut AsyncPgConnection, tenant_id: i64, f: &ImageFilter, page: &PageParams) -> AppResult<(Vec<Image>, i64)> {
    let rows = matching(tenant_id, f)
        .order((images::created_at.desc(), images::id.desc()))
        .select(Image::as_select())
        .limit(page.per_page())
        .offset(page.offset())
        .load(conn)
        .await?;
    let total = matching(tenant_id, f).count().get_result(conn).await?;
    Ok((rows, total))
}

pub async fn for_task(conn: &mut AsyncPgConnection, tenant_id: i64, task_id: i64) -> AppResult<Vec<Image>> {
    Ok(images::table
        .filter(images::tenant_id.eq(tenant_id))
        .filter(images::task_id.eq(task_id))
        .order(images::position)
        .select(Image::as_select())
        .load(conn)
        .await?)
}

/// The image's bytes and type for `/media/images/{id}/{token}`, when the token matches.
pub async fn bytes(conn: &mut AsyncPgConnection, secret: &str, id: i64, given: &str) -> AppResult<(String, Vec<u8>)> {
    let (tenant_id, content_type, data): (i64, String, Option<Vec<u8>>) = images::table
        .filter(images::id.eq(id))
        .filter(images::status.eq(ImageStatus::Ready))
        .select((images::tenant_id, images::content_type, images::data))
        .first(conn)
        .await?;
    let expected = token(secret, tenant_id, id);
    let same = expected.len() == given.len() && expected.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    match (same, data) {
        (true, Some(d)) => Ok((content_type, d)),
        _ => Err(crate::error::AppError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::place;

    #[test]
    fn images_go_after_their_h2_and_placing_again_replaces_them() {
        let html = "<p>intro</p><h2>A</h2><p>a</p><h2>B</h2><p>b</p>";
        let once = place(html, &[(1, "/media/images/7/t".into(), "Alt \"A\"".into()), (2, "/media/images/8/t".into(), "B".into())]);
        assert_eq!(
            once,
            "<p>intro</p><h2>A</h2><figure><img src=\"/media/images/7/t\" alt=\"Alt &quot;A&quot;\"></figure><p>a</p><h2>B</h2><figure><img src=\"/media/images/8/t\" alt=\"B\"></figure><p>b</p>"
        );
        let twice = place(&once, &[(2, "/media/images/9/t".into(), "C".into())]);
        assert_eq!(twice, "<p>intro</p><h2>A</h2><p>a</p><h2>B</h2><figure><img src=\"/media/images/9/t\" alt=\"C\"></figure><p>b</p>");
    }
}
