//! Deleting a workspace for good (owners only): the typed name as confirmation, an export within the last 24
//! hours, and no paid Stripe subscription still running. Then every row of the workspace goes in one
//! transaction — the tenant row, whose `ON DELETE CASCADE` foreign keys reach every tenant table (directly or
//! through a parent), and a sweep of every table with `tenant_id` for anything a future table might leave — and
//! afterwards its Redis keys. Members stay users; their sessions fall back to another workspace (or the page
//! that offers to create one). Queued jobs go with the rows; a job running at that moment finds its row gone
//! and ends without writing (its completion locks the tenant first and finds none).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::TenantCtx;
use super::tables::{self, quote_ident};
use super::{TenantStatus, export};
use crate::auth::rbac::Perm;
use crate::billing::subscription::{self, Standing};
use crate::db::schema::{list_revisions, tenants};
use crate::error::{AppError, AppResult};
use crate::kv;
use crate::state::AppState;

/// How recent an export must be for deletion.
pub const EXPORT_WINDOW_HOURS: i64 = 24;
pub const EXPORT_LINK: &str = "/tenants/export";

/// The typed confirmation (the page form and `DELETE /api/workspace`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct DeleteInput {
    #[serde(default)]
    pub confirm: String,
}

/// A paid subscription that Stripe will keep charging: it must be cancelled in the Customer Portal first.
pub fn subscription_running(s: &Standing) -> bool {
    s.stripe_subscription_id.is_some() && !s.cancel_at_period_end && s.status != TenantStatus::Cancelled
}

/// Why the workspace cannot be deleted now, in words for the owner; None when it can.
pub fn blocked(standing: &Standing, last_export: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<String> {
    if subscription_running(standing) {
        return Some(
            "This workspace has a paid subscription that is still running. Cancel it in the Customer Portal \
             (Billing → Manage subscription) first; deletion is possible once the cancellation is recorded."
                .into(),
        );
    }
    if last_export.is_none_or(|at| at <= now - Duration::hours(EXPORT_WINDOW_HOURS)) {
        return Some(format!(
            "Download an export first ({EXPORT_LINK}): a workspace can be deleted only within {EXPORT_WINDOW_HOURS} hours of an export."
        ));
    }
    None
}

/// What the page shows before deleting: the reason it is refused now, if any.
pub async fn check(state: &AppState, ctx: &TenantCtx) -> AppResult<Option<String>> {
    let mut conn = state.db.get().await?;
    let standing = subscription::read(&mut conn, ctx.tenant_id).await?;
    let last = export::last_export(&mut conn, ctx.tenant_id).await?;
    Ok(blocked(&standing, last, Utc::now()))
}

/// Deletes the caller's workspace; returns the workspace the user lands in next (None: they have none left).
pub async fn delete(state: &AppState, ctx: &TenantCtx, input: &DeleteInput) -> AppResult<Option<i64>> {
    ctx.require(Perm::ManageOwners)?;
    let (user_id, _) = ctx.require_user()?;
    let (tenant_id, name) = (ctx.tenant_id, ctx.tenant_name.clone());
    if input.confirm.trim() != name {
        return Err(AppError::field("confirm", format!("Type the workspace's name exactly ({name}) to confirm")));
    }
    let mut conn = state.db.get().await?;
    let (lists, next) = conn
        .transaction::<_, AppError, _>(async move |conn| {
            // The tenant row first (the lock order of every writer); the checks are repeated under it.
            let standing = subscription::lock(conn, tenant_id).await?;
            let last = export::last_export(conn, tenant_id).await?;
            if let Some(why) = blocked(&standing, last, Utc::now()) {
                return Err(AppError::Conflict(why));
            }
            let lists: Vec<String> =
                list_revisions::table.filter(list_revisions::tenant_id.eq(tenant_id)).select(list_revisions::list).load(conn).await?;
            let tables = tables::tenant_tables(conn).await?;
            diesel::delete(tenants::table.find(tenant_id)).execute(conn).await?;
            // Nothing is left after the cascade today; a table added without the foreign key would be caught here.
            let mut swept = 0;
            for t in &tables {
                swept +=
                    diesel::sql_query(format!("DELETE FROM {} WHERE tenant_id = {tenant_id}", quote_ident(&t.name))).execute(conn).await?;
            }
            if swept > 0 {
                tracing::warn!(tenant_id, swept, "rows without a cascading foreign key were deleted by the sweep");
            }
            Ok((lists, crate::auth::links::home_tenant(conn, user_id).await?))
        })
        .await?;
    let keys = forget_in_redis(state, tenant_id, &lists).await;
    tracing::info!(tenant_id, workspace = %name, by = %ctx.actor_label(), redis_keys = keys, "workspace deleted");
    Ok(next)
}

/// The workspace's Redis keys: its cached list counts and its automation locks. (The AI rate-limit counters carry
/// the workspace id too, but live one window — at most a minute — so they are left to expire.)
async fn forget_in_redis(state: &AppState, tenant_id: i64, lists: &[String]) -> usize {
    let ns = &state.config.redis_namespace;
    let mut patterns = vec![kv::pattern(ns, &tenant_id.to_string(), "*")];
    patterns.extend(lists.iter().map(|l| crate::db::counts::key_pattern(ns, l, tenant_id)));
    let mut n = 0;
    for p in patterns {
        match kv::delete_matching(&state.redis, &p).await {
            Ok(k) => n += k,
            Err(e) => {
                tracing::warn!(error = %e, pattern = %p, "could not delete a deleted workspace's Redis keys; they expire on their own")
            }
        }
    }
    n
}
