//! Team pages: one page with members, invitations and API tokens; the invite-accept page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::service::{self, AcceptInput, Invite, InviteInput, Member, RoleInput, TokenInput};
use super::tokens::{self, ApiToken};
use crate::auth::handlers::meta;
use crate::auth::rbac::{Perm, Role};
use crate::auth::service::session_cookie;
use crate::billing::plans::Plan;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::state::AppState;
use crate::web::page::{PageCtx, PublicPage};
use crate::web::{Toast, redirect_with, render_status};

#[derive(Template)]
#[template(path = "team/index.html")]
struct TeamPage {
    page: PageCtx,
    members: Vec<Member>,
    invites: Vec<Invite>,
    tokens: Vec<ApiToken>,
    plan: Plan,
    roles: [Role; 4],
    invite_email: String,
    invite_role: String,
    invite_errors: FieldErrors,
    new_invite_link: Option<String>,
    token_name: String,
    token_errors: FieldErrors,
    new_token: Option<String>,
}

impl TeamPage {
    fn seats_used(&self) -> usize {
        self.members.len() + self.invites.len()
    }
    fn can_manage(&self) -> bool {
        self.page.can(&Perm::ManageTeam)
    }
    fn can_tokens(&self) -> bool {
        self.page.can(&Perm::ManageTokens)
    }
    fn self_id(&self) -> i64 {
        self.page.ctx.user_id().unwrap_or_default()
    }
}

async fn team_page(state: &AppState, page: PageCtx) -> AppResult<TeamPage> {
    let mut conn = state.db.get().await?;
    let tenant_id = page.ctx.tenant_id;
    let members = service::members(&mut conn, tenant_id).await?;
    let invites = if page.can(&Perm::ManageTeam) { service::pending_invites(&mut conn, tenant_id).await? } else { vec![] };
    let tokens = if page.can(&Perm::ManageTokens) { tokens::list(&mut conn, tenant_id).await? } else { vec![] };
    let plan = state.plan(&page.ctx.plan_code).await?;
    Ok(TeamPage {
        page,
        members,
        invites,
        tokens,
        plan,
        roles: Role::MEMBER_ROLES,
        invite_email: String::new(),
        invite_role: "editor".into(),
        invite_errors: FieldErrors::new(),
        new_invite_link: None,
        token_name: String::new(),
        token_errors: FieldErrors::new(),
        new_token: None,
    })
}

pub async fn page(state: web::Data<AppState>, page: PageCtx) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    render_status(&team_page(&state, page).await?, StatusCode::OK)
}

/// Errors a form shows beside its fields; anything else propagates as an error page.
fn form_errors(e: AppError, main_field: &str) -> Result<(FieldErrors, StatusCode), AppError> {
    use actix_web::ResponseError;
    let status = e.status_code();
    match e {
        AppError::Validation(f) => Ok((f, status)),
        AppError::PlanLimit(msg) | AppError::Conflict(msg) => {
            let mut f = FieldErrors::new();
            f.insert(main_field.to_string(), msg);
            Ok((f, status))
        }
        other => Err(other),
    }
}

pub async fn invite(state: web::Data<AppState>, page: PageCtx, form: web::Form<InviteInput>) -> AppResult<HttpResponse> {
    let result = service::create_invite(&state, &page.ctx, &form.email, &form.role).await;
    let mut tp = team_page(&state, page).await?;
    match result {
        Ok(created) => {
            tp.new_invite_link = Some(format!("{}/invite/{}", state.config.base_url, created.token));
            tp.page.flash = Some(Toast::success(format!("Invitation created for {}", created.invite.email)));
            render_status(&tp, StatusCode::OK)
        }
        Err(e) => {
            let (errors, status) = form_errors(e, "email")?;
            tp.invite_email = form.email.clone();
            tp.invite_role = form.role.clone();
            tp.invite_errors = errors;
            render_status(&tp, status)
        }
    }
}

pub async fn revoke_invite(state: web::Data<AppState>, page: PageCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    service::revoke_invite(&state, &page.ctx, *id).await?;
    Ok(redirect_with("/team", Some(Toast::success("Invitation revoked"))))
}

pub async fn change_role(
    state: web::Data<AppState>,
    page: PageCtx,
    id: web::Path<i64>,
    form: web::Form<RoleInput>,
) -> AppResult<HttpResponse> {
    let m = service::change_role(&state, &page.ctx, *id, &form.role).await?;
    Ok(redirect_with("/team", Some(Toast::success(format!("{} is now {}", m.name, m.role)))))
}

pub async fn remove_member(state: web::Data<AppState>, page: PageCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    service::remove_member(&state, &page.ctx, *id).await?;
    Ok(redirect_with("/team", Some(Toast::success("Member removed"))))
}

pub async fn create_token(state: web::Data<AppState>, page: PageCtx, form: web::Form<TokenInput>) -> AppResult<HttpResponse> {
    let result = tokens::create(&state, &page.ctx, &form.name).await;
    let mut tp = team_page(&state, page).await?;
    match result {
        Ok((token, secret)) => {
            tp.new_token = Some(secret);
            tp.page.flash = Some(Toast::success(format!("Token “{}” created — copy it now", token.name)));
            render_status(&tp, StatusCode::OK)
        }
        Err(e) => {
            let (errors, status) = form_errors(e, "name")?;
            tp.token_name = form.name.clone();
            tp.token_errors = errors;
            render_status(&tp, status)
        }
    }
}

pub async fn revoke_token(state: web::Data<AppState>, page: PageCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    tokens::revoke(&state, &page.ctx, *id).await?;
    Ok(redirect_with("/team", Some(Toast::success("Token revoked"))))
}

#[derive(Template)]
#[template(path = "team/accept.html")]
struct AcceptPage {
    page: PublicPage,
    token: String,
    invite: service::InviteView,
    name: String,
    errors: FieldErrors,
}

pub async fn invite_page(state: web::Data<AppState>, req: HttpRequest, token: web::Path<String>) -> AppResult<HttpResponse> {
    let invite = service::view_invite(&state, &token).await?;
    let page =
        AcceptPage { page: PublicPage::from_req(&req), token: token.into_inner(), invite, name: String::new(), errors: FieldErrors::new() };
    render_status(&page, StatusCode::OK)
}

pub async fn accept_invite(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    form: web::Form<AcceptInput>,
) -> AppResult<HttpResponse> {
    match service::accept_invite(&state, &token, &form, &meta(&state, &req)).await {
        Ok(session) => {
            let mut res = redirect_with("/dashboard", Some(Toast::success("Invitation accepted — welcome aboard")));
            res.add_cookie(&session_cookie(&state, session)).map_err(AppError::internal)?;
            Ok(res)
        }
        Err(AppError::Validation(errors)) => {
            let invite = service::view_invite(&state, &token).await?;
            let page = AcceptPage { page: PublicPage::from_req(&req), token: token.into_inner(), invite, name: form.name.clone(), errors };
            render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}
