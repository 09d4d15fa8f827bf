//! Creating workspaces (at sign-up with the trial credits, later by any signed-in user with none), renaming
//! them, and leaving one. Export and deletion live beside this (`export`, `delete`).

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::{TenantCtx, TenantStatus};
use crate::audit::{self, Who};
use crate::auth::links;
use crate::auth::rbac::Role;
use crate::auth::resolve::SessionUser;
use crate::billing::{ledger, plans};
use crate::db::schema::{memberships, tenants};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::validate::Check;

/// Call inside a transaction. Returns the new tenant id. The plan's monthly credits are granted as the opening
/// balance: the sign-up trial, or what the CLI and the demo seed ask for.
pub async fn create_workspace(
    conn: &mut AsyncPgConnection,
    name: &str,
    plan_code: &str,
    owner_id: i64,
    owner_label: &str,
    ip: Option<String>,
) -> AppResult<i64> {
    insert_workspace(conn, name, plan_code, owner_id, owner_label, ip, true).await
}

async fn insert_workspace(
    conn: &mut AsyncPgConnection,
    name: &str,
    plan_code: &str,
    owner_id: i64,
    owner_label: &str,
    ip: Option<String>,
    opening_grant: bool,
) -> AppResult<i64> {
    let plan = plans::get(conn, plan_code).await?;
    let status = if plan.code == plans::SIGNUP_PLAN { TenantStatus::Trial } else { TenantStatus::Active };
    let tenant_id: i64 = diesel::insert_into(tenants::table)
        .values((tenants::name.eq(name), tenants::plan_code.eq(&plan.code), tenants::status.eq(status)))
        .returning(tenants::id)
        .get_result(conn)
        .await?;
    diesel::insert_into(memberships::table)
        .values((memberships::tenant_id.eq(tenant_id), memberships::user_id.eq(owner_id), memberships::role.eq(Role::Owner.as_str())))
        .execute(conn)
        .await?;
    let credits = if opening_grant { plan.monthly_credits } else { 0 };
    if credits != 0 {
        ledger::post_in_tx(conn, tenant_id, credits, "plan_grant", "opening").await?;
    }
    let who = Who { tenant_id, user_id: Some(owner_id), label: owner_label.to_string(), ip };
    audit::record(
        conn,
        &who,
        "workspace.created",
        ("tenant", tenant_id.to_string()),
        serde_json::json!({ "name": name, "plan": plan.code, "credits": credits }),
    )
    .await?;
    Ok(tenant_id)
}

/// The name of a new workspace (the page form and `POST /api/workspaces`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct CreateInput {
    #[serde(default)]
    pub name: String,
}

/// Any signed-in user creates another workspace and becomes its owner. It starts on the Free plan with 0
/// credits: the trial credits come once per person, at sign-up, so creating workspaces cannot farm them.
pub async fn create_another(state: &AppState, user: &SessionUser, input: &CreateInput) -> AppResult<i64> {
    let mut check = Check::new();
    let name = check.text("name", &input.name, "Workspace name", 1, 120);
    check.finish()?;
    let (user_id, label, ip) = (user.id, user.email.clone(), user.ip.clone());
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        insert_workspace(conn, &name, plans::SIGNUP_PLAN, user_id, &label, ip, false).await
    })
    .await
}

/// Renames the caller's workspace (owners and admins).
pub async fn rename_workspace(state: &AppState, ctx: &TenantCtx, name: &str) -> AppResult<()> {
    ctx.require(crate::auth::rbac::Perm::ManageSettings)?;
    let mut check = Check::new();
    let name = check.text("name", name, "Workspace name", 1, 120);
    check.finish()?;
    let who = Who::from(ctx);
    let tenant_id = ctx.tenant_id;
    let old = ctx.tenant_name.clone();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        diesel::update(tenants::table.find(tenant_id))
            .set((tenants::name.eq(&name), tenants::updated_at.eq(diesel::dsl::now)))
            .execute(conn)
            .await?;
        audit::record(conn, &who, "workspace.renamed", ("tenant", tenant_id.to_string()), serde_json::json!({ "from": old, "to": name }))
            .await
    })
    .await
}

/// How many owners the workspace has (a workspace always keeps one).
pub async fn owner_count(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<i64> {
    Ok(memberships::table
        .filter(memberships::tenant_id.eq(tenant_id))
        .filter(memberships::role.eq(Role::Owner.as_str()))
        .count()
        .get_result(conn)
        .await?)
}

pub const LAST_OWNER: &str = "You are the last owner of this workspace, so you cannot leave it. Make someone else owner on the Team page first, or delete the workspace.";

/// Is the signed-in user the only owner of the workspace? (The page says so instead of offering "leave".)
pub async fn is_last_owner(state: &AppState, ctx: &TenantCtx) -> AppResult<bool> {
    if ctx.role != Role::Owner {
        return Ok(false);
    }
    let mut conn = state.db.get().await?;
    Ok(owner_count(&mut conn, ctx.tenant_id).await? <= 1)
}

/// Any member leaves the workspace, except its last owner. Audited in the workspace; returns the workspace the
/// user lands in next (None: they have none left).
pub async fn leave(state: &AppState, ctx: &TenantCtx) -> AppResult<Option<i64>> {
    let (user_id, _) = ctx.require_user()?;
    let who = Who::from(ctx);
    let tenant_id = ctx.tenant_id;
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        // The tenant row first, as every team change does: two owners leaving at once cannot both go.
        tenants::table.find(tenant_id).select(tenants::id).for_update().first::<i64>(conn).await?;
        let role: String = memberships::table
            .filter(memberships::tenant_id.eq(tenant_id))
            .filter(memberships::user_id.eq(user_id))
            .select(memberships::role)
            .first(conn)
            .await?;
        if role == Role::Owner.as_str() && owner_count(conn, tenant_id).await? <= 1 {
            return Err(AppError::Conflict(LAST_OWNER.into()));
        }
        diesel::delete(memberships::table)
            .filter(memberships::tenant_id.eq(tenant_id))
            .filter(memberships::user_id.eq(user_id))
            .execute(conn)
            .await?;
        audit::record(conn, &who, "workspace.left", ("user", user_id.to_string()), serde_json::json!({ "role": role })).await?;
        // Where they land next: their oldest remaining workspace (the one their account mail is filed under).
        links::home_tenant(conn, user_id).await
    })
    .await
}
