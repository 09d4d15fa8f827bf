//! Accounts and sessions: sign up, sign in, sign out, change password, switch workspace.
//! Pages, the JSON API and the CLI all come through here.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::audit::{self, Who};
use crate::auth::jwt::Claims;
use crate::auth::links;
use crate::auth::resolve::{SESSION_COOKIE, SessionUser};
use crate::auth::{password, throttle, verify};
use crate::billing::plans;
use crate::crypto::secrets::random_token;
use crate::db::is_unique_violation;
use crate::db::schema::{memberships, sessions, users};
use crate::error::{AppError, AppResult};
use crate::mail::{self, Letter};
use crate::state::AppState;
use crate::tenancy::{TenantCtx, service::create_workspace};
use crate::validate::Check;

#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct SignupInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub workspace: String,
    #[serde(default)]
    pub password: String,
}

/// Inserts a user (verified or not); a taken email becomes a message on the `email` field.
pub async fn insert_user(conn: &mut AsyncPgConnection, email: &str, name: &str, hash: &str, verified: bool) -> AppResult<i64> {
    let verified_at = verified.then(chrono::Utc::now);
    diesel::insert_into(users::table)
        .values((users::email.eq(email), users::name.eq(name), users::password_hash.eq(hash), users::email_verified_at.eq(verified_at)))
        .returning(users::id)
        .get_result(conn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                AppError::field("email", "An account with this email already exists. Sign in instead.")
            } else {
                e.into()
            }
        })
}

/// Creates the account and its workspace, or — for an email that has an account already — mails its owner
/// instead. The caller's answer is the same in both cases, so sign-up does not tell which emails exist.
/// Limited per IP (`IGNY8_SIGNUP_MAX_PER_IP` an hour).
pub async fn signup(state: &AppState, input: &SignupInput, meta: &ClientMeta) -> AppResult<()> {
    let mut check = Check::new();
    let name = check.text("name", &input.name, "Your name", 1, 120);
    let email = check.email("email", &input.email);
    let workspace = check.text("workspace", &input.workspace, "Workspace name", 1, 120);
    if let Err(msg) = password::check_new(&input.password) {
        check.fail("password", msg);
    }
    check.finish()?;
    let ip_key = meta.ip.as_deref().unwrap_or("unknown");
    throttle::hit(state, "signup:ip", ip_key, state.config.signup_max_per_ip, 3600, "Too many sign-ups from your network.").await?;
    // Hashed whether or not the account exists, so the answer takes as long either way.
    let hash = password::hash(&input.password).await?;
    let mut conn = state.db.get().await?;
    let ip = meta.ip.clone();
    let mail_on = mail::enabled(state);
    let held = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let existing: Option<(i64, String)> =
                users::table.filter(users::email.eq(&email)).select((users::id, users::name)).first(conn).await.optional()?;
            if let Some((user_id, known_name)) = existing {
                let letter = Letter::new("You already have an IGNY8 account", format!("Hello {known_name},"))
                    .para("Someone (hopefully you) tried to sign up to IGNY8 with this address, which already has an account.")
                    .action("Sign in", format!("{}/login", state.config.base_url))
                    .note("Forgot your password? Choose \"Forgot your password?\" on the sign-in page.");
                let home = links::home_tenant(conn, user_id).await?;
                return mail::queue_for_account(conn, state, home, &email, letter).await;
            }
            let user_id = insert_user(conn, &email, &name, &hash, !mail_on).await?;
            let tenant_id = create_workspace(conn, &workspace, plans::SIGNUP_PLAN, user_id, &email, ip).await?;
            if mail_on {
                verify::send_link(conn, state, tenant_id, user_id, &email, &name).await?;
            }
            Ok(mail::Held::default())
        })
        .await?;
    held.send(state)
}

/// Checks the password (throttled per IP and per IP and account) and opens a session in the user's first workspace.
pub async fn login(state: &AppState, email: &str, password_text: &str, meta: &ClientMeta) -> AppResult<String> {
    let email = email.trim().to_lowercase();
    if email.is_empty() || password_text.is_empty() || email.len() > 254 || password_text.len() > 1024 {
        return Err(AppError::field("_form", "Enter your email and password"));
    }
    throttle::check(state, meta.ip.as_deref(), &email).await?;
    // No pooled connection is held across the deliberately slow password check: a burst of sign-ins would starve the
    // pool for every other request.
    let user: Option<(i64, String)> = {
        let mut conn = state.db.get().await?;
        users::table.filter(users::email.eq(&email)).select((users::id, users::password_hash)).first(&mut conn).await.optional()?
    };
    let (user_id, stored) = match user {
        Some((id, h)) => (Some(id), Some(h)),
        None => (None, None),
    };
    let ok = password::verify(password_text, stored).await;
    let Some(user_id) = user_id.filter(|_| ok) else {
        throttle::record_failure(state, meta.ip.as_deref(), &email).await;
        tracing::info!(ip = meta.ip.as_deref().unwrap_or("-"), "failed sign-in");
        return Err(AppError::field("_form", "The email or password is not right"));
    };
    throttle::clear_pair(state, meta.ip.as_deref(), &email).await;
    let mut conn = state.db.get().await?;
    let tenant_id: Option<i64> = memberships::table
        .filter(memberships::user_id.eq(user_id))
        .select(memberships::tenant_id)
        .order(memberships::created_at.asc())
        .first(&mut conn)
        .await
        .optional()?;
    // Someone who left or deleted every workspace still signs in: with no workspace (tenant 0) every page
    // sends them to the one that offers to create a workspace.
    let token = start_session(&mut conn, state, user_id, tenant_id.unwrap_or(NO_TENANT), meta).await?;
    match tenant_id {
        Some(tenant_id) => {
            let who = Who { tenant_id, user_id: Some(user_id), label: email.clone(), ip: meta.ip.clone() };
            audit::record(&mut conn, &who, "user.signed_in", ("user", user_id.to_string()), serde_json::json!({})).await?;
        }
        None => tracing::info!(user_id, "signed in without a workspace"),
    }
    Ok(token)
}

