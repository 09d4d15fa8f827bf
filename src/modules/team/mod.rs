//! Team: members, roles, invitations and API tokens.

pub mod api;
pub mod handlers;
pub mod service;
pub mod tokens;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/team", web::get().to(handlers::page))
        .route("/team/invites", web::post().to(handlers::invite))
        .route("/team/invites/{id}/revoke", web::post().to(handlers::revoke_invite))
        .route("/team/members/{id}/role", web::post().to(handlers::change_role))
        .route("/team/members/{id}/remove", web::post().to(handlers::remove_member))
        .route("/team/tokens", web::post().to(handlers::create_token))
        .route("/team/tokens/{id}/revoke", web::post().to(handlers::revoke_token))
        .route("/invite/{token}", web::get().to(handlers::invite_page))
        .route("/invite/{token}", web::post().to(handlers::accept_invite))
        .route("/api/team/members", web::get().to(api::members))
        .route("/api/team/members/{id}", web::get().to(api::member))
        .route("/api/team/members/{id}", web::patch().to(api::change_role))
        .route("/api/team/members/{id}", web::delete().to(api::remove_member))
        .route("/api/team/invites", web::get().to(api::invites))
        .route("/api/team/invites", web::post().to(api::create_invite))
        .route("/api/team/invites/{id}", web::get().to(api::invite))
        .route("/api/team/invites/{id}", web::delete().to(api::revoke_invite))
        .route("/api/team/tokens", web::get().to(api::tokens))
        .route("/api/team/tokens", web::post().to(api::create_token))
        .route("/api/team/tokens/{id}", web::get().to(api::token))
        .route("/api/team/tokens/{id}", web::delete().to(api::revoke_token));
}
