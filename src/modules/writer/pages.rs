//! Writer pages: the tasks list (filters, create by hand, bulk generate/delete) and the editor of one task
//! (meta with length counters, sanitised HTML, a sandboxed preview, status moves, versions).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::generate;
use super::images::{ImageKind, ImageStatus};
use super::service::{self, ArticleInput, NewTask, Task, TaskFilter, TaskListItem, TaskRow, TaskStatus, Version};
use crate::auth::rbac::Perm;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::listing::Filter;
use crate::listing::{ListQuery, Pager};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::page::PageCtx;
use crate::web::{Toast, back_to, form_ids, form_pairs, form_value, redirect_with, render, render_status};

#[derive(Template)]
#[template(path = "writer/tasks.html")]
struct TasksPage {
    page: PageCtx,
    filter: TaskFilter,
    rows: Vec<TaskRow>,
    pager: Pager,
    statuses: Vec<&'static str>,
    form: NewTask,
    errors: FieldErrors,
}

impl TasksPage {
    fn can_edit(&self) -> bool {
        self.page.can(&Perm::EditContent)
    }
    /// The rows still being written ("1,2,3"): the list refreshes their cells until none is.
    fn generating_ids(&self) -> String {
        generating_ids(self.rows.iter().map(|r| &r.task))
    }
}

fn generating_ids<'a>(tasks: impl Iterator<Item = &'a TaskListItem>) -> String {
    tasks.filter(|t| t.status == TaskStatus::Generating).map(|t| t.id.to_string()).collect::<Vec<_>>().join(",")
}

/// The changing cells of the asked rows, sent out of band (see templates/writer/task_cells.html).
#[derive(Template)]
#[template(path = "writer/task_state.html")]
struct TaskState {
    items: Vec<TaskListItem>,
    still_generating: String,
}

#[derive(serde::Deserialize)]
pub struct StateQuery {
    #[serde(default)]
    ids: String,
}

pub async fn state(state: web::Data<AppState>, ctx: TenantCtx, q: web::Query<StateQuery>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let ids: Vec<i64> = q.ids.split(',').filter_map(|s| s.trim().parse().ok()).collect();
    let mut conn = state.db.get().await?;
    let items = service::list_items(&mut conn, ctx.tenant_id, &ids).await?;
    let still_generating = generating_ids(items.iter());
    render(&TaskState { items, still_generating })
}

async fn tasks_page(state: &AppState, page: PageCtx, q: ListQuery<TaskFilter>, form: NewTask, errors: FieldErrors) -> AppResult<TasksPage> {
    let conn = state.db.get().await?;
    let (rows, total) = service::list(state, &conn, page.ctx.tenant_id, &q.filter, &q.page).await?;
    let pager = Pager::new(&q.page, total).linked(format!("/writer/tasks?{}", q.filter.to_query()));
    Ok(TasksPage { page, filter: q.filter, rows, pager, statuses: TaskStatus::words(), form, errors })
}

pub async fn list(state: web::Data<AppState>, page: PageCtx, q: web::Query<ListQuery<TaskFilter>>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    render(&tasks_page(&state, page, q.into_inner(), NewTask::default(), FieldErrors::new()).await?)
}

