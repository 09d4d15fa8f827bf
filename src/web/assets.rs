//! Static files, embedded in the binary. URLs carry a content hash, so they can be cached for a year.

use std::sync::LazyLock;

use actix_web::{HttpResponse, http::header, web};

use crate::crypto::secrets::sha256_hex;
use crate::error::AppError;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset { name: "app.css", content_type: "text/css; charset=utf-8", body: include_bytes!("../../static/app.css") },
    Asset { name: "preview.css", content_type: "text/css; charset=utf-8", body: include_bytes!("../../static/preview.css") },
    Asset { name: "app.js", content_type: "text/javascript; charset=utf-8", body: include_bytes!("../../static/app.js") },
    Asset { name: "favicon.svg", content_type: "image/svg+xml", body: include_bytes!("../../static/favicon.svg") },
    Asset {
        name: "vendor/htmx/htmx.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/vendor/htmx/htmx.min.js"),
    },
    Asset {
        name: "vendor/htmx/LICENSE",
        content_type: "text/plain; charset=utf-8",
        body: include_bytes!("../../static/vendor/htmx/LICENSE"),
    },
];

/// Versioned URLs the layouts link to.
pub struct AssetUrls {
    pub css: String,
    pub js: String,
    pub htmx: String,
    pub favicon: String,
    /// The article preview's stylesheet (inside the sandboxed iframe).
    pub preview_css: String,
}

pub static URLS: LazyLock<AssetUrls> = LazyLock::new(|| AssetUrls {
    css: url("app.css"),
    js: url("app.js"),
    htmx: url("vendor/htmx/htmx.min.js"),
    favicon: url("favicon.svg"),
    preview_css: url("preview.css"),
});

fn url(name: &str) -> String {
    let asset = ASSETS.iter().find(|a| a.name == name).expect("asset is embedded");
    let hash = sha256_hex(asset.body);
    format!("/static/{}?v={}", name, &hash[..12])
}

/// GET /static/{path}
pub async fn serve(path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let name = path.into_inner();
    let asset = ASSETS.iter().find(|a| a.name == name).ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(asset.body))
}
