//! Planner (seed §3.1): keywords → clusters → content ideas → writer tasks. Folders: `keywords` (list,
//! filters, bulk, export), `import` (CSV upload, analysis, apply), `clustering` (local and AI),
//! `clusters`, `ideas`; `pages` renders HTML and `api` answers JSON, over the same services.

pub mod api;
pub mod clustering;
pub mod clusters;
pub mod dev_answers;
pub mod ideas;
pub mod import;
pub mod keywords;
pub mod pages;
pub mod prompts;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    use pages::{activity, clusters as cp, ideas as ip, imports, keywords as kp};
    cfg.route("/planner", web::get().to(|| async { crate::web::redirect_with("/planner/keywords", None) }))
        .route("/planner/activity", web::get().to(activity::fragment))
        .route("/planner/keywords", web::get().to(kp::list))
        .route("/planner/keywords", web::post().to(kp::create))
        .route("/planner/keywords/bulk", web::post().to(kp::bulk_action))
        .route("/planner/keywords/export", web::get().to(kp::export_csv))
        .route("/planner/keywords/{id}", web::get().to(kp::edit))
        .route("/planner/keywords/{id}", web::post().to(kp::update))
        .route("/planner/keywords/{id}/delete", web::post().to(kp::delete))
        .route("/planner/imports", web::get().to(imports::list))
        .route("/planner/imports", web::post().to(imports::upload))
        .route("/planner/imports/{id}", web::get().to(imports::show))
        .route("/planner/imports/{id}/confirm", web::post().to(imports::confirm))
        .route("/planner/imports/{id}/columns", web::post().to(imports::columns))
        .route("/planner/imports/{id}/discard", web::post().to(imports::discard))
        .route("/planner/clusters", web::get().to(cp::list))
        .route("/planner/clusters", web::post().to(cp::create))
        .route("/planner/clusters/bulk", web::post().to(cp::bulk))
        .route("/planner/clusters/{id}", web::get().to(cp::show))
        .route("/planner/clusters/{id}", web::post().to(cp::update))
        .route("/planner/clusters/{id}/merge", web::post().to(cp::merge))
        .route("/planner/clusters/{id}/delete", web::post().to(cp::delete))
        .route("/planner/ideas", web::get().to(ip::list))
        .route("/planner/ideas/bulk", web::post().to(ip::bulk))
        .route("/planner/ideas/{id}", web::get().to(ip::edit))
        .route("/planner/ideas/{id}", web::post().to(ip::update))
        .route("/planner/ideas/{id}/delete", web::post().to(ip::delete));
    cfg.route("/api/planner/keywords", web::get().to(api::keywords))
        .route("/api/planner/keywords", web::post().to(api::create_keyword))
        .route("/api/planner/keywords/bulk", web::post().to(api::keywords_bulk))
        .route("/api/planner/keywords/export", web::get().to(api::keywords_export))
        .route("/api/planner/keywords/{id}", web::get().to(api::keyword))
        .route("/api/planner/keywords/{id}", web::put().to(api::update_keyword))
        .route("/api/planner/keywords/{id}", web::delete().to(api::delete_keyword))
        .route("/api/planner/cluster", web::post().to(api::cluster))
        .route("/api/planner/imports", web::post().to(api::create_import))
        .route("/api/planner/imports/{id}", web::get().to(api::import))
        .route("/api/planner/imports/{id}", web::delete().to(api::discard_import))
        .route("/api/planner/imports/{id}/confirm", web::post().to(api::confirm_import))
        .route("/api/planner/imports/{id}/columns", web::post().to(api::import_columns))
        .route("/api/planner/clusters", web::get().to(api::clusters_list))
        .route("/api/planner/clusters", web::post().to(api::cluster_create))
        .route("/api/planner/clusters/ideas", web::post().to(api::generate_ideas))
        .route("/api/planner/clusters/{id}", web::get().to(api::cluster_get))
        .route("/api/planner/clusters/{id}", web::put().to(api::cluster_update))
        .route("/api/planner/clusters/{id}", web::delete().to(api::cluster_delete))
        .route("/api/planner/clusters/{id}/merge", web::post().to(api::cluster_merge))
        .route("/api/planner/ideas", web::get().to(api::ideas_list))
        .route("/api/planner/ideas/send-to-writer", web::post().to(api::send_to_writer))
        .route("/api/planner/ideas/{id}", web::get().to(api::idea_get))
        .route("/api/planner/ideas/{id}", web::put().to(api::idea_update))
        .route("/api/planner/ideas/{id}", web::delete().to(api::idea_delete));
}

/// The planner's job kinds.
pub fn register_jobs(r: &mut crate::jobs::Registry) {
    r.add::<import::job::Import>()
        .add::<clustering::ai::ClusterAi>()
        .add::<clustering::semantic::job::ClusterSemantic>()
        .add::<ideas::generate::Ideas>();
}
