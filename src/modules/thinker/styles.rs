//! Author profiles (persona, tone, audience, language) and strategies (structure rules, call to action,
//! internal-link hints): what a task may pick, and what fills the content prompt's placeholders.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::db::is_unique_violation;
use crate::db::schema::{author_profiles, strategies};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::validate::Check;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = author_profiles)]
pub struct Profile {
    pub id: i64,
    pub name: String,
    pub persona: String,
    pub tone: String,
    pub audience: String,
    pub language: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = strategies)]
pub struct Strategy {
    pub id: i64,
    pub name: String,
    pub structure: String,
    pub cta: String,
    pub internal_links: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ProfileInput {
    pub name: String,
    pub persona: String,
    pub tone: String,
    pub audience: String,
    pub language: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct StrategyInput {
    pub name: String,
    pub structure: String,
    pub cta: String,
    pub internal_links: String,
}

pub async fn profiles(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<Vec<Profile>> {
    Ok(author_profiles::table
        .filter(author_profiles::tenant_id.eq(tenant_id))
        .order(author_profiles::name)
        .select(Profile::as_select())
        .load(conn)
        .await?)
}

pub async fn strategies(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<Vec<Strategy>> {
    Ok(strategies::table
        .filter(strategies::tenant_id.eq(tenant_id))
        .order(strategies::name)
        .select(Strategy::as_select())
        .load(conn)
        .await?)
}

pub async fn profile(conn: &mut AsyncPgConnection, tenant_id: i64, id: i64) -> AppResult<Profile> {
    Ok(author_profiles::table
        .filter(author_profiles::tenant_id.eq(tenant_id))
        .filter(author_profiles::id.eq(id))
        .select(Profile::as_select())
        .first(conn)
        .await?)
}

pub async fn strategy(conn: &mut AsyncPgConnection, tenant_id: i64, id: i64) -> AppResult<Strategy> {
    Ok(strategies::table
        .filter(strategies::tenant_id.eq(tenant_id))
        .filter(strategies::id.eq(id))
        .select(Strategy::as_select())
        .first(conn)
        .await?)
}

fn name_taken(e: diesel::result::Error, name: &str) -> AppError {
    if is_unique_violation(&e) { AppError::field("name", format!("“{name}” already exists")) } else { e.into() }
}

/// Creates (id None) or updates a profile.
pub async fn save_profile(state: &AppState, ctx: &TenantCtx, id: Option<i64>, input: &ProfileInput) -> AppResult<i64> {
    ctx.require(Perm::EditContent)?;
    let mut c = Check::new();
    let name = c.text("name", &input.name, "Name", 1, 120);
    let persona = c.multiline("persona", &input.persona, "Persona", 0, 2000);
    let tone = c.text("tone", &input.tone, "Tone", 0, 300);
    let audience = c.text("audience", &input.audience, "Audience", 0, 500);
    let language = match input.language.trim() {
        "" => "English".to_string(),
        l => c.text("language", l, "Language", 1, 60),
    };
    c.finish()?;
    let (tenant_id, who) = (ctx.tenant_id, Who::from(ctx));
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let values = (
            author_profiles::name.eq(&name),
            author_profiles::persona.eq(&persona),
            author_profiles::tone.eq(&tone),
            author_profiles::audience.eq(&audience),
            author_profiles::language.eq(&language),
        );
        let id: i64 = match id {
            None => diesel::insert_into(author_profiles::table)
                .values((author_profiles::tenant_id.eq(tenant_id), values))
                .returning(author_profiles::id)
                .get_result(conn)
                .await
                .map_err(|e| name_taken(e, &name))?,
            Some(id) => {
                diesel::update(author_profiles::table.filter(author_profiles::tenant_id.eq(tenant_id)).filter(author_profiles::id.eq(id)))
                    .set((values, author_profiles::updated_at.eq(diesel::dsl::now)))
                    .returning(author_profiles::id)
                    .get_result(conn)
                    .await
                    .map_err(|e| name_taken(e, &name))?
            }
        };
        audit::record(conn, &who, "author_profile.saved", ("author_profile", id.to_string()), serde_json::json!({ "name": name })).await?;
        Ok(id)
    })
    .await
}

pub async fn save_strategy(state: &AppState, ctx: &TenantCtx, id: Option<i64>, input: &StrategyInput) -> AppResult<i64> {
    ctx.require(Perm::EditContent)?;
    let mut c = Check::new();
    let name = c.text("name", &input.name, "Name", 1, 120);
    let structure = c.multiline("structure", &input.structure, "Structure rules", 0, 2000);
    let cta = c.text("cta", &input.cta, "Call to action", 0, 500);
    let internal_links = c.multiline("internal_links", &input.internal_links, "Internal-link hints", 0, 2000);
    c.finish()?;
    let (tenant_id, who) = (ctx.tenant_id, Who::from(ctx));
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let values = (
            strategies::name.eq(&name),
            strategies::structure.eq(&structure),
            strategies::cta.eq(&cta),
            strategies::internal_links.eq(&internal_links),
        );
        let id: i64 = match id {
            None => diesel::insert_into(strategies::table)
                .values((strategies::tenant_id.eq(tenant_id), values))
                .returning(strategies::id)
                .get_result(conn)
                .await
                .map_err(|e| name_taken(e, &name))?,
            Some(id) => diesel::update(strategies::table.filter(strategies::tenant_id.eq(tenant_id)).filter(strategies::id.eq(id)))
                .set((values, strategies::updated_at.eq(diesel::dsl::now)))
                .returning(strategies::id)
                .get_result(conn)
                .await
                .map_err(|e| name_taken(e, &name))?,
        };
        audit::record(conn, &who, "strategy.saved", ("strategy", id.to_string()), serde_json::json!({ "name": name })).await?;
        Ok(id)
    })
    .await
}

