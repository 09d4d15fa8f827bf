//! Automation (seed §4.4, §4.10, §9.7): per-workspace settings, runs of each step (scheduled, "Run now", dry
//! run), the run history and notices, and the scheduler that beats for them (`schedule`, with the cadences in
//! `cadence` and the daily `cleanup`).

pub mod api;
pub mod cadence;
pub mod cleanup;
pub mod history;
pub mod notify;
pub mod pages;
pub mod pick;
pub mod run;
pub mod schedule;
pub mod settings;
pub mod step;

pub use step::{Scheduled, Step};

use actix_web::web;

use crate::auth::rbac::Perm;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenancy::TenantCtx;

pub fn routes(cfg: &mut web::ServiceConfig) {
    pages::routes(cfg);
    api::routes(cfg);
}

/// "Run now" (or a dry run) of one step for the caller's workspace: the tick's own path, for one tenant.
pub async fn run_now(state: &AppState, ctx: &TenantCtx, step: &str, dry_run: bool) -> AppResult<run::Outcome> {
    ctx.require(Perm::RunAutomation)?;
    let step = Step::parse(step).ok_or(AppError::NotFound)?;
    run::run_tenant(state, ctx.tenant_id, step, chrono::Utc::now(), run::Trigger::RunNow, run::TICK_ITEM_CAP, dry_run).await
}
