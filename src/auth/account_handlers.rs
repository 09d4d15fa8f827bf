//! Thin handlers for the mailed account links: forgot/reset password, email verification and its resend,
//! and the page every sign-up answers with.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::handlers::meta;
use crate::auth::links::{self, Purpose};
use crate::auth::{notifications, profile, reset, verify};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::mail;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::page::PublicPage;
use crate::web::{Toast, redirect_with, render, render_status};

#[derive(Template)]
#[template(path = "auth/notice.html")]
struct Notice {
    page: PublicPage,
    title: String,
    paragraphs: Vec<String>,
}

fn notice(req: &HttpRequest, title: &str, paragraphs: &[&str]) -> AppResult<HttpResponse> {
    render(&Notice { page: PublicPage::from_req(req), title: title.into(), paragraphs: paragraphs.iter().map(|p| p.to_string()).collect() })
}

/// GET /signup/sent — the one answer to every accepted sign-up, new email or not.
pub async fn signup_sent(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    if mail::enabled(&state) {
        notice(
            &req,
            "Check your inbox",
            &[
                "We sent a mail to the address you entered. If it is new to IGNY8, the mail has a link to confirm it; \
             if it already has an account, the mail says so.",
                "You can sign in now.",
            ],
        )
    } else {
        notice(&req, "Your workspace is ready", &["You can sign in now with your email and password."])
    }
}

#[derive(Template)]
#[template(path = "auth/forgot.html")]
struct ForgotPage {
    page: PublicPage,
    email: String,
    errors: FieldErrors,
}

pub async fn forgot_page(req: HttpRequest) -> AppResult<HttpResponse> {
    render(&ForgotPage { page: PublicPage::from_req(&req), email: String::new(), errors: FieldErrors::new() })
}

#[derive(Deserialize, Default)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

/// POST /password/forgot — the same page whether or not the email has an account.
pub async fn forgot_submit(state: web::Data<AppState>, req: HttpRequest, form: web::Form<ForgotForm>) -> AppResult<HttpResponse> {
    match reset::request(&state, &form.email, &meta(&state, &req)).await {
        Ok(()) if mail::enabled(&state) => notice(
            &req,
            "Check your inbox",
            &["If an account uses this address, we mailed it a link to choose a new password. The link works once, for one hour."],
        ),
        Ok(()) => notice(
            &req,
            "Email is not set up",
            &["This IGNY8 server does not send mail, so it cannot mail you a link. Ask its operator to set a new password for you."],
        ),
        Err(AppError::Validation(errors)) => render_status(
            &ForgotPage { page: PublicPage::from_req(&req), email: form.into_inner().email, errors },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "auth/reset.html")]
struct ResetPage {
    page: PublicPage,
    secret: String,
    email: String,
    errors: FieldErrors,
}

pub async fn reset_page(state: web::Data<AppState>, req: HttpRequest, secret: web::Path<String>) -> AppResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let link = links::peek(&mut conn, &secret, Purpose::PasswordReset).await?;
    render(&ResetPage { page: PublicPage::from_req(&req), secret: secret.into_inner(), email: link.email, errors: FieldErrors::new() })
}

pub async fn reset_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    secret: web::Path<String>,
    form: web::Form<reset::ResetInput>,
) -> AppResult<HttpResponse> {
    match reset::reset(&state, &secret, &form, &meta(&state, &req)).await {
        Ok(()) => Ok(redirect_with("/login", Some(Toast::success("Your password is set. Sign in with it.")))),
        Err(AppError::Validation(errors)) => {
            let mut conn = state.db.get().await?;
            let link = links::peek(&mut conn, &secret, Purpose::PasswordReset).await?;
            let page = ResetPage { page: PublicPage::from_req(&req), secret: secret.into_inner(), email: link.email, errors };
            render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "auth/confirm_link.html")]
struct ConfirmLink {
    page: PublicPage,
    title: &'static str,
    text: String,
    action: String,
    button: &'static str,
}

/// A mailed link's page: the link is checked (400 when unknown, used or expired) but not used; the button posts
/// to `action`, which uses it — so a mail scanner opening links spends nothing.
async fn confirm_page(
    state: &AppState,
    req: &HttpRequest,
    secret: &str,
    purpose: Purpose,
    (title, button): (&'static str, &'static str),
    text: impl FnOnce(&str) -> String,
    action: String,
) -> AppResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let link = links::peek(&mut conn, secret, purpose).await?;
    render(&ConfirmLink { page: PublicPage::from_req(req), title, text: text(&link.email), action, button })
}

/// GET /verify/{secret} — the link in the sign-up mail.
pub async fn verify_link(state: web::Data<AppState>, req: HttpRequest, secret: web::Path<String>) -> AppResult<HttpResponse> {
    let words = ("Confirm your email address", "Confirm my email");
    let text = |email: &str| format!("Confirm that {email} is your address.");
    confirm_page(&state, &req, &secret, Purpose::VerifyEmail, words, text, format!("/verify/{secret}")).await
}

