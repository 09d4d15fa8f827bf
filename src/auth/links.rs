//! Single-use links sent by mail (password reset, email verification, email change). The secret goes in the
//! mail only; the table keeps its SHA-256. Using a link marks it used in the caller's transaction, under a
//! conditional update, so two clicks cannot both succeed.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::crypto::secrets::{random_token, sha256_hex};
use crate::db::schema::{account_tokens, memberships};
use crate::error::{AppError, AppResult};

crate::text_enum! {
    /// What a mailed link does.
    pub enum Purpose {
        PasswordReset = "password_reset",
        VerifyEmail = "verify_email",
        ChangeEmail = "change_email",
    }
}

impl Purpose {
    pub fn lifetime(self) -> Duration {
        match self {
            Purpose::PasswordReset => Duration::hours(1),
            Purpose::VerifyEmail => Duration::days(3),
            Purpose::ChangeEmail => Duration::hours(24),
        }
    }
}

/// A link that was valid when used.
#[derive(Debug, Clone)]
pub struct Used {
    pub user_id: i64,
    pub email: String,
}

/// Issues a link for `user_id` sent to `email`; returns its secret (for the mail) once.
pub async fn issue(conn: &mut AsyncPgConnection, user_id: i64, purpose: Purpose, email: &str) -> AppResult<String> {
    let secret = random_token(32);
    diesel::insert_into(account_tokens::table)
        .values((
            account_tokens::user_id.eq(user_id),
            account_tokens::purpose.eq(purpose.as_str()),
            account_tokens::token_hash.eq(sha256_hex(&secret)),
            account_tokens::email.eq(email),
            account_tokens::expires_at.eq(Utc::now() + purpose.lifetime()),
        ))
        .execute(conn)
        .await?;
    Ok(secret)
}

fn gone() -> AppError {
    AppError::BadRequest("This link has expired or was already used. Ask for a new one.".into())
}

/// Is the link still usable? (For showing its form; does not use it.)
pub async fn peek(conn: &mut AsyncPgConnection, secret: &str, purpose: Purpose) -> AppResult<Used> {
    let row: Option<(i64, String)> = account_tokens::table
        .filter(account_tokens::token_hash.eq(sha256_hex(secret)))
        .filter(account_tokens::purpose.eq(purpose.as_str()))
        .filter(account_tokens::used_at.is_null())
        .filter(account_tokens::expires_at.gt(Utc::now()))
        .select((account_tokens::user_id, account_tokens::email))
        .first(conn)
        .await
        .optional()?;
    row.map(|(user_id, email)| Used { user_id, email }).ok_or_else(gone)
}

/// Uses the link (inside the caller's transaction): 400 if unknown, used or expired. One conditional UPDATE,
/// so of two concurrent uses only one finds the row unused.
pub async fn consume(conn: &mut AsyncPgConnection, secret: &str, purpose: Purpose) -> AppResult<Used> {
    let row: Option<(i64, String)> = diesel::update(account_tokens::table)
        .filter(account_tokens::token_hash.eq(sha256_hex(secret)))
        .filter(account_tokens::purpose.eq(purpose.as_str()))
        .filter(account_tokens::used_at.is_null())
        .filter(account_tokens::expires_at.gt(Utc::now()))
        .set(account_tokens::used_at.eq(Utc::now()))
        .returning((account_tokens::user_id, account_tokens::email))
        .get_result(conn)
        .await
        .optional()?;
    row.map(|(user_id, email)| Used { user_id, email }).ok_or_else(gone)
}

/// Ends the user's other open links of this purpose (a new one replaces them).
pub async fn retire(conn: &mut AsyncPgConnection, user_id: i64, purpose: Purpose) -> AppResult<()> {
    diesel::update(account_tokens::table)
        .filter(account_tokens::user_id.eq(user_id))
        .filter(account_tokens::purpose.eq(purpose.as_str()))
        .filter(account_tokens::used_at.is_null())
        .set(account_tokens::used_at.eq(Utc::now()))
        .execute(conn)
        .await?;
    Ok(())
}

/// The workspace a user's account mail is filed under (their oldest membership): mail jobs belong to a tenant.
pub async fn home_tenant(conn: &mut AsyncPgConnection, user_id: i64) -> AppResult<Option<i64>> {
    Ok(memberships::table
        .filter(memberships::user_id.eq(user_id))
        .order(memberships::created_at.asc())
        .select(memberships::tenant_id)
        .first(conn)
        .await
        .optional()?)
}
