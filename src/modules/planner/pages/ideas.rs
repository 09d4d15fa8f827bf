//! Ideas pages: the filtered list with bulk "send to writer" and delete, and the edit form.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::rbac::Perm;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::listing::Filter;
use crate::listing::{ListQuery, Pager};
use crate::modules::planner::clusters::service as clusters;
use crate::modules::planner::ideas::service::{self, CONTENT_TYPES, Idea, IdeaFilter, IdeaInput, IdeaRow, IdeaStatus, STRUCTURES};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::page::PageCtx;
use crate::web::{Toast, back_to, form_ids, form_pairs, form_value, redirect_with, render, render_status};

#[derive(Template)]
#[template(path = "planner/ideas.html")]
struct IdeasPage {
    page: PageCtx,
    filter: IdeaFilter,
    rows: Vec<IdeaRow>,
    pager: Pager,
    clusters: Vec<(i64, String)>,
    content_types: [&'static str; 6],
    structures: [&'static str; 9],
    statuses: Vec<&'static str>,
}

impl IdeasPage {
    fn can_edit(&self) -> bool {
        self.page.can(&Perm::EditContent)
    }
    fn cluster_selected(&self, id: &i64) -> bool {
        self.filter.cluster == id.to_string()
    }
}

pub async fn list(state: web::Data<AppState>, page: PageCtx, q: web::Query<ListQuery<IdeaFilter>>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let q = q.into_inner();
    let mut conn = state.db.get().await?;
    let (rows, total) = service::list(&mut conn, page.ctx.tenant_id, &q.filter, &q.page).await?;
    let clusters = clusters::names(&conn, page.ctx.tenant_id).await?;
    let pager = Pager::new(&q.page, total).linked(format!("/planner/ideas?{}", q.filter.to_query()));
    render(&IdeasPage {
        page,
        filter: q.filter,
        rows,
        pager,
        clusters,
        content_types: CONTENT_TYPES,
        structures: STRUCTURES,
        statuses: IdeaStatus::words(),
    })
}

/// Bulk from the list: `action` = send | delete, `ids` repeated.
pub async fn bulk(state: web::Data<AppState>, ctx: TenantCtx, body: web::Bytes) -> AppResult<HttpResponse> {
    let pairs = form_pairs(&body)?;
    let ids = form_ids(&pairs);
    let back = "/planner/ideas";
    if ids.is_empty() {
        return Ok(redirect_with(back, Some(Toast::error("Select at least one idea"))));
    }
    let result = match form_value(&pairs, "action") {
        "send" => service::send_to_writer(&state, &ctx, &ids).await.map(|sent| {
            let mut m = format!("{} writer task{} created", sent.task_ids.len(), if sent.task_ids.len() == 1 { "" } else { "s" });
            if sent.already_sent > 0 {
                m.push_str(&format!("; {} idea{} had been sent before", sent.already_sent, if sent.already_sent == 1 { "" } else { "s" }));
            }
            m
        }),
        "delete" => service::delete(&state, &ctx, &ids).await.map(|n| format!("{n} ideas deleted")),
        _ => Err(AppError::BadRequest("Choose an action".into())),
    };
    back_to(back, result)
}

#[derive(Template)]
#[template(path = "planner/idea_edit.html")]
struct EditPage {
    page: PageCtx,
    idea: Idea,
    form: IdeaInput,
    errors: FieldErrors,
    content_types: [&'static str; 6],
    structures: [&'static str; 9],
}

impl EditPage {
    fn can_edit(&self) -> bool {
        self.page.can(&Perm::EditContent)
    }
}

pub async fn edit(state: web::Data<AppState>, page: PageCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let idea = service::get(&mut conn, page.ctx.tenant_id, *id).await?;
    let form = IdeaInput::from(&idea);
    render(&EditPage { page, idea, form, errors: FieldErrors::new(), content_types: CONTENT_TYPES, structures: STRUCTURES })
}

pub async fn update(state: web::Data<AppState>, page: PageCtx, id: web::Path<i64>, form: web::Form<IdeaInput>) -> AppResult<HttpResponse> {
    match service::update(&state, &page.ctx, *id, &form).await {
        Ok(_) => Ok(redirect_with(&format!("/planner/ideas/{}", *id), Some(Toast::success("Idea saved")))),
        Err(AppError::Validation(errors)) => {
            let mut conn = state.db.get().await?;
            let idea = service::get(&mut conn, page.ctx.tenant_id, *id).await?;
            let p = EditPage { page, idea, form: form.into_inner(), errors, content_types: CONTENT_TYPES, structures: STRUCTURES };
            render_status(&p, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

pub async fn delete(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    if service::delete(&state, &ctx, &[*id]).await? == 0 {
        return Err(AppError::NotFound);
    }
    Ok(redirect_with("/planner/ideas", Some(Toast::success("Idea deleted"))))
}
