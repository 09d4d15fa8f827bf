//! Authentication and authorisation: passwords, session JWTs, API tokens, roles, sign-in throttling.

pub mod account_handlers;
pub mod handlers;
pub mod jwt;
pub mod links;
pub mod notifications;
pub mod password;
pub mod password_rules;
pub mod profile;
pub mod rbac;
pub mod reset;
pub mod resolve;
pub mod service;
pub mod throttle;
pub mod verify;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(handlers::login_page))
        .route("/login", web::post().to(handlers::login_submit))
        .route("/signup", web::get().to(handlers::signup_page))
        .route("/signup", web::post().to(handlers::signup_submit))
        .route("/signup/sent", web::get().to(account_handlers::signup_sent))
        .route("/password/forgot", web::get().to(account_handlers::forgot_page))
        .route("/password/forgot", web::post().to(account_handlers::forgot_submit))
        .route("/password/reset/{secret}", web::get().to(account_handlers::reset_page))
        .route("/password/reset/{secret}", web::post().to(account_handlers::reset_submit))
        .route("/verify/{secret}", web::get().to(account_handlers::verify_link))
        .route("/verify/{secret}", web::post().to(account_handlers::verify_submit))
        .route("/account/notifications", web::get().to(account_handlers::notifications_page))
        .route("/account/notifications", web::post().to(account_handlers::notifications_submit))
        .route("/account/profile", web::get().to(account_handlers::profile_page))
        .route("/account/profile/name", web::post().to(account_handlers::profile_name))
        .route("/account/profile/email", web::post().to(account_handlers::profile_email))
        .route("/account/email/{secret}", web::get().to(account_handlers::email_confirm_page))
        .route("/account/email/{secret}", web::post().to(account_handlers::email_confirm))
        .route("/account/sessions/revoke-all", web::post().to(account_handlers::sessions_revoke_all))
        .route("/account/verify/resend", web::post().to(account_handlers::verify_resend))
        .route("/logout", web::post().to(handlers::logout))
        .route("/account/password", web::get().to(handlers::password_page))
        .route("/account/password", web::post().to(handlers::password_submit))
        .route("/tenants/switch", web::post().to(handlers::switch_tenant))
        .route("/tenants/rename", web::post().to(handlers::rename_tenant))
        .route("/api/workspace", web::patch().to(handlers::api_rename_tenant))
        .route("/api/auth/login", web::post().to(handlers::api_login))
        .route("/api/me", web::get().to(handlers::api_me));
}
