//! Thin handlers for sign-in, sign-up, sign-out, password change and the workspace switcher.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::resolve::SessionUser;
use crate::auth::service::{self, ClientMeta, PasswordChange, SignupInput};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::state::AppState;
use crate::tenancy::{Actor, TenantCtx};
use crate::web::json_object::JsonObject;
use crate::web::page::{PageCtx, PublicPage};
use crate::web::{Toast, client_ip, redirect_with, render, render_status, safe_next};

pub fn meta(state: &AppState, req: &HttpRequest) -> ClientMeta {
    ClientMeta {
        ip: client_ip(req, &state.config),
        user_agent: req.headers().get("user-agent").and_then(|v| v.to_str().ok()).map(String::from),
    }
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    page: PublicPage,
    email: String,
    next: String,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

pub async fn login_page(req: HttpRequest, q: web::Query<NextQuery>) -> AppResult<HttpResponse> {
    render(&LoginPage { page: PublicPage::from_req(&req), email: String::new(), next: q.into_inner().next, errors: FieldErrors::new() })
}

#[derive(Deserialize, Default)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login_submit(state: web::Data<AppState>, req: HttpRequest, form: web::Form<LoginForm>) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    match service::login(&state, &form.email, &form.password, &meta(&state, &req)).await {
        Ok(token) => {
            let target = safe_next(&form.next).unwrap_or("/dashboard").to_string();
            let mut res = redirect_with(&target, None);
            res.add_cookie(&service::session_cookie(&state, token)).map_err(AppError::internal)?;
            Ok(res)
        }
        Err(AppError::Validation(errors)) => render_status(
            &LoginPage { page: PublicPage::from_req(&req), email: form.email, next: form.next, errors },
            StatusCode::UNAUTHORIZED,
        ),
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "auth/signup.html")]
struct SignupPage {
    page: PublicPage,
    form: SignupInput,
    errors: FieldErrors,
}

pub async fn signup_page(req: HttpRequest) -> AppResult<HttpResponse> {
    render(&SignupPage { page: PublicPage::from_req(&req), form: SignupInput::default(), errors: FieldErrors::new() })
}

pub async fn signup_submit(state: web::Data<AppState>, req: HttpRequest, form: web::Form<SignupInput>) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    // The same answer for a new email and a known one (whose owner gets a mail instead).
    match service::signup(&state, &form, &meta(&state, &req)).await {
        Ok(()) => Ok(redirect_with("/signup/sent", None)),
        Err(AppError::Validation(errors)) => {
            let form = SignupInput { password: String::new(), ..form };
            render_status(&SignupPage { page: PublicPage::from_req(&req), form, errors }, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

/// Works with or without a workspace (someone who left their last one signs out too).
pub async fn logout(state: web::Data<AppState>, user: SessionUser, ctx: Option<TenantCtx>) -> AppResult<HttpResponse> {
    service::logout(&state, &user, ctx.as_ref()).await?;
    let mut res = redirect_with("/login", Some(Toast::success("You are signed out")));
    res.add_cookie(&service::clear_session_cookie(&state)).map_err(AppError::internal)?;
    Ok(res)
}

#[derive(Template)]
#[template(path = "auth/password.html")]
struct PasswordPage {
    page: PageCtx,
    errors: FieldErrors,
}

pub async fn password_page(page: PageCtx) -> AppResult<HttpResponse> {
    render(&PasswordPage { page, errors: FieldErrors::new() })
}

pub async fn password_submit(state: web::Data<AppState>, page: PageCtx, form: web::Form<PasswordChange>) -> AppResult<HttpResponse> {
    match service::change_password(&state, &page.ctx, &form).await {
        Ok(()) => Ok(redirect_with("/account/password", Some(Toast::success("Password changed. Other sessions were signed out.")))),
        Err(AppError::Validation(errors)) => render_status(&PasswordPage { page, errors }, StatusCode::UNPROCESSABLE_ENTITY),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    tenant_id: String,
}

pub async fn switch_tenant(state: web::Data<AppState>, ctx: TenantCtx, form: web::Form<SwitchForm>) -> AppResult<HttpResponse> {
    let tenant_id: i64 = form.tenant_id.trim().parse().map_err(|_| AppError::NotFound)?;
    let token = service::switch_tenant(&state, &ctx, tenant_id).await?;
    let mut res = redirect_with("/dashboard", Some(Toast::success("Workspace switched")));
    res.add_cookie(&service::session_cookie(&state, token)).map_err(AppError::internal)?;
    Ok(res)
}

#[derive(Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    name: String,
}

/// POST /tenants/rename — the page form; PATCH /api/workspace takes the same body as JSON.
pub async fn rename_tenant(state: web::Data<AppState>, ctx: TenantCtx, form: web::Form<RenameForm>) -> AppResult<HttpResponse> {
    crate::tenancy::service::rename_workspace(&state, &ctx, &form.name).await?;
    Ok(redirect_with("/account/profile", Some(Toast::success("Workspace renamed"))))
}

pub async fn api_rename_tenant(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<RenameForm>) -> AppResult<HttpResponse> {
    crate::tenancy::service::rename_workspace(&state, &ctx, &body.name).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "id": ctx.tenant_id, "name": body.name.trim() })))
}

#[derive(Deserialize)]
pub struct ApiLogin {
    email: Option<String>,
    password: Option<String>,
}

/// POST /api/auth/login → a bearer JWT for API clients (same session rules as the cookie).
pub async fn api_login(state: web::Data<AppState>, req: HttpRequest, body: JsonObject<ApiLogin>) -> AppResult<HttpResponse> {
    let email = body.email.clone().unwrap_or_default();
    let password = body.password.clone().unwrap_or_default();
    let token = service::login(&state, &email, &password, &meta(&state, &req)).await.map_err(|e| match e {
        AppError::Validation(_) => AppError::Unauthorized,
        other => other,
    })?;
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({ "token": token, "token_type": "Bearer", "expires_in_hours": state.config.session_hours })))
}

/// GET /api/me — who is calling, and in which tenant.
pub async fn api_me(ctx: TenantCtx) -> AppResult<HttpResponse> {
    let actor = match &ctx.actor {
        Actor::User { id, email, name, .. } => serde_json::json!({ "type": "user", "id": id, "email": email, "name": name }),
        Actor::Token { id, name } => serde_json::json!({ "type": "api_token", "id": id, "name": name }),
        Actor::Automation => serde_json::json!({ "type": "automation" }),
    };
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "actor": actor,
        "role": ctx.role.as_str(),
        "tenant": {
            "id": ctx.tenant_id,
            "name": ctx.tenant_name,
            "status": ctx.tenant_status,
            "plan": ctx.plan_code,
            "credits_balance": ctx.credits_balance,
        }
    })))
}
