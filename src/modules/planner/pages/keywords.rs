//! Keywords pages: the list (filters, sort, pagination and page size in the URL), add, edit, delete,
//! bulk actions and export.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::rbac::Perm;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::listing::Filter;
use crate::listing::{ListQuery, Pager};
use crate::modules::planner::clustering::semantic;
use crate::modules::planner::clusters::service as clusters;
use crate::modules::planner::import::rows::INTENTS;
use crate::modules::planner::keywords::bulk::{self, BulkRequest};
use crate::modules::planner::keywords::export::{self, ExportSpec};
use crate::modules::planner::keywords::filter::{KeywordFilter, KeywordStatus, PAGE_SIZES};
use crate::modules::planner::keywords::service::{self, Keyword, KeywordInput, KeywordRow};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::page::PageCtx;
use crate::web::{Toast, back_to, form_pairs, redirect_with, render_status};

#[derive(Template)]
#[template(path = "planner/keywords.html")]
struct KeywordsPage {
    page: PageCtx,
    filter: KeywordFilter,
    query: String,
    rows: Vec<KeywordRow>,
    pager: Pager,
    page_sizes: [i64; 4],
    statuses: Vec<&'static str>,
    intents: [&'static str; 4],
    clusters: Vec<(i64, String)>,
    form: KeywordInput,
    errors: FieldErrors,
    /// Why "Cluster by meaning" cannot run here (its model is not installed), if it cannot.
    semantic_blocked: Option<String>,
}

impl KeywordsPage {
    fn semantic_off(&self) -> askama::filters::Safe<String> {
        crate::web::page::disabled_because(self.semantic_blocked.as_deref())
    }
    fn can_edit(&self) -> bool {
        self.page.can(&Perm::EditContent)
    }
    fn cluster_selected(&self, id: &i64) -> bool {
        self.filter.cluster == id.to_string()
    }
    /// Search Console's columns: shown when a row on the page has its figures, or the list is sorted by one.
    fn show_search_console(&self) -> bool {
        self.rows.iter().any(|r| r.keyword.has_search_console())
            || ["clicks", "impressions", "ctr", "position"].contains(&self.filter.sort().key)
    }
    /// Keyword Planner's competition and bids, likewise.
    fn show_keyword_planner(&self) -> bool {
        self.rows.iter().any(|r| r.keyword.has_keyword_planner()) || ["competition", "bid"].contains(&self.filter.sort().key)
    }
    /// Sortable columns: (sort key, heading), in the order of the row's cells.
    fn columns(&self) -> Vec<(&'static str, &'static str)> {
        let mut columns = vec![("keyword", "Keyword"), ("volume", "Volume"), ("difficulty", "KD"), ("cpc", "CPC")];
        if self.show_search_console() {
            columns.extend([("clicks", "Clicks"), ("impressions", "Impressions"), ("ctr", "CTR"), ("position", "Position")]);
        }
        if self.show_keyword_planner() {
            columns.extend([("competition", "Competition"), ("bid", "Top-of-page bid")]);
        }
        columns.extend([
            ("intent", "Intent"),
            ("country", "Country"),
            ("sector", "Sector"),
            ("cluster", "Cluster"),
            ("status", "Status"),
            ("created", "Created"),
        ]);
        columns
    }
    fn is_number(&self, col: &str) -> bool {
        ["volume", "cpc", "difficulty", "clicks", "impressions", "ctr", "position", "bid"].contains(&col)
    }
    /// The filter as hidden fields of the bulk form, so "all matching" means what the user sees.
    fn filter_pairs(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_str(&self.query).unwrap_or_default()
    }
}

async fn list_page(
    state: &AppState,
    page: PageCtx,
    q: ListQuery<KeywordFilter>,
    form: KeywordInput,
    errors: FieldErrors,
) -> AppResult<KeywordsPage> {
    let conn = state.db.get().await?;
    // Both go out at once on the one connection (pipelined).
    let ((rows, total), clusters) =
        tokio::try_join!(service::list(state, &conn, page.ctx.tenant_id, &q.filter, &q.page), clusters::names(&conn, page.ctx.tenant_id))?;
    let query = q.filter.to_query();
    let mut href = format!("/planner/keywords?{query}");
    if q.page.per_page.is_some() {
        href.push_str(&format!("&per_page={}", q.page.per_page()));
    }
    let pager = Pager::new(&q.page, total).linked(href);
    Ok(KeywordsPage {
        page,
        filter: q.filter,
        query,
        rows,
        pager,
        page_sizes: PAGE_SIZES,
        statuses: KeywordStatus::words(),
        intents: INTENTS,
        clusters,
        form,
        errors,
        semantic_blocked: semantic::job::unavailable(state),
    })
}

pub async fn list(state: web::Data<AppState>, page: PageCtx, q: web::Query<ListQuery<KeywordFilter>>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    render_status(&list_page(&state, page, q.into_inner(), KeywordInput::default(), FieldErrors::new()).await?, StatusCode::OK)
}

pub async fn create(state: web::Data<AppState>, page: PageCtx, form: web::Form<KeywordInput>) -> AppResult<HttpResponse> {
    match service::create(&state, &page.ctx, &form).await {
        Ok(k) => Ok(redirect_with("/planner/keywords?sort=created", Some(Toast::success(format!("Added “{}”", k.keyword))))),
        Err(AppError::Validation(errors)) => {
            let q = ListQuery::default();
            let p = list_page(&state, page, q, form.into_inner(), errors).await?;
            render_status(&p, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "planner/keyword_edit.html")]
struct EditPage {
    page: PageCtx,
    keyword: Keyword,
    form: KeywordInput,
    errors: FieldErrors,
    statuses: Vec<&'static str>,
    intents: [&'static str; 4],
    clusters: Vec<(i64, String)>,
}

impl EditPage {
    fn can_edit(&self) -> bool {
        self.page.can(&Perm::EditContent)
    }
}

async fn edit_page(state: &AppState, page: PageCtx, id: i64, form: Option<KeywordInput>, errors: FieldErrors) -> AppResult<EditPage> {
    let mut conn = state.db.get().await?;
    let keyword = service::get(&mut conn, page.ctx.tenant_id, id).await?;
    let clusters = clusters::names(&conn, page.ctx.tenant_id).await?;
    let form = form.unwrap_or_else(|| KeywordInput::from(&keyword));
    Ok(EditPage { page, keyword, form, errors, statuses: KeywordStatus::words(), intents: INTENTS, clusters })
}

pub async fn edit(state: web::Data<AppState>, page: PageCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    render_status(&edit_page(&state, page, *id, None, FieldErrors::new()).await?, StatusCode::OK)
}

pub async fn update(
    state: web::Data<AppState>,
    page: PageCtx,
    id: web::Path<i64>,
    form: web::Form<KeywordInput>,
) -> AppResult<HttpResponse> {
    match service::update(&state, &page.ctx, *id, &form).await {
        Ok(k) => Ok(redirect_with(&format!("/planner/keywords/{}", k.id), Some(Toast::success("Keyword saved")))),
        Err(AppError::Validation(errors)) => {
            let p = edit_page(&state, page, *id, Some(form.into_inner()), errors).await?;
            render_status(&p, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

pub async fn delete(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    service::delete(&state, &ctx, *id).await?;
    Ok(redirect_with("/planner/keywords", Some(Toast::success("Keyword deleted"))))
}

/// The bulk form posts here; the outcome comes back as a toast on the list it was sent from.
pub async fn bulk_action(state: web::Data<AppState>, ctx: TenantCtx, body: web::Bytes) -> AppResult<HttpResponse> {
    let req = BulkRequest::from_form(form_pairs(&body)?);
    let back = format!("/planner/keywords?{}", req.filter.to_query());
    if req.action == "export" {
        ctx.require(Perm::ViewWorkspace)?;
        let ids = if req.all { None } else { Some(req.selection().map(|_| req.ids.clone())?) };
        return Ok(export::response(state.db.clone(), ExportSpec { tenant_id: ctx.tenant_id, filter: req.filter, ids }, "keywords.csv"));
    }
    back_to(&back, bulk::run(&state, &ctx, &req).await.map(|outcome| outcome.message()))
}

pub async fn export_csv(state: web::Data<AppState>, ctx: TenantCtx, q: web::Query<KeywordFilter>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    Ok(export::response(state.db.clone(), ExportSpec { tenant_id: ctx.tenant_id, filter: q.into_inner(), ids: None }, "keywords.csv"))
}
