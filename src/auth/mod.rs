//! Authentication and authorisation: passwords, session JWTs, API tokens, roles, sign-in throttling.

pub mod handlers;
pub mod jwt;
pub mod password;
pub mod rbac;
pub mod resolve;
pub mod service;
pub mod throttle;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(handlers::login_page))
        .route("/login", web::post().to(handlers::login_submit))
        .route("/signup", web::get().to(handlers::signup_page))
        .route("/signup", web::post().to(handlers::signup_submit))
        .route("/logout", web::post().to(handlers::logout))
        .route("/account/password", web::get().to(handlers::password_page))
        .route("/account/password", web::post().to(handlers::password_submit))
        .route("/tenants/switch", web::post().to(handlers::switch_tenant))
        .route("/api/auth/login", web::post().to(handlers::api_login))
        .route("/api/me", web::get().to(handlers::api_me));
}
