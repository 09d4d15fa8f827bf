//! Reading jobs for the System page and API, and the manual "retry" of a finished job.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use crate::audit::{self, Who};
use crate::db::DbPool;
use crate::db::schema::jobs;
use crate::error::{AppError, AppResult};
use crate::jobs::kind::{JobStatus, Subject, SubjectKind};
use crate::jobs::queue::{NewJob, enqueue_in_tx};
use crate::listing::PageParams;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    pub id: i64,
    pub tenant_id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub status: JobStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub result: Option<serde_json::Value>,
    pub credits: i64,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub subject_type: Option<SubjectKind>,
    pub subject_id: Option<i64>,
    /// Priced as free sample work (and run as such).
    pub sample: bool,
}

impl JobRow {
    pub fn can_cancel(&self) -> bool {
        self.status.is_open()
    }
    pub fn can_retry(&self) -> bool {
        matches!(self.status, JobStatus::Failed | JobStatus::Dead | JobStatus::Cancelled)
    }
    pub fn payload_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.payload).unwrap_or_default()
    }
    pub fn result_pretty(&self) -> String {
        self.result.as_ref().map(|r| serde_json::to_string_pretty(r).unwrap_or_default()).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct JobFilter {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub kind: String,
    /// System administrators only: "all" or a tenant id; others always see their own tenant.
    #[serde(default)]
    pub tenant: String,
}

/// Whose jobs a list shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scope {
    Tenant(i64),
    AllTenants,
}

impl crate::listing::Filter for JobFilter {
    fn fields(&self) -> Vec<(&'static str, &str)> {
        vec![("status", &self.status), ("kind", &self.kind), ("tenant", &self.tenant)]
    }
}

impl JobFilter {
    pub fn scope(&self, own_tenant: i64, is_system_admin: bool) -> Scope {
        match (is_system_admin, self.tenant.trim()) {
            (true, "all") => Scope::AllTenants,
            (true, t) => t.parse().map(Scope::Tenant).unwrap_or(Scope::Tenant(own_tenant)),
            (false, _) => Scope::Tenant(own_tenant),
        }
    }
}

/// The jobs in `scope` narrowed by the filter: rows and count both start here.
fn matching<'a>(scope: Scope, f: &JobFilter) -> jobs::BoxedQuery<'a, diesel::pg::Pg> {
    let mut q = jobs::table.into_boxed();
    if let Scope::Tenant(tenant_id) = scope {
        q = q.filter(jobs::tenant_id.eq(tenant_id));
    }
    if let Some(status) = JobStatus::parse(&f.status) {
        q = q.filter(jobs::status.eq(status));
    }
    if !f.kind.trim().is_empty() {
        q = q.filter(jobs::kind.eq(f.kind.trim().to_string()));
    }
    q
}

pub async fn list(conn: &mut AsyncPgConnection, scope: Scope, f: &JobFilter, page: &PageParams) -> AppResult<(Vec<JobRow>, i64)> {
    let total = matching(scope, f).count().get_result(conn).await?;
    let rows = matching(scope, f)
        .select(JobRow::as_select())
        .order((jobs::created_at.desc(), jobs::id.desc()))
        .limit(page.per_page())
        .offset(page.offset())
        .load(conn)
        .await?;
    Ok((rows, total))
}

pub async fn get(conn: &mut AsyncPgConnection, tenant_id: i64, id: i64) -> AppResult<JobRow> {
    Ok(jobs::table.filter(jobs::tenant_id.eq(tenant_id)).filter(jobs::id.eq(id)).select(JobRow::as_select()).first(conn).await?)
}

/// Jobs per status, for the live counters.
pub async fn counts(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<Vec<(JobStatus, i64)>> {
    let rows: Vec<(JobStatus, i64)> = jobs::table
        .filter(jobs::tenant_id.eq(tenant_id))
        .group_by(jobs::status)
        .select((jobs::status, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    Ok(JobStatus::ALL.iter().map(|s| (*s, rows.iter().find(|(st, _)| st == s).map(|(_, n)| *n).unwrap_or(0))).collect())
}

/// Runs a failed, dead or cancelled job again as a new job (with a new credit reservation).
pub async fn retry(pool: &DbPool, who: &Who, id: i64) -> AppResult<i64> {
    let mut conn = pool.get().await?;
    let old = get(&mut conn, who.tenant_id, id).await?;
    if !old.can_retry() {
        return Err(AppError::Conflict(format!("Only failed, dead or cancelled jobs can be retried; this one is {}", old.status)));
    }
    let job = NewJob {
        tenant_id: who.tenant_id,
        kind: old.kind.clone(),
        payload: old.payload.clone(),
        subject: old.subject_type.zip(old.subject_id).map(|(kind, id)| Subject { kind, id }),
        credits: old.credits,
        // At the old price, so as the old kind of work: a sample stays a sample (a paid provider set up since then
        // is used by asking again, at its price).
        sample: old.sample,
        max_attempts: old.max_attempts,
        idempotency_key: None,
        created_by: who.label.clone(),
    };
    let (label, tenant_id, user_id, ip) = (who.label.clone(), who.tenant_id, who.user_id, who.ip.clone());
    conn.transaction::<_, AppError, _>(async move |conn| {
        let new_id = enqueue_in_tx(conn, &job).await?;
        let who = Who { tenant_id, user_id, label, ip };
        audit::record(conn, &who, "job.retried", ("job", id.to_string()), serde_json::json!({ "new_job": new_id })).await?;
        Ok(new_id)
    })
    .await
}
