//! Thinker pages: the prompt library and the editor of one prompt (placeholders listed, versions, reset).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::service::{self, PromptVersion, Resolved};
use crate::ai::prompts::Builtin;
use crate::auth::rbac::Perm;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::page::PageCtx;
use crate::web::{Toast, redirect_with, render, render_status};

#[derive(Template)]
#[template(path = "thinker/prompts.html")]
struct LibraryPage {
    page: PageCtx,
    prompts: Vec<(&'static Builtin, Resolved)>,
}

pub async fn library_page(state: web::Data<AppState>, page: PageCtx) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let prompts = service::overview(&state.prompts, &mut conn, page.ctx.tenant_id).await?;
    render(&LibraryPage { page, prompts })
}

#[derive(Template)]
#[template(path = "thinker/prompt.html")]
struct PromptPage {
    page: PageCtx,
    builtin: &'static Builtin,
    current: Resolved,
    system: String,
    template: String,
    errors: FieldErrors,
    versions: Vec<PromptVersion>,
}

impl PromptPage {
    fn can_edit(&self) -> bool {
        self.page.can(&Perm::ManageSettings)
    }
}

async fn prompt_page(
    state: &AppState,
    page: PageCtx,
    key: &str,
    draft: Option<(String, String)>,
    errors: FieldErrors,
) -> AppResult<PromptPage> {
    let builtin = state.prompts.builtin(key).ok_or(AppError::NotFound)?;
    let mut conn = state.db.get().await?;
    let current = service::resolve(&state.prompts, &mut conn, page.ctx.tenant_id, key).await?;
    let versions = service::versions(&state.prompts, &mut conn, page.ctx.tenant_id, key).await?;
    let (system, template) = draft.unwrap_or_else(|| (current.system.clone(), current.template.clone()));
    Ok(PromptPage { page, builtin, current, system, template, errors, versions })
}

pub async fn show(state: web::Data<AppState>, page: PageCtx, key: web::Path<String>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    render(&prompt_page(&state, page, &key, None, FieldErrors::new()).await?)
}

pub async fn save(
    state: web::Data<AppState>,
    page: PageCtx,
    key: web::Path<String>,
    form: web::Form<service::PromptInput>,
) -> AppResult<HttpResponse> {
    match service::save(&state, &page.ctx, &key, &form).await {
        Ok(v) => Ok(redirect_with(
            &format!("/thinker/prompts/{}", key.as_str()),
            Some(Toast::success(format!("Saved as version {v}; it is used from now on"))),
        )),
        Err(AppError::Validation(errors)) => {
            let form = form.into_inner();
            let p = prompt_page(&state, page, &key, Some((form.system, form.template)), errors).await?;
            render_status(&p, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

pub async fn reset(state: web::Data<AppState>, ctx: TenantCtx, key: web::Path<String>) -> AppResult<HttpResponse> {
    service::reset(&state, &ctx, &key).await?;
    Ok(redirect_with(&format!("/thinker/prompts/{}", key.as_str()), Some(Toast::success("Back to the built-in prompt"))))
}
