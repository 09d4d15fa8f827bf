//! Writer (seed §3.1, §4.8): tasks from the planner or by hand, "generate content" as a job, the editor
//! with sanitised HTML, a sandboxed preview and versions, reparse, and images placed after their H2s.

pub mod api;
pub mod article;
pub mod dev_answers;
pub mod generate;
pub mod html;
pub mod image_jobs;
pub mod images;
pub mod pages;
pub mod prompts;
pub mod reparse;
pub mod service;
pub mod status;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/writer", web::get().to(|| async { crate::web::redirect_with("/writer/tasks", None) }))
        .route("/writer/tasks", web::get().to(pages::list))
        .route("/writer/tasks", web::post().to(pages::create))
        .route("/writer/tasks/bulk", web::post().to(pages::bulk))
        .route("/writer/tasks/state", web::get().to(pages::state))
        .route("/writer/tasks/{id}", web::get().to(pages::show))
        .route("/writer/tasks/{id}", web::post().to(pages::save))
        .route("/writer/tasks/{id}/generate", web::post().to(pages::generate_one))
        .route("/writer/tasks/{id}/reparse", web::post().to(pages::reparse_one))
        .route("/writer/tasks/{id}/images", web::post().to(pages::images_one))
        .route("/writer/tasks/{id}/style", web::post().to(pages::set_style))
        .route("/writer/images", web::get().to(pages::images_page))
        .route("/writer/images/{id}/regenerate", web::post().to(pages::regenerate_image))
        .route("/media/images/{id}/{token}", web::get().to(pages::media))
        .route("/writer/tasks/{id}/delete", web::post().to(pages::delete))
        .route("/writer/tasks/{id}/versions/{version}", web::get().to(pages::compare))
        .route("/writer/tasks/{id}/versions/{version}/restore", web::post().to(pages::restore))
        .route("/api/writer/tasks", web::get().to(api::list))
        .route("/api/writer/tasks", web::post().to(api::create))
        .route("/api/writer/tasks/generate", web::post().to(api::generate))
        .route("/api/writer/tasks/reparse", web::post().to(api::reparse))
        .route("/api/writer/tasks/images", web::post().to(api::images))
        .route("/api/writer/images", web::get().to(api::image_list))
        .route("/api/writer/images/{id}/regenerate", web::post().to(api::regenerate_image))
        .route("/api/writer/tasks/{id}", web::get().to(api::get))
        .route("/api/writer/tasks/{id}", web::put().to(api::save))
        .route("/api/writer/tasks/{id}", web::delete().to(api::delete))
        .route("/api/writer/tasks/{id}/versions", web::get().to(api::versions))
        .route("/api/writer/tasks/{id}/style", web::put().to(api::set_style))
        .route("/api/writer/tasks/{id}/versions/{version}", web::get().to(api::version))
        .route("/api/writer/tasks/{id}/versions/{version}/restore", web::post().to(api::restore));
}

pub fn register_jobs(r: &mut crate::jobs::Registry) {
    r.add::<generate::Generate>().add::<reparse::Reparse>().add::<image_jobs::ImagePrompts>().add::<image_jobs::RenderImage>();
}
