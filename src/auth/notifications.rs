//! Which notification mails a user wants (Account → Notifications): automation problems, low credits.

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
}

pub async fn get(state: &AppState, ctx: &TenantCtx) -> AppResult<Switches> {
    let (user_id, _) = ctx.require_user()?;
    let mut conn = state.db.get().await?;
    let (automation, credits) =
        users::table.find(user_id).select((users::notify_automation, users::notify_credits)).first(&mut conn).await?;
    Ok(Switches { automation, credits })
}

pub async fn set(state: &AppState, ctx: &TenantCtx, to: Switches) -> AppResult<()> {
    let (user_id, _) = ctx.require_user()?;
    let mut conn = state.db.get().await?;
    diesel::update(users::table.find(user_id))
        .set((users::notify_automation.eq(to.automation), users::notify_credits.eq(to.credits)))
        .execute(&mut conn)
        .await?;
    Ok(())
}
