//! Team: members, invitations and their rules (plan user limit, owners protected). Pages and API share it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use crate::audit::{self, Who};
use crate::auth::password;
use crate::auth::rbac::{Perm, Role};
use crate::auth::service::{ClientMeta, insert_user, start_session};
use crate::billing::plans;
use crate::crypto::secrets::{parse_tenant_secret, sha256_hex, tenant_secret};
use crate::db::is_unique_violation;
use crate::db::schema::{invitations, memberships, tenants, users};
use crate::error::{AppError, AppResult};
use crate::mail::{self, Letter};
use crate::state::AppState;
use crate::tenancy::{Actor, TenantCtx};
use crate::validate::Check;

pub const INVITE_PREFIX: &str = "inv";
pub const INVITE_DAYS: i64 = 7;

#[derive(Debug, Clone, Queryable, Serialize)]
pub struct Member {
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub role: String,
    pub joined_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Serialize)]
pub struct Invite {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

const MEMBER_COLS: (users::id, users::name, users::email, memberships::role, memberships::created_at) =
    (users::id, users::name, users::email, memberships::role, memberships::created_at);
const INVITE_COLS: (invitations::id, invitations::email, invitations::role, invitations::created_at, invitations::expires_at) =
    (invitations::id, invitations::email, invitations::role, invitations::created_at, invitations::expires_at);

pub async fn members(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<Vec<Member>> {
    Ok(memberships::table
        .inner_join(users::table)
        .filter(memberships::tenant_id.eq(tenant_id))
        .select(MEMBER_COLS)
        .order((memberships::created_at.asc(), users::id.asc()))
        .load(conn)
        .await?)
}

pub async fn member(conn: &mut AsyncPgConnection, tenant_id: i64, user_id: i64) -> AppResult<Member> {
    Ok(memberships::table
        .inner_join(users::table)
        .filter(memberships::tenant_id.eq(tenant_id))
        .filter(memberships::user_id.eq(user_id))
        .select(MEMBER_COLS)
        .first(conn)
        .await?)
}

fn pending() -> diesel::dsl::And<diesel::dsl::IsNull<invitations::accepted_at>, diesel::dsl::IsNull<invitations::revoked_at>> {
    invitations::accepted_at.is_null().and(invitations::revoked_at.is_null())
}

pub async fn pending_invites(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<Vec<Invite>> {
    Ok(invitations::table
        .filter(invitations::tenant_id.eq(tenant_id))
        .filter(pending())
        .select(INVITE_COLS)
        .order(invitations::created_at.desc())
        .load(conn)
        .await?)
}

pub async fn invite(conn: &mut AsyncPgConnection, tenant_id: i64, id: i64) -> AppResult<Invite> {
    Ok(invitations::table
        .filter(invitations::tenant_id.eq(tenant_id))
        .filter(invitations::id.eq(id))
        .select(INVITE_COLS)
        .first(conn)
        .await?)
}

/// Members plus open invitations: the seats in use against the plan's user limit.
async fn seats_in_use(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<i64> {
    let members: i64 = memberships::table.filter(memberships::tenant_id.eq(tenant_id)).count().get_result(conn).await?;
    let invites: i64 = invitations::table
        .filter(invitations::tenant_id.eq(tenant_id))
        .filter(pending())
        .filter(invitations::expires_at.gt(Utc::now()))
        .count()
        .get_result(conn)
        .await?;
    Ok(members + invites)
}

pub struct CreatedInvite {
    pub invite: Invite,
    /// The secret link; mailed to the invitee (when mail is set up) and shown once to the inviter.
    pub token: String,
}

pub async fn create_invite(state: &AppState, ctx: &TenantCtx, email: &str, role: &str) -> AppResult<CreatedInvite> {
    ctx.require(Perm::ManageTeam)?;
    let mut check = Check::new();
    let email = check.email("email", email);
    let role = match Role::parse_member(role.trim()) {
        Some(r) => Some(r),
        None => {
            check.fail("role", "Choose owner, admin, editor or viewer");
            None
        }
    };
    check.finish()?;
    let role = role.expect("checked above");
    if role == Role::Owner {
        ctx.require(Perm::ManageOwners)?;
    }
    crate::auth::verify::require_verified(state, ctx).await?;
    let token = tenant_secret(INVITE_PREFIX, ctx.tenant_id);
    let token_hash = sha256_hex(&token);
    let link = format!("{}/invite/{token}", state.config.base_url);
    let inviter_name = match &ctx.actor {
        Actor::User { name, .. } => name.clone(),
        _ => "A teammate".to_string(),
    };
    let tenant_name = ctx.tenant_name.clone();
    let who = Who::from(ctx);
    let (tenant_id, inviter) = (ctx.tenant_id, ctx.user_id());
    let mut conn = state.db.get().await?;
    let invite = conn
        .transaction::<_, AppError, _>(async move |conn| {
            // Lock the tenant row so two invites cannot both take the last seat.
            let plan_code: String = tenants::table.find(tenant_id).select(tenants::plan_code).for_update().first(conn).await?;
            let plan = plans::get(conn, &plan_code).await?;
            let already: i64 = memberships::table
                .inner_join(users::table)
                .filter(memberships::tenant_id.eq(tenant_id))
                .filter(users::email.eq(&email))
                .count()
                .get_result(conn)
                .await?;
            if already > 0 {
                return Err(AppError::field("email", "This person is already a member of the workspace"));
            }
            let used = seats_in_use(conn, tenant_id).await?;
            if used >= plan.max_users as i64 {
                return Err(AppError::PlanLimit(format!(
                    "Your {} plan allows {} user{} and {} seat{} already taken (members and open invitations). \
                         Upgrade the plan or revoke an invitation first.",
                    plan.name,
                    plan.max_users,
                    if plan.max_users == 1 { "" } else { "s" },
                    used,
                    if used == 1 { " is" } else { "s are" },
                )));
            }
            // An expired, unanswered invite to the same address gives way to the new one.
            diesel::update(invitations::table)
                .filter(invitations::tenant_id.eq(tenant_id))
                .filter(invitations::email.eq(&email))
                .filter(pending())
                .filter(invitations::expires_at.le(Utc::now()))
                .set(invitations::revoked_at.eq(diesel::dsl::now))
                .execute(conn)
                .await?;
            let invite: Invite = diesel::insert_into(invitations::table)
                .values((
                    invitations::tenant_id.eq(tenant_id),
                    invitations::email.eq(&email),
                    invitations::role.eq(role.as_str()),
                    invitations::token_hash.eq(&token_hash),
                    invitations::invited_by.eq(inviter),
                    invitations::expires_at.eq(Utc::now() + chrono::Duration::days(INVITE_DAYS)),
                ))
                .returning(INVITE_COLS)
                .get_result(conn)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        AppError::field("email", "An invitation to this address is already open")
                    } else {
                        e.into()
                    }
                })?;
            let letter = Letter::new(format!("{inviter_name} invited you to {tenant_name} on IGNY8"), "Hello,")
                .para(format!(
                    "{inviter_name} invited you to join the workspace \"{tenant_name}\" on IGNY8 as {}.",
                    role.label().to_lowercase()
                ))
                .action("Accept the invitation", link)
                .note(format!("The invitation is open for {INVITE_DAYS} days."));
            mail::queue(conn, state, tenant_id, &email, &letter).await?;
            audit::record(
                conn,
                &who,
                "team.invited",
                ("invitation", invite.id.to_string()),
                serde_json::json!({ "email": email, "role": role.as_str() }),
            )
            .await?;
            Ok(invite)
        })
        .await?;
    Ok(CreatedInvite { invite, token })
}

pub async fn revoke_invite(state: &AppState, ctx: &TenantCtx, id: i64) -> AppResult<()> {
    ctx.require(Perm::ManageTeam)?;
    let who = Who::from(ctx);
    let tenant_id = ctx.tenant_id;
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let n = diesel::update(invitations::table)
            .filter(invitations::tenant_id.eq(tenant_id))
            .filter(invitations::id.eq(id))
            .filter(pending())
            .set(invitations::revoked_at.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
        if n == 0 {
            return Err(AppError::NotFound);
        }
        audit::record(conn, &who, "team.invite_revoked", ("invitation", id.to_string()), serde_json::json!({})).await
    })
    .await
}