/// The session token's tenant for a user without any workspace (no tenant has id 0).
pub const NO_TENANT: i64 = 0;

/// Writes a session row and returns its signed token.
pub async fn start_session(
    conn: &mut AsyncPgConnection,
    state: &AppState,
    user_id: i64,
    tenant_id: i64,
    meta: &ClientMeta,
) -> AppResult<String> {
    let sid = random_token(24);
    let now = chrono::Utc::now();
    let expires = now + chrono::Duration::hours(state.config.session_hours);
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(&sid),
            sessions::user_id.eq(user_id),
            sessions::expires_at.eq(expires),
            sessions::ip.eq(&meta.ip),
            sessions::user_agent.eq(meta.user_agent.as_deref().map(|s| s.chars().take(300).collect::<String>())),
        ))
        .execute(conn)
        .await?;
    Ok(state.jwt.sign(&Claims { uid: user_id, sid, tid: tenant_id, iat: now.timestamp(), exp: expires.timestamp() }))
}

/// Ends this session; audited in the active workspace when there is one.
pub async fn logout(state: &AppState, user: &SessionUser, ctx: Option<&TenantCtx>) -> AppResult<()> {
    let mut conn = state.db.get().await?;
    diesel::update(sessions::table.find(&user.session_id)).set(sessions::revoked_at.eq(diesel::dsl::now)).execute(&mut conn).await?;
    match ctx {
        Some(ctx) => {
            audit::record(&mut conn, &Who::from(ctx), "user.signed_out", ("user", user.id.to_string()), serde_json::json!({})).await
        }
        None => Ok(()),
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct PasswordChange {
    #[serde(default)]
    pub current: String,
    #[serde(default)]
    pub new: String,
    #[serde(default)]
    pub confirm: String,
}

/// Changes the password and ends the user's other sessions.
pub async fn change_password(state: &AppState, ctx: &TenantCtx, input: &PasswordChange) -> AppResult<()> {
    let (user_id, sid) = ctx.require_user()?;
    let mut check = Check::new();
    if let Err(msg) = password::check_new(&input.new) {
        check.fail("new", msg);
    }
    if input.new != input.confirm {
        check.fail("confirm", "The two new passwords differ");
    }
    check.finish()?;
    // Not holding a pooled connection across the slow hashing (see `login`).
    let stored: String = {
        let mut conn = state.db.get().await?;
        users::table.find(user_id).select(users::password_hash).first(&mut conn).await?
    };
    if !password::verify(&input.current, Some(stored)).await {
        return Err(AppError::field("current", "This is not your current password"));
    }
    let hash = password::hash(&input.new).await?;
    let mut conn = state.db.get().await?;
    let who = Who::from(ctx);
    let sid = sid.to_string();
    conn.transaction::<_, AppError, _>(async move |conn| {
        diesel::update(users::table.find(user_id))
            .set((users::password_hash.eq(&hash), users::password_changed_at.eq(diesel::dsl::now)))
            .execute(conn)
            .await?;
        diesel::update(sessions::table)
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::id.ne(&sid))
            .filter(sessions::revoked_at.is_null())
            .set(sessions::revoked_at.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
        audit::record(conn, &who, "user.password_changed", ("user", user_id.to_string()), serde_json::json!({})).await
    })
    .await
}

/// A new token for the same session with another active workspace; 404 unless the user belongs to it.
pub async fn switch_tenant(state: &AppState, ctx: &TenantCtx, tenant_id: i64) -> AppResult<String> {
    let (user_id, sid) = ctx.require_user()?;
    session_token_for(state, user_id, sid, tenant_id).await
}

/// A new token for session `sid` of `user_id` with `tenant_id` active; 404 unless the user belongs to it.
pub async fn session_token_for(state: &AppState, user_id: i64, sid: &str, tenant_id: i64) -> AppResult<String> {
    let mut conn = state.db.get().await?;
    let member: Option<i64> = memberships::table
        .filter(memberships::tenant_id.eq(tenant_id))
        .filter(memberships::user_id.eq(user_id))
        .select(memberships::tenant_id)
        .first(&mut conn)
        .await
        .optional()?;
    member.ok_or(AppError::NotFound)?;
    let expires: chrono::DateTime<chrono::Utc> = sessions::table.find(sid).select(sessions::expires_at).first(&mut conn).await?;
    let now = chrono::Utc::now();
    Ok(state.jwt.sign(&Claims { uid: user_id, sid: sid.to_string(), tid: tenant_id, iat: now.timestamp(), exp: expires.timestamp() }))
}

pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .secure(state.config.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::hours(state.config.session_hours))
        .finish()
}

pub fn clear_session_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = session_cookie(state, String::new());
    c.set_max_age(CookieDuration::ZERO);
    c
}
