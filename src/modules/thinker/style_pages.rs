//! Author profiles and strategies pages (list, add, edit, delete) and their JSON API.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::styles::{self, Profile, ProfileInput, Strategy, StrategyInput};
use crate::auth::rbac::Perm;
use crate::error::AppResult;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::json_object::JsonObject;
use crate::web::page::PageCtx;
use crate::web::{back_to, render};

#[derive(Template)]
#[template(path = "thinker/profiles.html")]
struct ProfilesPage {
    page: PageCtx,
    profiles: Vec<Profile>,
}

#[derive(Template)]
#[template(path = "thinker/strategies.html")]
struct StrategiesPage {
    page: PageCtx,
    strategies: Vec<Strategy>,
}

impl ProfilesPage {
    fn can_edit(&self) -> bool {
        self.page.can(&Perm::EditContent)
    }
}
impl StrategiesPage {
    fn can_edit(&self) -> bool {
        self.page.can(&Perm::EditContent)
    }
}

pub async fn profiles_page(state: web::Data<AppState>, page: PageCtx) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let profiles = styles::profiles(&mut conn, page.ctx.tenant_id).await?;
    render(&ProfilesPage { page, profiles })
}

pub async fn strategies_page(state: web::Data<AppState>, page: PageCtx) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let strategies = styles::strategies(&mut conn, page.ctx.tenant_id).await?;
    render(&StrategiesPage { page, strategies })
}

fn outcome(back: &str, r: AppResult<impl Sized>, ok: &str) -> AppResult<HttpResponse> {
    back_to(back, r.map(|_| ok.to_string()))
}

/// `id` 0 creates.
pub async fn save_profile(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    form: web::Form<ProfileInput>,
) -> AppResult<HttpResponse> {
    let id = Some(*id).filter(|i| *i > 0);
    outcome("/thinker/profiles", styles::save_profile(&state, &ctx, id, &form).await, "Author profile saved")
}

pub async fn save_strategy(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<i64>,
    form: web::Form<StrategyInput>,
) -> AppResult<HttpResponse> {
    let id = Some(*id).filter(|i| *i > 0);
    outcome("/thinker/strategies", styles::save_strategy(&state, &ctx, id, &form).await, "Strategy saved")
}

pub async fn delete_profile(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    outcome(
        "/thinker/profiles",
        styles::delete_profile(&state, &ctx, *id).await,
        "Author profile deleted; tasks that used it fall back to the neutral voice",
    )
}

pub async fn delete_strategy(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    outcome("/thinker/strategies", styles::delete_strategy(&state, &ctx, *id).await, "Strategy deleted")
}

pub async fn api_profiles(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "profiles": styles::profiles(&mut conn, ctx.tenant_id).await? })))
}

pub async fn api_create_profile(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<ProfileInput>) -> AppResult<HttpResponse> {
    let id = styles::save_profile(&state, &ctx, None, &body).await?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Created().json(styles::profile(&mut conn, ctx.tenant_id, id).await?))
}

pub async fn api_strategies(state: web::Data<AppState>, ctx: TenantCtx) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "strategies": styles::strategies(&mut conn, ctx.tenant_id).await? })))
}

pub async fn api_create_strategy(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<StrategyInput>) -> AppResult<HttpResponse> {
    let id = styles::save_strategy(&state, &ctx, None, &body).await?;
    let mut conn = state.db.get().await?;
    Ok(HttpResponse::Created().json(styles::strategy(&mut conn, ctx.tenant_id, id).await?))
}
