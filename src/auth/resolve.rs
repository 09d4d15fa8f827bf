//! Turns a request's credentials (session cookie, bearer JWT or API token) into a `TenantCtx`.

use actix_web::HttpRequest;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::auth::jwt::Claims;
use crate::auth::rbac::Role;
use crate::crypto::secrets::{parse_tenant_secret, sha256_hex};
use crate::db::schema::{api_tokens, memberships, sessions, tenants, users};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenancy::{Actor, TenantCtx, Workspace};
use crate::web::client_ip;

pub const SESSION_COOKIE: &str = "igny8_session";
pub const API_TOKEN_PREFIX: &str = "igy8";

type TenantRow = (i64, String, crate::tenancy::TenantStatus, String, i64);
const TENANT_COLS: (tenants::id, tenants::name, tenants::status, tenants::plan_code, tenants::credits_balance) =
    (tenants::id, tenants::name, tenants::status, tenants::plan_code, tenants::credits_balance);

fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

pub async fn tenant_ctx(state: &AppState, req: &HttpRequest) -> AppResult<TenantCtx> {
    let ip = client_ip(req, &state.config);
    if let Some(token) = bearer(req) {
        if token.starts_with(API_TOKEN_PREFIX) {
            // Tokens are for the JSON API; the pages' form and fragment routes are the signed-in user's.
            if !req.path().starts_with("/api/") {
                return Err(AppError::Forbidden("API tokens work on /api only".into()));
            }
            return from_api_token(state, token, ip).await;
        }
        let claims = state.jwt.verify(token).ok_or(AppError::Unauthorized)?;
        return from_session(state, claims, ip).await;
    }
    let cookie = req.cookie(SESSION_COOKIE).ok_or(AppError::Unauthorized)?;
    let claims = state.jwt.verify(cookie.value()).ok_or(AppError::Unauthorized)?;
    from_session(state, claims, ip).await
}

/// The session's user and the active membership: the token's tenant, or — when the user was removed from
/// it — their oldest remaining one. Query-builder statements, so Postgres keeps them prepared.
async fn from_session(state: &AppState, claims: Claims, ip: Option<String>) -> AppResult<TenantCtx> {
    let conn = state.db.get().await?;
    let now = chrono::Utc::now();
    // The session row and the user's workspaces are asked for together (pipelined on one connection);
    // the workspaces are only used when the session turns out valid.
    let session = sessions::table
        .inner_join(users::table)
        .left_join(
            memberships::table.on(memberships::user_id.eq(users::id).and(memberships::tenant_id.eq(claims.tid))).inner_join(tenants::table),
        )
        .filter(sessions::id.eq(&claims.sid))
        .filter(sessions::user_id.eq(claims.uid))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select(((users::id, users::email, users::name, users::is_system_admin), (memberships::role, TENANT_COLS).nullable()));
    let workspaces = memberships::table
        .inner_join(tenants::table)
        .filter(memberships::user_id.eq(claims.uid))
        .select((tenants::id, tenants::name, memberships::role, memberships::created_at))
        .order((tenants::name.asc(), tenants::id.asc()));
    type SessionRow = ((i64, String, String, bool), Option<(String, TenantRow)>);
    let (row, workspaces) = tokio::try_join!(async { session.first::<SessionRow>(&mut &*conn).await.optional() }, async {
        workspaces.load::<(i64, String, String, chrono::DateTime<chrono::Utc>)>(&mut &*conn).await
    })?;
    let ((user_id, email, name, is_system_admin), active) = row.ok_or(AppError::Unauthorized)?;
    let (role, t) = match active {
        Some(a) => a,
        None => {
            let oldest = workspaces.iter().min_by_key(|w| w.3).ok_or(AppError::NoWorkspace)?;
            tenants::table.find(oldest.0).select(TENANT_COLS).first::<TenantRow>(&mut &*conn).await.map(|t| (oldest.2.clone(), t))?
        }
    };
    let role = Role::parse_member(&role).ok_or_else(|| AppError::internal("unknown role in memberships"))?;
    let actor = Actor::User { id: user_id, email, name, session_id: claims.sid, is_system_admin };
    let mut ctx = ctx(t, role, actor, ip);
    ctx.workspaces = workspaces.into_iter().map(|(id, name, role, _)| Workspace { id, name, role }).collect();
    Ok(ctx)
}