pub async fn create(state: web::Data<AppState>, page: PageCtx, form: web::Form<NewTask>) -> AppResult<HttpResponse> {
    match service::create(&state, &page.ctx, &form).await {
        Ok(t) => Ok(redirect_with(&format!("/writer/tasks/{}", t.id), Some(Toast::success("Task created")))),
        Err(AppError::Validation(errors)) => {
            let q = ListQuery::default();
            render_status(&tasks_page(&state, page, q, form.into_inner(), errors).await?, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

/// Bulk from the list: `action` = generate | delete, `ids` repeated.
pub async fn bulk(state: web::Data<AppState>, ctx: TenantCtx, body: web::Bytes) -> AppResult<HttpResponse> {
    let pairs = form_pairs(&body)?;
    let ids = form_ids(&pairs);
    let back = "/writer/tasks";
    if ids.is_empty() {
        return Ok(redirect_with(back, Some(Toast::error("Select at least one task"))));
    }
    let result = match form_value(&pairs, "action") {
        "generate" => generate::enqueue(&state, &ctx, &ids)
            .await
            .map(|j| format!("Generating {} article{} ({} credits each)", j.len(), if j.len() == 1 { "" } else { "s" }, generate::CREDITS)),
        "images" => super::image_jobs::enqueue_prompts(&state, &ctx, &ids)
            .await
            .map(|j| format!("Planning images for {} article{} (1 credit per image)", j.len(), if j.len() == 1 { "" } else { "s" })),
        "reparse" => super::reparse::enqueue(&state, &ctx, &ids)
            .await
            .map(|j| format!("Reparsing {} article{} (1 credit each)", j.len(), if j.len() == 1 { "" } else { "s" })),
        "delete" => service::delete(&state, &ctx, &ids).await.map(|n| format!("{n} tasks deleted")),
        _ => Err(AppError::BadRequest("Choose an action".into())),
    };
    back_to(back, result)
}

#[derive(Template)]
#[template(path = "writer/task.html")]
struct EditorPage {
    page: PageCtx,
    task: Task,
    form: ArticleInput,
    errors: FieldErrors,
    versions: Vec<Version>,
    statuses: Vec<&'static str>,
    images: Vec<(super::images::Image, String)>,
    profiles: Vec<crate::modules::thinker::styles::Profile>,
    strategies: Vec<crate::modules::thinker::styles::Strategy>,
    /// What this task's provider calls cost, in US dollars.
    provider_cost: String,
}

impl EditorPage {
    fn uses_profile(&self, id: &i64) -> bool {
        self.task.author_profile_id == Some(*id)
    }
    fn uses_strategy(&self, id: &i64) -> bool {
        self.task.strategy_id == Some(*id)
    }
    fn can_edit(&self) -> bool {
        self.page.can(&Perm::EditContent)
    }
    fn editable(&self) -> bool {
        self.task.status.can_edit()
    }
}

async fn editor(state: &AppState, page: PageCtx, id: i64, form: Option<ArticleInput>, errors: FieldErrors) -> AppResult<EditorPage> {
    let mut conn = state.db.get().await?;
    let task = service::get(&mut conn, page.ctx.tenant_id, id).await?;
    let versions = service::versions(&mut conn, page.ctx.tenant_id, id).await?;
    let images = super::images::for_task(&mut conn, page.ctx.tenant_id, id)
        .await?
        .into_iter()
        .map(|i| {
            let u = super::images::url(&state.config.secret_key, page.ctx.tenant_id, i.id);
            (i, u)
        })
        .collect();
    let form = form.unwrap_or_else(|| ArticleInput::from(&task));
    let profiles = crate::modules::thinker::styles::profiles(&mut conn, page.ctx.tenant_id).await?;
    let strategies = crate::modules::thinker::styles::strategies(&mut conn, page.ctx.tenant_id).await?;
    let provider_cost = format!("${:.4}", service::provider_cost(&mut conn, page.ctx.tenant_id, id).await? as f64 / 1e6);
    Ok(EditorPage {
        page,
        task,
        form,
        errors,
        versions,
        statuses: TaskStatus::WRITTEN.iter().map(|s| s.as_str()).collect(),
        images,
        profiles,
        strategies,
        provider_cost,
    })
}

pub async fn show(state: web::Data<AppState>, page: PageCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    render(&editor(&state, page, *id, None, FieldErrors::new()).await?)
}

pub async fn save(state: web::Data<AppState>, page: PageCtx, id: web::Path<i64>, form: web::Form<ArticleInput>) -> AppResult<HttpResponse> {
    match service::save(&state, &page.ctx, *id, &form).await {
        Ok(_) => Ok(redirect_with(&format!("/writer/tasks/{}", *id), Some(Toast::success("Article saved")))),
        Err(AppError::Validation(errors)) => {
            render_status(&editor(&state, page, *id, Some(form.into_inner()), errors).await?, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => back_to(&format!("/writer/tasks/{}", *id), Err(e)),
    }
}

pub async fn generate_one(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let back = format!("/writer/tasks/{}", *id);
    back_to(&back, generate::enqueue(&state, &ctx, &[*id]).await.map(|_| format!("Generating the article ({} credits)", generate::CREDITS)))
}

pub async fn reparse_one(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let back = format!("/writer/tasks/{}", *id);
    back_to(
        &back,
        super::reparse::enqueue(&state, &ctx, &[*id])
            .await
            .map(|_| "Reparsing the article (1 credit); the current one is kept as a version".into()),
    )
}

pub async fn images_one(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let back = format!("/writer/tasks/{}", *id);
    back_to(
        &back,
        super::image_jobs::enqueue_prompts(&state, &ctx, &[*id]).await.map(|_| "Planning the images (1 credit per image)".into()),
    )
}

#[derive(Template)]
#[template(path = "writer/images.html")]
struct ImagesPage {
    page: PageCtx,
    filter: super::images::ImageFilter,
    rows: Vec<(super::images::Image, String)>,
    pager: Pager,
    statuses: Vec<&'static str>,
    kinds: Vec<&'static str>,
}

impl ImagesPage {
    fn can_edit(&self) -> bool {
        self.page.can(&Perm::EditContent)
    }
}

pub async fn images_page(
    state: web::Data<AppState>,
    page: PageCtx,
    q: web::Query<ListQuery<super::images::ImageFilter>>,
) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let q = q.into_inner();
    let mut conn = state.db.get().await?;
    let (rows, total) = super::images::list(&mut conn, page.ctx.tenant_id, &q.filter, &q.page).await?;
    let rows = rows
        .into_iter()
        .map(|i| {
            let u = super::images::url(&state.config.secret_key, page.ctx.tenant_id, i.id);
            (i, u)
        })
        .collect();
    let pager = Pager::new(&q.page, total).linked(format!("/writer/images?{}", q.filter.to_query()));
    render(&ImagesPage { page, filter: q.filter, rows, pager, statuses: ImageStatus::words(), kinds: ImageKind::words() })
}

pub async fn regenerate_image(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    back_to("/writer/images", super::image_jobs::regenerate(&state, &ctx, *id).await.map(|_| "Regenerating the image (1 credit)".into()))
}

/// `/media/images/{id}/{token}`: public by its token (previews and WordPress fetch it without a session);
/// served with `sandbox` CSP and nosniff, so an SVG can never run script.
pub async fn media(state: web::Data<AppState>, path: web::Path<(i64, String)>) -> AppResult<HttpResponse> {
    let (id, token) = path.into_inner();
    let mut conn = state.db.get().await?;
    let (content_type, data) = super::images::bytes(&mut conn, &state.config.secret_key, id, &token).await?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "private, max-age=60"))
        .body(data))
}

pub async fn set_style(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    form: web::Form<service::StyleInput>,
) -> AppResult<HttpResponse> {
    let back = format!("/writer/tasks/{}", *id);
    back_to(&back, service::set_style(&state, &ctx, *id, &form).await.map(|_| "Voice and strategy saved for this task".into()))
}

#[derive(Template)]
#[template(path = "writer/compare.html")]
struct ComparePage {
    page: PageCtx,
    task: Task,
    version: Version,
    /// (field, version's value, current value, differs)
    fields: Vec<(&'static str, String, String, bool)>,
    old_headings: Vec<String>,
    new_headings: Vec<String>,
}

/// An earlier version beside the current article: fields, headings and both renderings (sandboxed).
pub async fn compare(state: web::Data<AppState>, page: PageCtx, path: web::Path<(i64, i32)>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let (id, v) = path.into_inner();
    let mut conn = state.db.get().await?;
    let task = service::get(&mut conn, page.ctx.tenant_id, id).await?;
    let version = service::version(&mut conn, page.ctx.tenant_id, id, v).await?;
    let row = |name: &'static str, old: String, new: String| {
        let differs = old != new;
        (name, old, new, differs)
    };
    let fields = vec![
        row("Title", version.title.clone(), task.title.clone()),
        row("Meta title", version.meta_title.clone(), task.meta_title.clone()),
        row("Meta description", version.meta_description.clone(), task.meta_description.clone()),
        row("Slug", version.slug.clone(), task.slug.clone()),
        row("Words", version.word_count.to_string(), task.word_count.to_string()),
    ];
    let (old_headings, new_headings) = (service::headings(&version.content_html), service::headings(&task.content_html));
    render(&ComparePage { page, task, version, fields, old_headings, new_headings })
}

pub async fn restore(state: web::Data<AppState>, ctx: TenantCtx, path: web::Path<(i64, i32)>) -> AppResult<HttpResponse> {
    let (id, version) = path.into_inner();
    service::restore(&state, &ctx, id, version).await?;
    Ok(redirect_with(&format!("/writer/tasks/{id}"), Some(Toast::success(format!("Version {version} restored")))))
}

pub async fn delete(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    if service::delete(&state, &ctx, &[*id]).await? == 0 {
        return Err(AppError::NotFound);
    }
    Ok(redirect_with("/writer/tasks", Some(Toast::success("Task deleted"))))
}
