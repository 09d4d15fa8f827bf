//! Import pages: upload, the analysis with its preview and every rejected row, the go-ahead, progress.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::TryStreamExt;

use crate::auth::rbac::Perm;
use crate::error::{AppError, AppResult};
use crate::listing::{PageParams, Pager};
use crate::modules::planner::import::store::ImportStatus as Status;
use crate::modules::planner::import::store::{self, Import, MAX_BYTES, Reject};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::page::PageCtx;
use crate::web::{Toast, back_to, redirect_with, render, wants_fragment};

#[derive(Template)]
#[template(path = "planner/imports.html")]
struct ImportsPage {
    page: PageCtx,
    imports: Vec<Import>,
    max_mb: usize,
}

impl ImportsPage {
    fn can_edit(&self) -> bool {
        self.page.can(&Perm::EditContent)
    }
}

pub async fn list(state: web::Data<AppState>, page: PageCtx) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let imports = store::recent(&mut conn, page.ctx.tenant_id, 20).await?;
    render(&ImportsPage { page, imports, max_mb: MAX_BYTES / (1024 * 1024) })
}

/// The upload form posts multipart/form-data with a `file` field.
pub async fn upload(state: web::Data<AppState>, ctx: TenantCtx, mut form: Multipart) -> AppResult<HttpResponse> {
    ctx.require(Perm::EditContent)?;
    let bad = |e: actix_multipart::MultipartError| AppError::BadRequest(format!("The upload could not be read: {e}"));
    while let Some(field) = form.try_next().await.map_err(bad)? {
        if field.name() != Some("file") {
            continue;
        }
        let filename = field.content_disposition().and_then(|d| d.get_filename()).unwrap_or("").to_string();
        if filename.is_empty() {
            return Ok(redirect_with("/planner/imports", Some(Toast::error("Choose a CSV file to upload"))));
        }
        return match store::receive(&state, &ctx, &filename, field).await {
            Ok(import) => {
                Ok(redirect_with(&format!("/planner/imports/{}", import.id), Some(Toast::success("File received; checking every row…"))))
            }
            Err(e) => back_to("/planner/imports", Err(e)),
        };
    }
    Ok(redirect_with("/planner/imports", Some(Toast::error("Choose a CSV file to upload"))))
}

#[derive(Template)]
#[template(path = "planner/import.html")]
struct ImportPage {
    page: PageCtx,
    import: Import,
    rejects: Vec<Reject>,
    pager: Pager,
}

#[derive(Template)]
#[template(path = "planner/import.html", block = "status")]
struct ImportStatusFragment {
    import: Import,
}

impl ImportPage {
    fn can_edit(&self) -> bool {
        self.page.can(&Perm::EditContent)
    }
}

pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    ctx: TenantCtx,
    id: web::Path<i64>,
    q: web::Query<PageParams>,
) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let import = store::get(&mut conn, ctx.tenant_id, *id).await?;
    // While a step runs, the page polls this fragment; the full page comes back when the step ends.
    if wants_fragment(&req) {
        if import.is_running() {
            return render(&ImportStatusFragment { import });
        }
        return Ok(HttpResponse::Ok().insert_header(("HX-Refresh", "true")).finish());
    }
    let page = crate::web::page::PageCtx::from_ctx(&req, ctx)?;
    let (rejects, total) = store::rejects(&mut conn, page.ctx.tenant_id, *id, &q).await?;
    let pager = Pager::new(&q, total).linked(format!("/planner/imports/{}", *id));
    render(&ImportPage { page, import, rejects, pager })
}

pub async fn confirm(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    form: web::Form<store::ConfirmInput>,
) -> AppResult<HttpResponse> {
    store::confirm(&state, &ctx, *id, &form).await?;
    Ok(redirect_with(&format!("/planner/imports/{}", *id), Some(Toast::success("Import started"))))
}

/// Drops a file waiting for the go-ahead (frees its space in the upload quota).
pub async fn discard(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    store::discard(&state, &ctx, *id).await?;
    Ok(redirect_with("/planner/imports", Some(Toast::success("File discarded"))))
}

/// The column-choice form: one select per field, the value a column index or empty.
pub async fn columns(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    form: web::Form<std::collections::BTreeMap<String, String>>,
) -> AppResult<HttpResponse> {
    let back = format!("/planner/imports/{}", *id);
    back_to(&back, store::choose_columns(&state, &ctx, *id, &form).await.map(|_| "Checking the file again with these columns…".into()))
}