async fn from_api_token(state: &AppState, token: &str, ip: Option<String>) -> AppResult<TenantCtx> {
    let tenant_id = parse_tenant_secret(API_TOKEN_PREFIX, token).ok_or(AppError::Unauthorized)?;
    let hash = sha256_hex(token);
    let mut conn = state.db.get().await?;
    let row: Option<(i64, String, String, TenantRow)> = api_tokens::table
        .inner_join(tenants::table.on(tenants::id.eq(api_tokens::tenant_id)))
        .filter(api_tokens::tenant_id.eq(tenant_id))
        .filter(api_tokens::token_hash.eq(&hash))
        .filter(api_tokens::revoked_at.is_null())
        .select((api_tokens::id, api_tokens::name, api_tokens::role, TENANT_COLS))
        .first(&mut conn)
        .await
        .optional()?;
    let (token_id, name, role, t) = row.ok_or(AppError::Unauthorized)?;
    // Record use at most once a minute, so a busy token does not write on every request.
    let now = chrono::Utc::now();
    diesel::update(api_tokens::table)
        .filter(api_tokens::tenant_id.eq(tenant_id))
        .filter(api_tokens::id.eq(token_id))
        .filter(api_tokens::last_used_at.is_null().or(api_tokens::last_used_at.lt(now - chrono::Duration::minutes(1))))
        .set(api_tokens::last_used_at.eq(now))
        .execute(&mut conn)
        .await?;
    Ok(ctx(t, Role::parse(&role).unwrap_or(Role::SystemBot), Actor::Token { id: token_id, name }, ip))
}

fn ctx(t: TenantRow, role: Role, actor: Actor, ip: Option<String>) -> TenantCtx {
    let (tenant_id, tenant_name, tenant_status, plan_code, credits_balance) = t;
    TenantCtx { tenant_id, tenant_name, tenant_status, plan_code, credits_balance, role, actor, ip, workspaces: vec![] }
}

/// A signed-in person, whatever workspaces they belong to (none included): for creating a workspace and for
/// signing out, which must work for someone who left or deleted their last one. API tokens are refused.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub session_id: String,
    pub ip: Option<String>,
}

pub async fn session_user(state: &AppState, req: &HttpRequest) -> AppResult<SessionUser> {
    let token = match bearer(req) {
        Some(t) if t.starts_with(API_TOKEN_PREFIX) => {
            return Err(AppError::Forbidden("This action needs a signed-in user, not an API token".into()));
        }
        Some(t) => t.to_string(),
        None => req.cookie(SESSION_COOKIE).ok_or(AppError::Unauthorized)?.value().to_string(),
    };
    let claims = state.jwt.verify(&token).ok_or(AppError::Unauthorized)?;
    let mut conn = state.db.get().await?;
    let (id, email, name): (i64, String, String) = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(&claims.sid))
        .filter(sessions::user_id.eq(claims.uid))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(chrono::Utc::now()))
        .select((users::id, users::email, users::name))
        .first(&mut conn)
        .await
        .optional()?
        .ok_or(AppError::Unauthorized)?;
    Ok(SessionUser { id, email, name, session_id: claims.sid, ip: client_ip(req, &state.config) })
}

impl actix_web::FromRequest for SessionUser {
    type Error = AppError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req.app_data::<actix_web::web::Data<AppState>>().ok_or_else(|| AppError::internal("app state missing"))?;
            session_user(state, &req).await
        })
    }
}