pub async fn delete_profile(state: &AppState, ctx: &TenantCtx, id: i64) -> AppResult<()> {
    ctx.require(Perm::EditContent)?;
    let mut conn = state.db.get().await?;
    let n = diesel::delete(author_profiles::table.filter(author_profiles::tenant_id.eq(ctx.tenant_id)).filter(author_profiles::id.eq(id)))
        .execute(&mut conn)
        .await?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(&mut conn, &Who::from(ctx), "author_profile.deleted", ("author_profile", id.to_string()), serde_json::json!({})).await
}

pub async fn delete_strategy(state: &AppState, ctx: &TenantCtx, id: i64) -> AppResult<()> {
    ctx.require(Perm::EditContent)?;
    let mut conn = state.db.get().await?;
    let n = diesel::delete(strategies::table.filter(strategies::tenant_id.eq(ctx.tenant_id)).filter(strategies::id.eq(id)))
        .execute(&mut conn)
        .await?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(&mut conn, &Who::from(ctx), "strategy.deleted", ("strategy", id.to_string()), serde_json::json!({})).await
}

/// The content prompt's TONE, LANGUAGE, AUTHOR_PROFILE and STRATEGY for a task's picks (neutral when none).
pub fn prompt_values(p: Option<&Profile>, s: Option<&Strategy>) -> Vec<(&'static str, String)> {
    let tone = p.map(|p| p.tone.clone()).filter(|t| !t.is_empty()).unwrap_or_else(|| "clear, helpful and confident".into());
    let language = p.map(|p| p.language.clone()).filter(|l| !l.is_empty()).unwrap_or_else(|| "English".into());
    let author = p.map(|p| format!("Write as {}. Audience: {}.", p.persona, p.audience)).unwrap_or_default();
    let strategy =
        s.map(|s| format!("Structure: {} Call to action: {} Internal links: {}", s.structure, s.cta, s.internal_links)).unwrap_or_default();
    vec![("TONE", tone), ("LANGUAGE", language), ("AUTHOR_PROFILE", author), ("STRATEGY", strategy)]
}
