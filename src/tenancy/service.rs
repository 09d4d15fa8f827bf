//! Creating workspaces: the tenant row, its owner membership and the opening credit grant, together.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::TenantStatus;
use crate::audit::{self, Who};
use crate::billing::{ledger, plans};
use crate::db::schema::{memberships, tenants};
use crate::error::AppResult;

/// Call inside a transaction. Returns the new tenant id.
pub async fn create_workspace(
    conn: &mut AsyncPgConnection,
    name: &str,
    plan_code: &str,
    owner_id: i64,
    owner_label: &str,
    ip: Option<String>,
) -> AppResult<i64> {
    let plan = plans::get(conn, plan_code).await?;
    let status = if plan.code == plans::SIGNUP_PLAN { TenantStatus::Trial } else { TenantStatus::Active };
    let tenant_id: i64 = diesel::insert_into(tenants::table)
        .values((tenants::name.eq(name), tenants::plan_code.eq(&plan.code), tenants::status.eq(status)))
        .returning(tenants::id)
        .get_result(conn)
        .await?;
    diesel::insert_into(memberships::table)
        .values((memberships::tenant_id.eq(tenant_id), memberships::user_id.eq(owner_id), memberships::role.eq("owner")))
        .execute(conn)
        .await?;
    ledger::post_in_tx(conn, tenant_id, plan.monthly_credits, "plan_grant", "opening").await?;
    let who = Who { tenant_id, user_id: Some(owner_id), label: owner_label.to_string(), ip };
    audit::record(
        conn,
        &who,
        "workspace.created",
        ("tenant", tenant_id.to_string()),
        serde_json::json!({ "name": name, "plan": plan.code, "credits": plan.monthly_credits }),
    )
    .await?;
    Ok(tenant_id)
}

/// Renames the caller's workspace (owners and admins).
pub async fn rename_workspace(state: &crate::state::AppState, ctx: &super::TenantCtx, name: &str) -> AppResult<()> {
    ctx.require(crate::auth::rbac::Perm::ManageSettings)?;
    let mut check = crate::validate::Check::new();
    let name = check.text("name", name, "Workspace name", 1, 120);
    check.finish()?;
    let who = Who::from(ctx);
    let tenant_id = ctx.tenant_id;
    let old = ctx.tenant_name.clone();
    let mut conn = state.db.get().await?;
    diesel_async::AsyncConnection::transaction::<_, crate::error::AppError, _>(&mut conn, async move |conn| {
        diesel::update(tenants::table.find(tenant_id))
            .set((tenants::name.eq(&name), tenants::updated_at.eq(diesel::dsl::now)))
            .execute(conn)
            .await?;
        audit::record(conn, &who, "workspace.renamed", ("tenant", tenant_id.to_string()), serde_json::json!({ "from": old, "to": name }))
            .await
    })
    .await
}
