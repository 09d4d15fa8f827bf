//! Email verification: sign-up mails a link; until it is used the user can work but cannot invite people
//! (nor, once billing takes payments, buy). Without SMTP there is nothing to verify with, so accounts start
//! verified.

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::auth::links::{self, Purpose};
use crate::auth::throttle;
use crate::db::schema::users;
use crate::error::{AppError, AppResult};
use crate::mail::{self, Letter};
use crate::state::AppState;
use crate::tenancy::TenantCtx;

/// Marks the user verified if `email` is still their address (a link to an old address proves nothing).
pub async fn mark_verified(conn: &mut AsyncPgConnection, user_id: i64, email: &str) -> AppResult<bool> {
    let n = diesel::update(users::table.find(user_id))
        .filter(users::email.eq(email))
        .filter(users::email_verified_at.is_null())
        .set(users::email_verified_at.eq(Some(Utc::now())))
        .execute(conn)
        .await?;
    Ok(n > 0)
}

pub async fn is_verified(conn: &mut AsyncPgConnection, user_id: i64) -> AppResult<bool> {
    let at: Option<chrono::DateTime<Utc>> = users::table.find(user_id).select(users::email_verified_at).first(conn).await?;
    Ok(at.is_some())
}

/// Refuses (403) a signed-in user whose address is not verified yet. API tokens are not people: they pass.
pub async fn require_verified(state: &AppState, ctx: &TenantCtx) -> AppResult<()> {
    let Some(user_id) = ctx.user_id() else { return Ok(()) };
    let mut conn = state.db.get().await?;
    if is_verified(&mut conn, user_id).await? {
        return Ok(());
    }
    Err(AppError::Forbidden("Confirm your email address first: open the link we mailed you (Account → resend it if it is lost).".into()))
}

/// Queues the verification mail (inside the caller's transaction).
pub async fn send_link(
    conn: &mut AsyncPgConnection,
    state: &AppState,
    tenant_id: i64,
    user_id: i64,
    email: &str,
    name: &str,
) -> AppResult<()> {
    links::retire(conn, user_id, Purpose::VerifyEmail).await?;
    let secret = links::issue(conn, user_id, Purpose::VerifyEmail, email).await?;
    let letter = Letter::new("Confirm your email address for IGNY8", format!("Hello {name},"))
        .para("Please confirm that this is your address, so you can invite your team.")
        .action("Confirm my address", format!("{}/verify/{secret}", state.config.base_url))
        .note("The link works once, for three days.");
    mail::queue(conn, state, tenant_id, email, &letter).await?;
    Ok(())
}

/// A new verification mail for the signed-in user (limited to a few an hour).
pub async fn resend(state: &AppState, ctx: &TenantCtx) -> AppResult<()> {
    let (user_id, _) = ctx.require_user()?;
    if !mail::enabled(state) {
        return Err(AppError::Unavailable("Email is not set up on this server.".into()));
    }
    throttle::hit(state, "verify:resend", &user_id.to_string(), 3, 3600, "Too many verification mails.").await?;
    let mut conn = state.db.get().await?;
    let (email, name, verified): (String, String, Option<chrono::DateTime<Utc>>) =
        users::table.find(user_id).select((users::email, users::name, users::email_verified_at)).first(&mut conn).await?;
    if verified.is_some() {
        return Ok(());
    }
    let tenant_id = ctx.tenant_id;
    conn.transaction::<_, AppError, _>(async move |conn| send_link(conn, state, tenant_id, user_id, &email, &name).await).await
}

/// Uses a verification link.
pub async fn confirm(state: &AppState, secret: &str) -> AppResult<()> {
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let used = links::consume(conn, secret, Purpose::VerifyEmail).await?;
        mark_verified(conn, used.user_id, &used.email).await?;
        Ok(())
    })
    .await
}
