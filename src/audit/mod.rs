//! The audit trail: every state-changing action writes one row, in the same transaction as the change.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use crate::db::like_pattern;
use crate::db::schema::audit_events;
use crate::error::AppResult;
use crate::listing::PageParams;
use crate::listing::{Filter, date_field, day_after, day_start};
use crate::tenancy::TenantCtx;

/// Who did it, where.
#[derive(Debug, Clone)]
pub struct Who {
    pub tenant_id: i64,
    pub user_id: Option<i64>,
    pub label: String,
    pub ip: Option<String>,
}

impl From<&TenantCtx> for Who {
    fn from(ctx: &TenantCtx) -> Self {
        Who { tenant_id: ctx.tenant_id, user_id: ctx.user_id(), label: ctx.actor_label(), ip: ctx.ip.clone() }
    }
}

pub async fn record(
    conn: &mut AsyncPgConnection,
    who: &Who,
    action: &str,
    target: (&str, String),
    detail: serde_json::Value,
) -> AppResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::tenant_id.eq(who.tenant_id),
            audit_events::actor_user_id.eq(who.user_id),
            audit_events::actor_label.eq(&who.label),
            audit_events::action.eq(action),
            audit_events::target_type.eq(target.0),
            audit_events::target_id.eq(target.1),
            audit_events::detail.eq(detail),
            audit_events::ip.eq(&who.ip),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: i64,
    pub actor_label: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub detail: serde_json::Value,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl AuditEvent {
    pub fn detail_text(&self) -> String {
        match &self.detail {
            serde_json::Value::Object(m) if m.is_empty() => String::new(),
            v => v.to_string(),
        }
    }
}

/// Filters of the audit list (System page and API share them).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AuditFilter {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

impl Filter for AuditFilter {
    fn fields(&self) -> Vec<(&'static str, &str)> {
        vec![("action", &self.action), ("actor", &self.actor), ("target", &self.target), ("from", &self.from), ("to", &self.to)]
    }
}

/// The workspace's events narrowed by the filter: rows and count both start here.
fn matching<'a>(tenant_id: i64, f: &AuditFilter) -> audit_events::BoxedQuery<'a, diesel::pg::Pg> {
    let mut q = audit_events::table.filter(audit_events::tenant_id.eq(tenant_id)).into_boxed();
    if !f.action.trim().is_empty() {
        q = q.filter(audit_events::action.like(format!("{}%", f.action.trim().replace(['%', '_'], ""))));
    }
    if !f.actor.trim().is_empty() {
        q = q.filter(audit_events::actor_label.ilike(like_pattern(f.actor.trim())));
    }
    if !f.target.trim().is_empty() {
        q = q.filter(audit_events::target_id.eq(f.target.trim().to_string()));
    }
    if let Some(d) = date_field(&f.from) {
        q = q.filter(audit_events::created_at.ge(day_start(d)));
    }
    if let Some(d) = date_field(&f.to) {
        q = q.filter(audit_events::created_at.lt(day_after(d)));
    }
    q
}

pub async fn list(conn: &mut AsyncPgConnection, tenant_id: i64, f: &AuditFilter, page: &PageParams) -> AppResult<(Vec<AuditEvent>, i64)> {
    let total: i64 = matching(tenant_id, f).count().get_result(conn).await?;
    let rows = matching(tenant_id, f)
        .select(AuditEvent::as_select())
        .order((audit_events::created_at.desc(), audit_events::id.desc()))
        .limit(page.per_page())
        .offset(page.offset())
        .load(conn)
        .await?;
    Ok((rows, total))
}

/// The latest events, without counting (the dashboard's feed).
pub async fn recent(conn: &mut AsyncPgConnection, tenant_id: i64, n: i64) -> AppResult<Vec<AuditEvent>> {
    Ok(audit_events::table
        .filter(audit_events::tenant_id.eq(tenant_id))
        .select(AuditEvent::as_select())
        .order((audit_events::created_at.desc(), audit_events::id.desc()))
        .limit(n)
        .load(conn)
        .await?)
}

pub async fn get(conn: &mut AsyncPgConnection, tenant_id: i64, id: i64) -> AppResult<AuditEvent> {
    Ok(audit_events::table
        .filter(audit_events::tenant_id.eq(tenant_id))
        .filter(audit_events::id.eq(id))
        .select(AuditEvent::as_select())
        .first(conn)
        .await?)
}

/// Distinct action names of a tenant, for the filter's choices.
pub async fn actions(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<Vec<String>> {
    Ok(audit_events::table
        .filter(audit_events::tenant_id.eq(tenant_id))
        .select(audit_events::action)
        .distinct()
        .order(audit_events::action.asc())
        .limit(200)
        .load(conn)
        .await?)
}