/// POST /verify/{secret} — the page's button: uses the link.
pub async fn verify_submit(state: web::Data<AppState>, req: HttpRequest, secret: web::Path<String>) -> AppResult<HttpResponse> {
    verify::confirm(&state, &secret).await?;
    notice(&req, "Your email is confirmed", &["Thank you. You can now invite your team."])
}

/// POST /account/verify/resend
pub async fn verify_resend(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    verify::resend(&state, &ctx).await?;
    Ok(redirect_with("/dashboard", Some(Toast::success("We mailed you a new confirmation link."))))
}

#[derive(Template)]
#[template(path = "auth/notifications.html")]
struct NotificationsPage {
    page: crate::web::page::PageCtx,
    switches: notifications::Switches,
    /// None for an account whose address is confirmed; otherwise whether a new link can be mailed.
    unverified_can_resend: Option<bool>,
}

pub async fn notifications_page(state: web::Data<AppState>, page: crate::web::page::PageCtx) -> AppResult<HttpResponse> {
    let switches = notifications::get(&state, &page.ctx).await?;
    let (user_id, _) = page.ctx.require_user()?;
    let mut conn = state.db.get().await?;
    let verified = verify::is_verified(&mut conn, user_id).await?;
    let unverified_can_resend = (!verified).then(|| mail::enabled(&state));
    render(&NotificationsPage { page, switches, unverified_can_resend })
}

/// Checkboxes: a ticked box is sent, an unticked one is absent.
#[derive(Deserialize, Default)]
pub struct NotificationsForm {
    automation: Option<String>,
    credits: Option<String>,
    billing: Option<String>,
}

pub async fn notifications_submit(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    form: web::Form<NotificationsForm>,
) -> AppResult<HttpResponse> {
    let to =
        notifications::Switches { automation: form.automation.is_some(), credits: form.credits.is_some(), billing: form.billing.is_some() };
    notifications::set(&state, &ctx, to).await?;
    Ok(redirect_with("/account/notifications", Some(Toast::success("Notification settings saved"))))
}

#[derive(Template)]
#[template(path = "auth/profile.html")]
struct ProfilePage {
    page: crate::web::page::PageCtx,
    name: String,
    email: String,
    sessions: Vec<profile::SessionView>,
    errors: FieldErrors,
    /// Create, leave, export and delete.
    ws: crate::tenancy::pages::Overview,
}

async fn profile_page_with(state: &AppState, page: crate::web::page::PageCtx, errors: FieldErrors) -> AppResult<ProfilePage> {
    let sessions = profile::sessions(state, &page.ctx).await?;
    let (name, email) = match &page.ctx.actor {
        crate::tenancy::Actor::User { name, email, .. } => (name.clone(), email.clone()),
        _ => return Err(AppError::Forbidden("Only people have a profile".into())),
    };
    let ws = crate::tenancy::pages::overview(state, &page.ctx).await?;
    Ok(ProfilePage { page, name, email, sessions, errors, ws })
}

pub async fn profile_page(state: web::Data<AppState>, page: crate::web::page::PageCtx) -> AppResult<HttpResponse> {
    render(&profile_page_with(&state, page, FieldErrors::new()).await?)
}

#[derive(Deserialize, Default)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

pub async fn profile_name(
    state: web::Data<AppState>,
    page: crate::web::page::PageCtx,
    form: web::Form<NameForm>,
) -> AppResult<HttpResponse> {
    match profile::rename(&state, &page.ctx, &form.name).await {
        Ok(()) => Ok(redirect_with("/account/profile", Some(Toast::success("Name saved")))),
        Err(AppError::Validation(errors)) => {
            render_status(&profile_page_with(&state, page, errors).await?, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

pub async fn profile_email(
    state: web::Data<AppState>,
    page: crate::web::page::PageCtx,
    form: web::Form<profile::EmailChange>,
) -> AppResult<HttpResponse> {
    match profile::request_email_change(&state, &page.ctx, &form).await {
        Ok(()) => Ok(redirect_with("/account/profile", Some(Toast::success("We mailed a confirmation link to the new address")))),
        Err(AppError::Validation(errors)) => {
            render_status(&profile_page_with(&state, page, errors).await?, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

/// GET /account/email/{secret} — the link mailed to the new address.
pub async fn email_confirm_page(state: web::Data<AppState>, req: HttpRequest, secret: web::Path<String>) -> AppResult<HttpResponse> {
    let words = ("Confirm your new email address", "Use this address");
    let text = |email: &str| format!("From now on you will sign in with {email}.");
    confirm_page(&state, &req, &secret, Purpose::ChangeEmail, words, text, format!("/account/email/{secret}")).await
}

/// POST /account/email/{secret} — the page's button: uses the link.
pub async fn email_confirm(state: web::Data<AppState>, req: HttpRequest, secret: web::Path<String>) -> AppResult<HttpResponse> {
    profile::confirm_email_change(&state, &secret).await?;
    notice(&req, "Your new email address is in use", &["Sign in with it from now on."])
}

pub async fn sessions_revoke_all(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    profile::sign_out_everywhere(&state, &ctx).await?;
    let mut res = redirect_with("/login", Some(Toast::success("You are signed out everywhere")));
    res.add_cookie(&crate::auth::service::clear_session_cookie(&state)).map_err(AppError::internal)?;
    Ok(res)
}