async fn owner_count(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<i64> {
    crate::tenancy::service::owner_count(conn, tenant_id).await
}

pub async fn change_role(state: &AppState, ctx: &TenantCtx, user_id: i64, role: &str) -> AppResult<Member> {
    ctx.require(Perm::ManageTeam)?;
    let new_role = Role::parse_member(role.trim()).ok_or_else(|| AppError::field("role", "Choose owner, admin, editor or viewer"))?;
    let who = Who::from(ctx);
    let (tenant_id, ctx2) = (ctx.tenant_id, ctx.clone());
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        tenants::table.find(tenant_id).select(tenants::id).for_update().first::<i64>(conn).await?;
        let current = member(conn, tenant_id, user_id).await?;
        if current.role == "owner" || new_role == Role::Owner {
            ctx2.require(Perm::ManageOwners)?;
        }
        if current.role == "owner" && new_role != Role::Owner && owner_count(conn, tenant_id).await? <= 1 {
            return Err(AppError::Conflict("A workspace needs at least one owner. Make someone else owner first.".into()));
        }
        diesel::update(memberships::table)
            .filter(memberships::tenant_id.eq(tenant_id))
            .filter(memberships::user_id.eq(user_id))
            .set(memberships::role.eq(new_role.as_str()))
            .execute(conn)
            .await?;
        audit::record(
            conn,
            &who,
            "team.role_changed",
            ("user", user_id.to_string()),
            serde_json::json!({ "email": current.email, "from": current.role, "to": new_role.as_str() }),
        )
        .await?;
        member(conn, tenant_id, user_id).await
    })
    .await
}

