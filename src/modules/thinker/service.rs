//! The prompt library per workspace: the prompt in use for a step (the workspace's newest version, or the
//! built-in one), saving a new version with its placeholders checked, going back to the built-in, history.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use crate::ai::prompts::{Builtin, Library, placeholders_in, render};
use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::db::schema::prompt_overrides;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::validate::Check;

/// The prompt a step runs with.
#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    pub key: &'static str,
    pub system: String,
    pub template: String,
    /// The workspace's version in use; None = the built-in prompt.
    pub version: Option<i32>,
}

impl Resolved {
    pub fn render(&self, values: &[(&str, String)]) -> String {
        render(&self.template, values)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = prompt_overrides)]
pub struct PromptVersion {
    pub version: i32,
    pub system: String,
    pub template: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl PromptVersion {
    pub fn is_reset(&self) -> bool {
        self.template.is_empty()
    }
}

fn known(prompts: &Library, key: &str) -> AppResult<&'static Builtin> {
    prompts.builtin(key).ok_or(AppError::NotFound)
}

/// The prompt in use for `key` in this workspace.
pub async fn resolve(prompts: &Library, conn: &mut AsyncPgConnection, tenant_id: i64, key: &str) -> AppResult<Resolved> {
    let b = known(prompts, key)?;
    let latest: Option<PromptVersion> = prompt_overrides::table
        .filter(prompt_overrides::tenant_id.eq(tenant_id))
        .filter(prompt_overrides::key.eq(key))
        .order(prompt_overrides::version.desc())
        .select(PromptVersion::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(match latest {
        Some(v) if !v.is_reset() => Resolved { key: b.key, system: v.system, template: v.template, version: Some(v.version) },
        _ => Resolved { key: b.key, system: b.system.to_string(), template: b.template.to_string(), version: None },
    })
}

pub async fn versions(prompts: &Library, conn: &mut AsyncPgConnection, tenant_id: i64, key: &str) -> AppResult<Vec<PromptVersion>> {
    known(prompts, key)?;
    Ok(prompt_overrides::table
        .filter(prompt_overrides::tenant_id.eq(tenant_id))
        .filter(prompt_overrides::key.eq(key))
        .order(prompt_overrides::version.desc())
        .select(PromptVersion::as_select())
        .limit(50)
        .load(conn)
        .await?)
}

/// Checks a workspace's version: length, no unknown placeholder, none of the required ones missing.
pub fn check(b: &Builtin, system: &str, template: &str) -> AppResult<(String, String)> {
    let mut c = Check::new();
    let system = c.multiline("system", system, "System message", 0, 10_000);
    let template = c.multiline("template", template, "Prompt", 1, 20_000);
    let used = placeholders_in(&template);
    let unknown: Vec<String> = used.iter().filter(|p| !b.placeholders.contains(&p.as_str())).map(|p| format!("[IGNY8_{p}]")).collect();
    let allowed = b.placeholders.iter().map(|p| format!("[IGNY8_{p}]")).collect::<Vec<_>>().join(", ");
    if !unknown.is_empty() {
        c.fail("template", format!("Unknown placeholder {}; this prompt may use {allowed}", unknown.join(", ")));
    }
    let missing: Vec<String> = b.required.iter().filter(|r| !used.iter().any(|u| u == *r)).map(|r| format!("[IGNY8_{r}]")).collect();
    if !missing.is_empty() {
        c.fail("template", format!("The prompt needs {} to work", missing.join(", ")));
    }
    if !placeholders_in(&system).is_empty() {
        c.fail("system", "The system message takes no placeholders; put them in the prompt");
    }
    c.finish()?;
    Ok((system, template))
}

async fn insert_version(conn: &mut AsyncPgConnection, tenant_id: i64, key: &str, system: &str, template: &str, by: &str) -> AppResult<i32> {
    let next: i32 = prompt_overrides::table
        .filter(prompt_overrides::tenant_id.eq(tenant_id))
        .filter(prompt_overrides::key.eq(key))
        .select(diesel::dsl::max(prompt_overrides::version))
        .first::<Option<i32>>(conn)
        .await?
        .unwrap_or(0)
        + 1;
    diesel::insert_into(prompt_overrides::table)
        .values((
            prompt_overrides::tenant_id.eq(tenant_id),
            prompt_overrides::key.eq(key),
            prompt_overrides::version.eq(next),
            prompt_overrides::system.eq(system),
            prompt_overrides::template.eq(template),
            prompt_overrides::created_by.eq(by),
        ))
        .execute(conn)
        .await?;
    Ok(next)
}

/// Saves the workspace's own version of a prompt (owner/admin: it changes every AI answer of the workspace).
/// A prompt as the editor form and the JSON API send it.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PromptInput {
    #[serde(default)]
    pub system: String,
    #[serde(default)]
    pub template: String,
}

pub async fn save(state: &AppState, ctx: &TenantCtx, key: &str, input: &PromptInput) -> AppResult<i32> {
    ctx.require(Perm::ManageSettings)?;
    let b = known(&state.prompts, key)?;
    let (system, template) = check(b, &input.system, &input.template)?;
    let (tenant_id, who, key) = (ctx.tenant_id, Who::from(ctx), b.key);
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        // One writer at a time per workspace (the version number is max + 1).
        crate::billing::ledger::lock_and_check(conn, tenant_id, 0).await?;
        let v = insert_version(conn, tenant_id, key, &system, &template, &who.label).await?;
        audit::record(conn, &who, "prompt.saved", ("prompt", key.to_string()), serde_json::json!({ "version": v })).await?;
        Ok(v)
    })
    .await
}

/// Back to the built-in prompt (kept as a version, so the history shows it).
pub async fn reset(state: &AppState, ctx: &TenantCtx, key: &str) -> AppResult<i32> {
    ctx.require(Perm::ManageSettings)?;
    let b = known(&state.prompts, key)?;
    let (tenant_id, who, key) = (ctx.tenant_id, Who::from(ctx), b.key);
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        crate::billing::ledger::lock_and_check(conn, tenant_id, 0).await?;
        let v = insert_version(conn, tenant_id, key, "", "", &who.label).await?;
        audit::record(conn, &who, "prompt.reset", ("prompt", key.to_string()), serde_json::json!({ "version": v })).await?;
        Ok(v)
    })
    .await
}

/// Every step with the prompt in use (for the library page).
pub async fn overview(prompts: &Library, conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<Vec<(&'static Builtin, Resolved)>> {
    let mut out = Vec::new();
    for b in prompts.all().iter().copied() {
        out.push((b, resolve(prompts, conn, tenant_id, b.key).await?));
    }
    Ok(out)
}
