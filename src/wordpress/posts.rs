//! What publishing asks of WordPress: media, terms, posts, post meta, and reading statuses back.

use serde_json::{Value, json};

use super::{Wp, WpError, text_of};

/// Every status a post can have on the site; REST's `any` leaves out trash, which status sync must see.
pub const ALL_STATUSES: &str = "publish,future,draft,pending,private,trash";

crate::text_enum! {
    /// The status IGNY8 asks a post to have (`publications.post_status`, a site's default, auto-publish's choice).
    pub enum PostStatus {
        Draft = "draft",
        Publish = "publish",
        Future = "future",
    }
}

/// What WordPress says of a post, as `publications.remote_status` keeps it: WordPress's own word (plugins may add
/// statuses, so it stays text), `deleted` when WordPress no longer has the post, empty before it exists.
pub mod remote {
    /// Not on the site (yet).
    pub const NONE: &str = "";
    pub const TRASH: &str = "trash";
    pub const DELETED: &str = "deleted";
    pub const DRAFT: &str = "draft";

    /// Visible to readers, or scheduled to be.
    pub fn is_live(status: &str) -> bool {
        matches!(status, "publish" | "future")
    }
    /// Public in some form (visible, scheduled, awaiting review, private): moving it to another site first needs
    /// an unpublish.
    pub fn is_out(status: &str) -> bool {
        matches!(status, "publish" | "future" | "private" | "pending")
    }
    /// Trashed or deleted on the site: IGNY8 never re-creates it on its own.
    pub fn is_gone(status: &str) -> bool {
        matches!(status, TRASH | DELETED)
    }
}

#[derive(Debug, Clone)]
pub struct Media {
    pub id: i64,
    pub url: String,
}

/// Uploads an image under `slug` — a marker unique to the image and its bytes, so an upload whose answer was
/// lost (a crash, a timeout) is found again by [`media_by_slugs`] instead of being uploaded twice. The file
/// keeps its readable name.
pub async fn upload_image(
    wp: &Wp,
    filename: &str,
    slug: &str,
    content_type: &str,
    bytes: Vec<u8>,
    alt: &str,
    post: Option<i64>,
) -> Result<Media, WpError> {
    let mut q = vec![("alt_text", alt.to_string()), ("slug", slug.to_string())];
    if let Some(p) = post {
        q.push(("post", p.to_string()));
    }
    let v = wp.upload(filename, content_type, bytes, &q).await?;
    media_of(&v).ok_or_else(|| WpError::Malformed("the media answer has no id".into()))
}

fn media_of(v: &Value) -> Option<Media> {
    let id = v.get("id").and_then(|x| x.as_i64())?;
    let url = v.get("source_url").and_then(|x| x.as_str()).unwrap_or_default().to_string();
    Some(Media { id, url })
}

/// Media items already in the library under these slugs (one request), by slug.
pub async fn media_by_slugs(wp: &Wp, slugs: &[String]) -> Result<std::collections::HashMap<String, Media>, WpError> {
    let mut found = std::collections::HashMap::new();
    for chunk in slugs.chunks(50) {
        let v = wp
            .get(
                "/wp/v2/media",
                &[
                    ("slug", chunk.join(",")),
                    ("per_page", "100".into()),
                    ("context", "edit".into()),
                    ("_fields", "id,slug,source_url".into()),
                ],
            )
            .await?;
        for item in v.as_array().cloned().unwrap_or_default() {
            if let Some(m) = media_of(&item) {
                found.insert(text_of(&item, "slug"), m);
            }
        }
    }
    Ok(found)
}

/// Makes the media item an attachment of the post.
pub async fn attach(wp: &Wp, media_id: i64, post_id: i64) -> Result<(), WpError> {
    wp.post(&format!("/wp/v2/media/{media_id}"), &json!({ "post": post_id })).await.map(|_| ())
}

/// The id of the category or tag with this name, created when missing. WordPress answers `term_exists` with
/// the existing term's id, so one request covers both cases.
pub async fn term_id(wp: &Wp, taxonomy: &str, name: &str) -> Result<i64, WpError> {
    match wp.post(&format!("/wp/v2/{taxonomy}"), &json!({ "name": name })).await {
        Ok(v) => v.get("id").and_then(|x| x.as_i64()).ok_or_else(|| WpError::Malformed("the term answer has no id".into())),
        Err(WpError::Api { code, data, .. }) if code == "term_exists" => {
            data.get("term_id").and_then(|x| x.as_i64()).ok_or_else(|| WpError::Malformed("term_exists without term_id".into()))
        }
        Err(e) => Err(e),
    }
}