pub async fn remove_member(state: &AppState, ctx: &TenantCtx, user_id: i64) -> AppResult<()> {
    ctx.require(Perm::ManageTeam)?;
    let who = Who::from(ctx);
    let (tenant_id, ctx2) = (ctx.tenant_id, ctx.clone());
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        tenants::table.find(tenant_id).select(tenants::id).for_update().first::<i64>(conn).await?;
        let current = member(conn, tenant_id, user_id).await?;
        if current.role == "owner" {
            ctx2.require(Perm::ManageOwners)?;
            if owner_count(conn, tenant_id).await? <= 1 {
                return Err(AppError::Conflict("The last owner cannot be removed. Make someone else owner first.".into()));
            }
        }
        diesel::delete(memberships::table)
            .filter(memberships::tenant_id.eq(tenant_id))
            .filter(memberships::user_id.eq(user_id))
            .execute(conn)
            .await?;
        audit::record(
            conn,
            &who,
            "team.member_removed",
            ("user", user_id.to_string()),
            serde_json::json!({ "email": current.email, "role": current.role }),
        )
        .await
    })
    .await
}

/// What the invite page shows before accepting.
pub struct InviteView {
    pub tenant_id: i64,
    pub invite_id: i64,
    pub tenant_name: String,
    pub email: String,
    pub role: String,
    pub user_exists: bool,
}

