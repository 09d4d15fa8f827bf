//! Automation (seed §4.4, §4.10, §9.7): per-workspace settings, runs of each step (scheduled, "Run now", dry
//! run), the run history and notices. The scheduler itself is `crate::scheduler`.

pub mod api;
pub mod history;
pub mod pages;
pub mod pick;
pub mod run;
pub mod settings;

use actix_web::web;

use crate::app::AppState;
use crate::auth::rbac::Perm;
use crate::error::{AppError, AppResult};
use crate::tenancy::TenantCtx;

pub fn routes(cfg: &mut web::ServiceConfig) {
    pages::routes(cfg);
    api::routes(cfg);
}

/// "Run now" (or a dry run) of one step for the caller's workspace: the tick's own path, for one tenant.
pub async fn run_now(state: &AppState, ctx: &TenantCtx, step: &str, dry_run: bool) -> AppResult<run::Outcome> {
    ctx.require(Perm::RunAutomation)?;
    if !settings::STEPS.contains(&step) {
        return Err(AppError::NotFound);
    }
    run::run_tenant(state, ctx.tenant_id, step, chrono::Utc::now(), run::Trigger::RunNow, run::TICK_ITEM_CAP, dry_run).await
}
