//! API tokens for automation callers (role system_bot). The secret is shown once and stored as a digest.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::auth::resolve::API_TOKEN_PREFIX;
use crate::crypto::secrets::{sha256_hex, tenant_secret};
use crate::db::schema::api_tokens;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::validate::Check;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub token_prefix: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn list(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<Vec<ApiToken>> {
    Ok(api_tokens::table
        .filter(api_tokens::tenant_id.eq(tenant_id))
        .select(ApiToken::as_select())
        .order((api_tokens::revoked_at.is_not_null(), api_tokens::created_at.desc()))
        .limit(200)
        .load(conn)
        .await?)
}

pub async fn get(conn: &mut AsyncPgConnection, tenant_id: i64, id: i64) -> AppResult<ApiToken> {
    Ok(api_tokens::table
        .filter(api_tokens::tenant_id.eq(tenant_id))
        .filter(api_tokens::id.eq(id))
        .select(ApiToken::as_select())
        .first(conn)
        .await?)
}

/// Returns the token row and its secret (to show once).
pub async fn create(state: &AppState, ctx: &TenantCtx, name: &str) -> AppResult<(ApiToken, String)> {
    ctx.require(Perm::ManageTokens)?;
    let mut check = Check::new();
    let name = check.text("name", name, "Token name", 1, 80);
    check.finish()?;
    let secret = tenant_secret(API_TOKEN_PREFIX, ctx.tenant_id);
    let prefix: String = secret.chars().take(API_TOKEN_PREFIX.len() + 1 + ctx.tenant_id.to_string().len() + 7).collect();
    let hash = sha256_hex(&secret);
    let (who, tenant_id, user_id) = (Who::from(ctx), ctx.tenant_id, ctx.user_id());
    let mut conn = state.db.get().await?;
    let token = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let token: ApiToken = diesel::insert_into(api_tokens::table)
                .values((
                    api_tokens::tenant_id.eq(tenant_id),
                    api_tokens::name.eq(&name),
                    api_tokens::token_prefix.eq(&prefix),
                    api_tokens::token_hash.eq(&hash),
                    api_tokens::created_by.eq(user_id),
                ))
                .returning(ApiToken::as_returning())
                .get_result(conn)
                .await?;
            audit::record(conn, &who, "token.created", ("api_token", token.id.to_string()), serde_json::json!({ "name": name })).await?;
            Ok(token)
        })
        .await?;
    Ok((token, secret))
}

pub async fn revoke(state: &AppState, ctx: &TenantCtx, id: i64) -> AppResult<()> {
    ctx.require(Perm::ManageTokens)?;
    let (who, tenant_id) = (Who::from(ctx), ctx.tenant_id);
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let t = get(conn, tenant_id, id).await?;
        if t.revoked_at.is_some() {
            return Ok(());
        }
        diesel::update(api_tokens::table)
            .filter(api_tokens::tenant_id.eq(tenant_id))
            .filter(api_tokens::id.eq(id))
            .set(api_tokens::revoked_at.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
        audit::record(conn, &who, "token.revoked", ("api_token", id.to_string()), serde_json::json!({ "name": t.name })).await
    })
    .await
}
