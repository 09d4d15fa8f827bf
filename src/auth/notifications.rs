//! Which notification mails a user wants (Account → Notifications): automation problems, low credits, failed
//! payments.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::db::schema::users;
use crate::error::AppResult;
use crate::state::AppState;
use crate::tenancy::TenantCtx;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Switches {
    pub automation: bool,
    pub credits: bool,
    /// A payment of a workspace they own failed (owners only get it).
    pub billing: bool,
}

pub async fn get(state: &AppState, ctx: &TenantCtx) -> AppResult<Switches> {
    let (user_id, _) = ctx.require_user()?;
    let mut conn = state.db.get().await?;
    let (automation, credits, billing) = users::table
        .find(user_id)
        .select((users::notify_automation, users::notify_credits, users::notify_billing))
        .first(&mut conn)
        .await?;
    Ok(Switches { automation, credits, billing })
}

pub async fn set(state: &AppState, ctx: &TenantCtx, to: Switches) -> AppResult<()> {
    let (user_id, _) = ctx.require_user()?;
    let mut conn = state.db.get().await?;
    diesel::update(users::table.find(user_id))
        .set((users::notify_automation.eq(to.automation), users::notify_credits.eq(to.credits), users::notify_billing.eq(to.billing)))
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// Claims the one mail of `key` for this user in this workspace: true the first time, false ever after — so a
/// notification is sent once per event (per invoice, per run day, per refill), however often its trigger fires.
pub async fn first_time(conn: &mut diesel_async::AsyncPgConnection, tenant_id: i64, user_id: i64, key: &str) -> AppResult<bool> {
    use crate::db::schema::notifications_sent;
    let inserted = diesel::insert_into(notifications_sent::table)
        .values((notifications_sent::tenant_id.eq(tenant_id), notifications_sent::user_id.eq(user_id), notifications_sent::key.eq(key)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}
