//! Thinker (seed §3.1): the prompt library behind every AI step — built-in defaults shipped in the
//! binary, a workspace's own versions with their placeholders checked, history and reset; author profiles
//! and strategies a task can pick.

pub mod api;
pub mod pages;
pub mod playground;
pub mod service;
pub mod style_pages;
pub mod styles;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/thinker", web::get().to(|| async { crate::web::redirect_with("/thinker/prompts", None) }))
        .route("/thinker/prompts", web::get().to(pages::library_page))
        .route("/thinker/prompts/{key}", web::get().to(pages::show))
        .route("/thinker/prompts/{key}", web::post().to(pages::save))
        .route("/thinker/prompts/{key}/reset", web::post().to(pages::reset))
        .route("/thinker/profiles", web::get().to(style_pages::profiles_page))
        .route("/thinker/profiles/{id}", web::post().to(style_pages::save_profile))
        .route("/thinker/profiles/{id}/delete", web::post().to(style_pages::delete_profile))
        .route("/thinker/strategies", web::get().to(style_pages::strategies_page))
        .route("/thinker/strategies/{id}", web::post().to(style_pages::save_strategy))
        .route("/thinker/strategies/{id}/delete", web::post().to(style_pages::delete_strategy))
        .route("/api/thinker/profiles", web::get().to(style_pages::api_profiles))
        .route("/api/thinker/profiles", web::post().to(style_pages::api_create_profile))
        .route("/api/thinker/strategies", web::get().to(style_pages::api_strategies))
        .route("/api/thinker/strategies", web::post().to(style_pages::api_create_strategy))
        .route("/thinker/playground", web::get().to(playground::page))
        .route("/thinker/playground", web::post().to(playground::run_form))
        .route("/thinker/playground/image", web::post().to(playground::image_form))
        .route("/thinker/playground/runs/{id}", web::get().to(playground::run_page))
        .route("/thinker/playground/runs/{id}/image", web::get().to(playground::image_bytes))
        .route("/api/thinker/playground/image", web::post().to(playground::api_image))
        .route("/api/thinker/playground", web::post().to(playground::api_run))
        .route("/api/thinker/playground/runs/{id}", web::get().to(playground::api_view))
        .route("/api/thinker/prompts", web::get().to(api::list))
        .route("/api/thinker/prompts/{key}", web::get().to(api::get))
        .route("/api/thinker/prompts/{key}", web::put().to(api::save))
        .route("/api/thinker/prompts/{key}/reset", web::post().to(api::reset));
}
