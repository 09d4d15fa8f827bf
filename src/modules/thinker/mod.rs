//! Thinker (seed §3.1): the prompt library behind every AI step — built-in defaults shipped in the
//! binary, a workspace's own versions with their placeholders checked, history and reset.

pub mod api;
pub mod library;
pub mod pages;
pub mod service;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/thinker", web::get().to(|| async { crate::web::redirect_with("/thinker/prompts", None) }))
        .route("/thinker/prompts", web::get().to(pages::library_page))
        .route("/thinker/prompts/{key}", web::get().to(pages::show))
        .route("/thinker/prompts/{key}", web::post().to(pages::save))
        .route("/thinker/prompts/{key}/reset", web::post().to(pages::reset))
        .route("/api/thinker/prompts", web::get().to(api::list))
        .route("/api/thinker/prompts/{key}", web::get().to(api::get))
        .route("/api/thinker/prompts/{key}", web::put().to(api::save))
        .route("/api/thinker/prompts/{key}/reset", web::post().to(api::reset));
}
