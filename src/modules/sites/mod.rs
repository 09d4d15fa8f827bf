//! Sites (seed §2.3): the WordPress sites a workspace publishes to. Connecting, the connection self-test and
//! publishing build on these rows.

pub mod selftest;
pub mod service;

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::rbac::Perm;
use crate::error::AppResult;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::json_object::JsonObject;
use crate::web::page::PageCtx;
use crate::web::{Toast, back_to, redirect_with, render};
use service::{PostStatus, SEO_PLUGINS, Site, SiteInput};

pub fn register_jobs(r: &mut crate::jobs::Registry) {
    r.add::<selftest::SiteCheck>();
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/sites", web::get().to(page))
        .route("/sites/{id}", web::get().to(detail))
        .route("/sites/{id}", web::post().to(save))
        .route("/sites/{id}/check", web::post().to(check))
        .route("/sites/{id}/delete", web::post().to(remove))
        .route("/api/sites", web::get().to(api_list))
        .route("/api/sites", web::post().to(api_create))
        .route("/api/sites/{id}", web::get().to(api_get))
        .route("/api/sites/{id}", web::put().to(api_update))
        .route("/api/sites/{id}", web::delete().to(api_delete))
        .route("/api/sites/{id}/check", web::post().to(api_check));
}

#[derive(Template)]
#[template(path = "sites/index.html")]
struct SitesPage {
    page: PageCtx,
    sites: Vec<Site>,
    max_sites: i32,
    statuses: Vec<&'static str>,
    plugins: [&'static str; 4],
}

impl SitesPage {
    fn can_manage(&self) -> bool {
        self.page.can(&Perm::ManageSites)
    }
}

async fn page(state: web::Data<AppState>, page: PageCtx) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let sites = service::list(&state, &mut conn, page.ctx.tenant_id).await?;
    let max_sites = state.plan(&page.ctx.plan_code).await?.max_sites;
    render(&SitesPage { page, sites, max_sites, statuses: PostStatus::words(), plugins: SEO_PLUGINS })
}

#[derive(Template)]
#[template(path = "sites/detail.html")]
struct DetailPage {
    page: PageCtx,
    site: Site,
    statuses: Vec<&'static str>,
    plugins: [&'static str; 4],
}

impl DetailPage {
    fn can_manage(&self) -> bool {
        self.page.can(&Perm::ManageSites)
    }
    fn can_use(&self) -> bool {
        self.page.can(&Perm::EditContent)
    }
}

async fn detail(state: web::Data<AppState>, page: PageCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let site = service::get(&state, &mut conn, page.ctx.tenant_id, *id).await?;
    render(&DetailPage { page, site, statuses: PostStatus::words(), plugins: SEO_PLUGINS })
}

/// `id` 0 adds a site. Every save queues the connection self-test; its report shows on the site's page.
async fn save(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>, form: web::Form<SiteInput>) -> AppResult<HttpResponse> {
    let result = save_and_check(&state, &ctx, *id, &form).await;
    let back = match &result {
        Ok(s) => format!("/sites/{}", s.id),
        Err(_) if *id == 0 => "/sites".to_string(),
        Err(_) => format!("/sites/{}", *id),
    };
    back_to(&back, result.map(|s| format!("{} saved; testing the connection…", s.name)))
}

async fn save_and_check(state: &AppState, ctx: &TenantCtx, id: i64, input: &SiteInput) -> AppResult<Site> {
    let site = if id == 0 { service::create(state, ctx, input).await? } else { service::update(state, ctx, id, input).await? };
    selftest::enqueue_check(state, ctx, site.id).await?;
    Ok(site)
}

async fn check(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let back = format!("/sites/{}", *id);
    let report = selftest::run(&state, &ctx, *id).await?;
    Ok(redirect_with(&back, Some(if report.ok { Toast::success("The connection works") } else { Toast::error(report.summary()) })))
}

async fn api_check(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(selftest::run(&state, &ctx, *id).await?))
}

async fn remove(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    service::delete(&state, &ctx, *id).await?;
    Ok(redirect_with("/sites", Some(Toast::success("Site removed"))))
}

async fn api_list(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "sites": service::list(&state, &mut conn, ctx.tenant_id).await? })))
}

async fn api_get(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(service::get(&state, &mut conn, ctx.tenant_id, *id).await?))
}

async fn api_create(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<SiteInput>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Created().json(save_and_check(&state, &ctx, 0, &body).await?))
}

async fn api_update(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    body: JsonObject<SiteInput>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(save_and_check(&state, &ctx, *id, &body).await?))
}

async fn api_delete(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    service::delete(&state, &ctx, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
