//! The user's own account: display name, email change (confirmed from the new address), the list of signed-in
//! sessions and "sign out everywhere".

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::audit::{self, Who};
use crate::auth::links::{self, Purpose};
use crate::auth::password;
use crate::db::schema::{sessions, users};
use crate::error::{AppError, AppResult};
use crate::mail::{self, Letter};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::validate::Check;

#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionView {
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The session this request came with.
    pub current: bool,
}

/// (id, created, expires, ip, user agent)
type SessionRow = (String, DateTime<Utc>, DateTime<Utc>, Option<String>, Option<String>);

/// The user's open sessions, newest first.
pub async fn sessions(state: &AppState, ctx: &TenantCtx) -> AppResult<Vec<SessionView>> {
    let (user_id, sid) = ctx.require_user()?;
    let mut conn = state.db.get().await?;
    let rows: Vec<SessionRow> = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(Utc::now()))
        .order(sessions::created_at.desc())
        .select((sessions::id, sessions::created_at, sessions::expires_at, sessions::ip, sessions::user_agent))
        .load(&mut conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, created_at, expires_at, ip, user_agent)| SessionView { created_at, expires_at, ip, user_agent, current: id == sid })
        .collect())
}

/// Ends every session of the user, this one included.
pub async fn sign_out_everywhere(state: &AppState, ctx: &TenantCtx) -> AppResult<usize> {
    let (user_id, _) = ctx.require_user()?;
    let who = Who::from(ctx);
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let n = diesel::update(sessions::table)
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
            .set(sessions::revoked_at.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
        audit::record(conn, &who, "user.signed_out_everywhere", ("user", user_id.to_string()), serde_json::json!({ "sessions": n }))
            .await?;
        Ok(n)
    })
    .await
}

pub async fn rename(state: &AppState, ctx: &TenantCtx, name: &str) -> AppResult<()> {
    let (user_id, _) = ctx.require_user()?;
    let mut check = Check::new();
    let name = check.text("name", name, "Your name", 1, 120);
    check.finish()?;
    let mut conn = state.db.get().await?;
    diesel::update(users::table.find(user_id)).set(users::name.eq(&name)).execute(&mut conn).await?;
    Ok(())
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct EmailChange {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
}

/// Mails a confirmation link to the new address; the address changes only when it is used.
pub async fn request_email_change(state: &AppState, ctx: &TenantCtx, input: &EmailChange) -> AppResult<()> {
    let (user_id, _) = ctx.require_user()?;
    let mut check = Check::new();
    let email = check.email("email", &input.email);
    check.finish()?;
    if !mail::enabled(state) {
        return Err(AppError::Unavailable("Email is not set up on this server, so a new address cannot be confirmed.".into()));
    }
    // No pooled connection is held across the deliberately slow password check: a burst of them would starve the pool.
    let (stored, name, current): (String, String, String) = {
        let mut conn = state.db.get().await?;
        users::table.find(user_id).select((users::password_hash, users::name, users::email)).first(&mut conn).await?
    };
    if !password::verify(&input.password, Some(stored)).await {
        return Err(AppError::field("password", "This is not your current password"));
    }
    if email == current {
        return Err(AppError::field("email", "This is already your address"));
    }
    let tenant_id = ctx.tenant_id;
    let who = Who::from(ctx);
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        links::retire(conn, user_id, Purpose::ChangeEmail).await?;
        let secret = links::issue(conn, user_id, Purpose::ChangeEmail, &email).await?;
        let letter = Letter::new("Confirm your new email address for IGNY8", format!("Hello {name},"))
            .para("You asked to use this address for your IGNY8 account.")
            .action("Use this address", format!("{}/account/email/{secret}", state.config.base_url))
            .note("The link works once, for 24 hours. Until then you sign in with your current address.");
        mail::queue(conn, state, tenant_id, &email, &letter).await?;
        audit::record(conn, &who, "user.email_change_requested", ("user", user_id.to_string()), serde_json::json!({})).await
    })
    .await
}

/// Uses the link from the new address: the account's email becomes it (and counts as verified).
pub async fn confirm_email_change(state: &AppState, secret: &str) -> AppResult<String> {
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let used = links::consume(conn, secret, Purpose::ChangeEmail).await?;
        diesel::update(users::table.find(used.user_id))
            .set((users::email.eq(&used.email), users::email_verified_at.eq(Some(Utc::now()))))
            .execute(conn)
            .await
            .map_err(|e| {
                if crate::db::is_unique_violation(&e) {
                    AppError::Conflict("Another account uses this address now.".into())
                } else {
                    e.into()
                }
            })?;
        Ok(used.email)
    })
    .await
}