pub async fn view_invite(state: &AppState, token: &str) -> AppResult<InviteView> {
    let tenant_id = parse_tenant_secret(INVITE_PREFIX, token).ok_or(AppError::NotFound)?;
    let mut conn = state.db.get().await?;
    let row: Option<(i64, String, String, String)> = invitations::table
        .inner_join(tenants::table.on(tenants::id.eq(invitations::tenant_id)))
        .filter(invitations::tenant_id.eq(tenant_id))
        .filter(invitations::token_hash.eq(sha256_hex(token)))
        .filter(pending())
        .filter(invitations::expires_at.gt(Utc::now()))
        .select((invitations::id, tenants::name, invitations::email, invitations::role))
        .first(&mut conn)
        .await
        .optional()?;
    let (invite_id, tenant_name, email, role) =
        row.ok_or_else(|| AppError::BadRequest("This invitation link is not valid any more: it was used, revoked or has expired.".into()))?;
    let user_exists: i64 = users::table.filter(users::email.eq(&email)).count().get_result(&mut conn).await?;
    Ok(InviteView { tenant_id, invite_id, tenant_name, email, role, user_exists: user_exists > 0 })
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AcceptInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub password: String,
}

/// Accepts an invitation: an existing user proves it with their password; a new one picks name and password.
/// Returns a session token in the invited workspace.
pub async fn accept_invite(state: &AppState, token: &str, input: &AcceptInput, meta: &ClientMeta) -> AppResult<String> {
    let view = view_invite(state, token).await?;
    // No pooled connection is held across the slow password check or hashing: a burst would starve the pool.
    let existing: Option<(i64, String)> = {
        let mut conn = state.db.get().await?;
        users::table.filter(users::email.eq(&view.email)).select((users::id, users::password_hash)).first(&mut conn).await.optional()?
    };
    let new_user = match &existing {
        Some((_, stored)) => {
            if !password::verify(&input.password, Some(stored.clone())).await {
                return Err(AppError::field("password", "This is not the password of the account with this email"));
            }
            None
        }
        None => {
            let mut check = Check::new();
            let name = check.text("name", &input.name, "Your name", 1, 120);
            if let Err(msg) = password::check_new(&input.password) {
                check.fail("password", msg);
            }
            check.finish()?;
            Some((name, password::hash(&input.password).await?))
        }
    };
    let existing_id = existing.map(|(id, _)| id);
    let ip = meta.ip.clone();
    let mut conn = state.db.get().await?;
    let user_id = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let user_id = match (existing_id, new_user) {
                (Some(id), _) => id,
                (None, Some((name, hash))) => insert_user(conn, &view.email, &name, &hash, true).await?,
                (None, None) => unreachable!("either an existing user or a new one"),
            };
            let taken = diesel::update(invitations::table)
                .filter(invitations::tenant_id.eq(view.tenant_id))
                .filter(invitations::id.eq(view.invite_id))
                .filter(pending())
                .set(invitations::accepted_at.eq(diesel::dsl::now))
                .execute(conn)
                .await?;
            if taken == 0 {
                return Err(AppError::BadRequest("This invitation was used or revoked a moment ago.".into()));
            }
            diesel::insert_into(memberships::table)
                .values((memberships::tenant_id.eq(view.tenant_id), memberships::user_id.eq(user_id), memberships::role.eq(&view.role)))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            // The invitation reached this address, which proves it.
            crate::auth::verify::mark_verified(conn, user_id, &view.email).await?;
            let who = Who { tenant_id: view.tenant_id, user_id: Some(user_id), label: view.email.clone(), ip };
            audit::record(
                conn,
                &who,
                "team.invite_accepted",
                ("invitation", view.invite_id.to_string()),
                serde_json::json!({ "role": view.role }),
            )
            .await?;
            Ok(user_id)
        })
        .await?;
    start_session(&mut conn, state, user_id, view.tenant_id, meta).await
}

/// An invitation as the team page's form and the API send it.
#[derive(serde::Deserialize)]
pub struct InviteInput {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub role: String,
}

/// A member's new role, from the page or the API.
#[derive(serde::Deserialize)]
pub struct RoleInput {
    #[serde(default)]
    pub role: String,
}

/// A new API token's name, from the page or the API.
#[derive(serde::Deserialize)]
pub struct TokenInput {
    #[serde(default)]
    pub name: String,
}
