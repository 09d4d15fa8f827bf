//! Clusters pages: the list with its figures and bulk actions, and one cluster with its keywords.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::rbac::Perm;
use crate::error::{AppError, AppResult};
use crate::listing::Filter;
use crate::listing::{ListQuery, PageParams, Pager};
use crate::modules::planner::clusters::service::{self, CLUSTER_SORTS, ClusterFilter, ClusterRow};
use crate::modules::planner::ideas::generate;
use crate::modules::planner::keywords::filter::KeywordFilter;
use crate::modules::planner::keywords::service::{self as kw, KeywordRow};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::page::PageCtx;
use crate::web::{Toast, back_to, form_ids, form_pairs, form_value, redirect_with, render};

#[derive(Template)]
#[template(path = "planner/clusters.html")]
struct ClustersPage {
    page: PageCtx,
    filter: ClusterFilter,
    rows: Vec<ClusterRow>,
    pager: Pager,
    sorts: [&'static str; 6],
}

impl ClustersPage {
    fn can_edit(&self) -> bool {
        self.page.can(&Perm::EditContent)
    }
}

pub async fn list(state: web::Data<AppState>, page: PageCtx, q: web::Query<ListQuery<ClusterFilter>>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let q = q.into_inner();
    let mut conn = state.db.get().await?;
    let (rows, total) = service::list(&mut conn, page.ctx.tenant_id, &q.filter, &q.page).await?;
    let pager = Pager::new(&q.page, total).linked(format!("/planner/clusters?{}", q.filter.to_query()));
    render(&ClustersPage { page, filter: q.filter, rows, pager, sorts: CLUSTER_SORTS })
}

pub async fn create(state: web::Data<AppState>, ctx: TenantCtx, form: web::Form<service::ClusterInput>) -> AppResult<HttpResponse> {
    match service::create(&state, &ctx, &form.name, &form.description).await {
        Ok(id) => Ok(redirect_with(&format!("/planner/clusters/{id}"), Some(Toast::success("Cluster created")))),
        Err(e) => back_to("/planner/clusters", Err(e)),
    }
}

/// Bulk from the list: `action` = ideas | delete, `ids` repeated, `count` ideas per cluster.
pub async fn bulk(state: web::Data<AppState>, ctx: TenantCtx, body: web::Bytes) -> AppResult<HttpResponse> {
    let pairs = form_pairs(&body)?;
    let ids = form_ids(&pairs);
    let back = "/planner/clusters";
    if ids.is_empty() {
        return Ok(redirect_with(back, Some(Toast::error("Select at least one cluster"))));
    }
    let result = match form_value(&pairs, "action") {
        "ideas" => generate::enqueue(&state, &ctx, &ids, form_value(&pairs, "count").trim().parse().unwrap_or(5))
            .await
            .map(|jobs| format!("Generating ideas for {} cluster{}", jobs.len(), if jobs.len() == 1 { "" } else { "s" })),
        "delete" => service::delete(&state, &ctx, &ids)
            .await
            .map(|n| format!("{n} cluster{} deleted; their keywords are unclustered", if n == 1 { "" } else { "s" })),
        _ => Err(AppError::BadRequest("Choose an action".into())),
    };
    back_to(back, result)
}

#[derive(Template)]
#[template(path = "planner/cluster.html")]
struct ClusterPage {
    page: PageCtx,
    cluster: ClusterRow,
    others: Vec<(i64, String)>,
    keywords: Vec<KeywordRow>,
    pager: Pager,
}

impl ClusterPage {
    fn can_edit(&self) -> bool {
        self.page.can(&Perm::EditContent)
    }
}

pub async fn show(state: web::Data<AppState>, page: PageCtx, id: web::Path<i64>, q: web::Query<PageParams>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let cluster = service::get(&mut conn, page.ctx.tenant_id, *id).await?;
    let filter = KeywordFilter { cluster: id.to_string(), sort: "volume".into(), ..Default::default() };
    let (keywords, total) = kw::list(&state, &conn, page.ctx.tenant_id, &filter, &q).await?;
    let others = service::names(&conn, page.ctx.tenant_id).await?.into_iter().filter(|(cid, _)| *cid != *id).collect();
    let pager = Pager::new(&q, total).linked(format!("/planner/clusters/{}", *id));
    render(&ClusterPage { page, cluster, others, keywords, pager })
}

pub async fn update(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    form: web::Form<service::ClusterInput>,
) -> AppResult<HttpResponse> {
    let back = format!("/planner/clusters/{}", *id);
    back_to(&back, service::update(&state, &ctx, *id, &form).await.map(|()| "Cluster saved".into()))
}

pub async fn merge(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    form: web::Form<service::MergeInput>,
) -> AppResult<HttpResponse> {
    match service::merge(&state, &ctx, *id, &form).await {
        Ok((target, n)) => {
            Ok(redirect_with(&format!("/planner/clusters/{target}"), Some(Toast::success(format!("Merged; {n} keywords moved")))))
        }
        Err(e) => back_to(&format!("/planner/clusters/{}", *id), Err(e)),
    }
}

pub async fn delete(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let n = service::delete(&state, &ctx, &[*id]).await?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    Ok(redirect_with("/planner/clusters", Some(Toast::success("Cluster deleted; its keywords are unclustered"))))
}