/// The post with this id as the editor sees it, `None` when WordPress no longer has it.
pub async fn get_post(wp: &Wp, id: i64) -> Result<Option<Value>, WpError> {
    match wp.get(&format!("/wp/v2/posts/{id}"), &[("context", "edit".into())]).await {
        Ok(v) => Ok(Some(v)),
        Err(e) if matches!(e.status(), Some(404 | 410)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Posts with this slug in any status but trash (drafts and scheduled ones too).
pub async fn posts_with_slug(wp: &Wp, slug: &str) -> Result<Vec<Value>, WpError> {
    let v = wp
        .get(
            "/wp/v2/posts",
            &[
                ("slug", slug.to_string()),
                ("status", "publish,future,draft,pending,private".into()),
                ("context", "edit".into()),
                ("per_page", "10".into()),
            ],
        )
        .await?;
    Ok(v.as_array().cloned().unwrap_or_default())
}

pub async fn create_post(wp: &Wp, body: &Value) -> Result<Value, WpError> {
    wp.post("/wp/v2/posts", body).await
}

pub async fn update_post(wp: &Wp, id: i64, body: &Value) -> Result<Value, WpError> {
    wp.post(&format!("/wp/v2/posts/{id}"), body).await
}

/// Remote state of posts, read in pages of 100 ids.
#[derive(Debug, Clone)]
pub struct Remote {
    pub id: i64,
    pub status: String,
    pub link: String,
    pub modified_gmt: String,
}

pub async fn statuses(wp: &Wp, ids: &[i64]) -> Result<Vec<Remote>, WpError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(100) {
        let include = chunk.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let v = wp
            .get(
                "/wp/v2/posts",
                &[
                    ("include", include),
                    ("status", ALL_STATUSES.into()),
                    ("per_page", "100".into()),
                    ("context", "edit".into()),
                    ("_fields", "id,status,link,modified_gmt".into()),
                ],
            )
            .await?;
        for p in v.as_array().cloned().unwrap_or_default() {
            out.push(Remote {
                id: p.get("id").and_then(|x| x.as_i64()).unwrap_or(0),
                status: text_of(&p, "status"),
                link: text_of(&p, "link"),
                modified_gmt: text_of(&p, "modified_gmt"),
            });
        }
    }
    Ok(out)
}

/// The meta keys IGNY8 writes for the SEO plugin in use; the `igny8_*` ones always (the companion plugin
/// prints them when there is no SEO plugin).
pub fn seo_meta(plugin: &str, title: &str, description: &str, keyword: &str) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: &str| {
        m.insert(k.to_string(), Value::String(v.to_string()));
    };
    put("igny8_meta_title", title);
    put("igny8_meta_description", description);
    put("igny8_focus_keyword", keyword);
    match plugin {
        "yoast" => {
            put("_yoast_wpseo_title", title);
            put("_yoast_wpseo_metadesc", description);
            put("_yoast_wpseo_focuskw", keyword);
        }
        "rankmath" => {
            put("rank_math_title", title);
            put("rank_math_description", description);
            put("rank_math_focus_keyword", keyword);
        }
        _ => {}
    }
    m
}

/// The keys of `seo_meta` that the SEO plugin in use reads — the ones worth a warning when WordPress drops them.
/// Without an SEO plugin the `igny8_*` keys are what the companion plugin prints.
pub fn seo_keys_that_matter(plugin: &str) -> &'static [&'static str] {
    match plugin {
        "yoast" => &["_yoast_wpseo_title", "_yoast_wpseo_metadesc", "_yoast_wpseo_focuskw"],
        "rankmath" => &["rank_math_title", "rank_math_description", "rank_math_focus_keyword"],
        _ => &["igny8_meta_title", "igny8_meta_description"],
    }
}

/// Writes post meta and reads it back: WordPress drops keys no plugin registered for REST without an
/// error, so the keys that did not stick are returned.
pub async fn write_meta(wp: &Wp, post_id: i64, meta: &serde_json::Map<String, Value>) -> Result<Vec<String>, WpError> {
    let v = update_post(wp, post_id, &json!({ "meta": meta })).await?;
    let saved = v.get("meta").cloned().unwrap_or(Value::Null);
    Ok(meta.iter().filter(|(k, want)| saved.get(k.as_str()) != Some(want)).map(|(k, _)| k.clone()).collect())
}
