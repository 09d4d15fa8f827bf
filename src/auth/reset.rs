//! Forgotten passwords: a mailed single-use link (one hour). Asking answers the same whether or not the email
//! has an account, and is limited per IP and per email; using the link sets the password and ends every
//! session of the user.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::audit::{self, Who};
use crate::auth::links::{self, Purpose};
use crate::auth::password;
use crate::auth::service::ClientMeta;
use crate::auth::throttle;
use crate::db::schema::{sessions, users};
use crate::error::{AppError, AppResult};
use crate::mail::{self, Letter};
use crate::state::AppState;
use crate::validate::Check;

const PER_EMAIL_PER_HOUR: u32 = 3;
const PER_IP_PER_HOUR: u32 = 20;

/// Queues a reset mail when `email` has an account; the caller answers the same either way.
pub async fn request(state: &AppState, email: &str, meta: &ClientMeta) -> AppResult<()> {
    let mut check = Check::new();
    let email = check.email("email", email);
    check.finish()?;
    let busy = "Too many password reset requests.";
    throttle::hit(state, "reset:ip", meta.ip.as_deref().unwrap_or("unknown"), PER_IP_PER_HOUR, 3600, busy).await?;
    throttle::hit(state, "reset:email", &email, PER_EMAIL_PER_HOUR, 3600, busy).await?;
    if !mail::enabled(state) {
        return Ok(());
    }
    let mut conn = state.db.get().await?;
    let user: Option<(i64, String)> =
        users::table.filter(users::email.eq(&email)).select((users::id, users::name)).first(&mut conn).await.optional()?;
    let Some((user_id, name)) = user else { return Ok(()) };
    let home = links::home_tenant(&mut conn, user_id).await?;
    let ip = meta.ip.clone();
    let held = conn
        .transaction::<_, AppError, _>(async move |conn| {
            links::retire(conn, user_id, Purpose::PasswordReset).await?;
            let secret = links::issue(conn, user_id, Purpose::PasswordReset, &email).await?;
            let letter = Letter::new("Reset your IGNY8 password", format!("Hello {name},"))
                .para("Someone (hopefully you) asked to reset the password of your IGNY8 account.")
                .action("Choose a new password", format!("{}/password/reset/{secret}", state.config.base_url))
                .note("The link works once, for one hour. If you did not ask, ignore this mail: your password stays as it is.");
            let held = mail::queue_for_account(conn, state, home, &email, letter).await?;
            if let Some(tenant_id) = home {
                let who = Who { tenant_id, user_id: Some(user_id), label: email.clone(), ip };
                audit::record(conn, &who, "user.password_reset_requested", ("user", user_id.to_string()), serde_json::json!({})).await?;
            }
            Ok(held)
        })
        .await?;
    held.send(state)
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ResetInput {
    #[serde(default)]
    pub new: String,
    #[serde(default)]
    pub confirm: String,
}

/// Uses the link: sets the password and signs the user out everywhere.
pub async fn reset(state: &AppState, secret: &str, input: &ResetInput, meta: &ClientMeta) -> AppResult<()> {
    let mut check = Check::new();
    if let Err(msg) = password::check_new(&input.new) {
        check.fail("new", msg);
    }
    if input.new != input.confirm {
        check.fail("confirm", "The two new passwords differ");
    }
    check.finish()?;
    let hash = password::hash(&input.new).await?;
    let mut conn = state.db.get().await?;
    let ip = meta.ip.clone();
    conn.transaction::<_, AppError, _>(async move |conn| {
        let used = links::consume(conn, secret, Purpose::PasswordReset).await?;
        diesel::update(users::table.find(used.user_id))
            .set((users::password_hash.eq(&hash), users::password_changed_at.eq(diesel::dsl::now)))
            .execute(conn)
            .await?;
        crate::auth::verify::mark_verified(conn, used.user_id, &used.email).await?;
        diesel::update(sessions::table)
            .filter(sessions::user_id.eq(used.user_id))
            .filter(sessions::revoked_at.is_null())
            .set(sessions::revoked_at.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
        if let Some(tenant_id) = links::home_tenant(conn, used.user_id).await? {
            let who = Who { tenant_id, user_id: Some(used.user_id), label: used.email.clone(), ip };
            audit::record(conn, &who, "user.password_reset", ("user", used.user_id.to_string()), serde_json::json!({})).await?;
        }
        Ok(())
    })
    .await
}
