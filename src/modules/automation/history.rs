//! The run history (`cron_runs`) with each run's outcome read live from its jobs: how many succeeded or
//! failed, and the credits actually spent (net of refunds) by the jobs it queued and the jobs those queued
//! (the image jobs of an image-prompts job). Notices: failed runs and runs skipped for credits, until
//! acknowledged.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Int4, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::run::{RunStatus, Trigger};
use super::step::Step;
use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::db::schema::cron_runs;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenancy::TenantCtx;

#[derive(Debug, Clone, QueryableByName, Serialize)]
pub struct Run {
    #[diesel(sql_type = BigInt)]
    pub tenant_id: i64,
    #[diesel(sql_type = Text)]
    pub tenant_name: String,
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub step: Step,
    #[diesel(sql_type = Timestamptz)]
    pub slot: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub trigger: Trigger,
    #[diesel(sql_type = Text)]
    pub status: RunStatus,
    #[diesel(sql_type = Text)]
    pub reason: String,
    #[diesel(sql_type = Int4)]
    pub picked: i32,
    #[diesel(sql_type = Int4)]
    pub enqueued: i32,
    #[diesel(sql_type = BigInt)]
    pub credits_reserved: i64,
    #[diesel(sql_type = Array<BigInt>)]
    pub job_ids: Vec<i64>,
    #[diesel(sql_type = Bool)]
    pub notice: bool,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub acknowledged_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    pub succeeded: i64,
    #[diesel(sql_type = BigInt)]
    pub failed: i64,
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
    #[diesel(sql_type = BigInt)]
    pub credits_spent: i64,
}

impl Run {
    pub fn open_notice(&self) -> bool {
        self.notice && self.acknowledged_at.is_none()
    }
}

/// Which runs a list shows — the one condition the rows and the count share ($1 tenant or NULL, $2 step or NULL,
/// $3 which).
const MATCHING_SQL: &str = "
    FROM cron_runs cr JOIN tenants t ON t.id = cr.tenant_id
    WHERE ($1::bigint IS NULL OR cr.tenant_id = $1) AND ($2::text IS NULL OR cr.step = $2)
      AND ($3 <> 'notices' OR (cr.notice AND cr.acknowledged_at IS NULL))
      AND ($3 <> 'latest' OR cr.id IN (SELECT DISTINCT ON (l.tenant_id, l.step) l.id FROM cron_runs l
                                      WHERE $1::bigint IS NULL OR l.tenant_id = $1
                                      ORDER BY l.tenant_id, l.step, l.created_at DESC, l.id DESC))";

fn rows_sql() -> String {
    format!(
        "
WITH r AS (
    SELECT cr.*, t.name AS tenant_name {MATCHING_SQL}
    ORDER BY cr.created_at DESC, cr.id DESC LIMIT $4 OFFSET $5
), j AS (
    SELECT r.tenant_id, r.id AS run_id, jb.id, jb.status FROM r
    JOIN jobs jb ON jb.tenant_id = r.tenant_id
     AND (jb.id = ANY(r.job_ids) OR jb.created_by = ANY(ARRAY(SELECT 'job #' || x FROM unnest(r.job_ids) x)))
)
SELECT r.tenant_id, r.tenant_name, r.id, r.step, r.slot, r.trigger, r.status, r.reason, r.picked, r.enqueued, r.credits_reserved,
       r.job_ids, r.notice, r.acknowledged_at, r.created_at,
       (SELECT count(*) FROM j WHERE j.run_id = r.id AND j.tenant_id = r.tenant_id AND j.status = 'succeeded') AS succeeded,
       (SELECT count(*) FROM j WHERE j.run_id = r.id AND j.tenant_id = r.tenant_id AND j.status IN ('failed', 'dead', 'cancelled')) AS failed,
       (SELECT count(*) FROM j WHERE j.run_id = r.id AND j.tenant_id = r.tenant_id AND j.status IN ('queued', 'running')) AS pending,
       (SELECT coalesce(-sum(l.delta), 0)::bigint FROM credit_ledger l
         WHERE l.tenant_id = r.tenant_id AND l.reference IN (SELECT 'job:' || j.id FROM j WHERE j.run_id = r.id AND j.tenant_id = r.tenant_id)) AS credits_spent
FROM r ORDER BY r.created_at DESC, r.id DESC"
    )
}

/// Which runs a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    All,
    /// Failed or credit-starved runs not acknowledged yet.
    Notices,
    /// The last run of each step.
    Latest,
}

impl Which {
    fn as_str(&self) -> &'static str {
        match self {
            Which::All => "all",
            Which::Notices => "notices",
            Which::Latest => "latest",
        }
    }
}

/// Runs, newest first: one workspace's (or every workspace's for the System page), optionally one step.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant_id: Option<i64>,
    step: Option<&str>,
    which: Which,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<Run>> {
    Ok(diesel::sql_query(rows_sql())
        .bind::<Nullable<BigInt>, _>(tenant_id)
        .bind::<Nullable<Text>, _>(step)
        .bind::<Text, _>(which.as_str())
        .bind::<BigInt, _>(limit)
        .bind::<BigInt, _>(offset)
        .load(conn)
        .await?)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many runs `list` would page through: the rows' own condition.
pub async fn count(conn: &mut AsyncPgConnection, tenant_id: Option<i64>, step: Option<&str>, which: Which) -> AppResult<i64> {
    let c: Count = diesel::sql_query(format!("SELECT count(*) AS n {MATCHING_SQL}"))
        .bind::<Nullable<BigInt>, _>(tenant_id)
        .bind::<Nullable<Text>, _>(step)
        .bind::<Text, _>(which.as_str())
        .get_result(conn)
        .await?;
    Ok(c.n)
}

/// Marks a notice seen (anyone who can see the workspace may).
pub async fn acknowledge(state: &AppState, ctx: &TenantCtx, run_id: i64) -> AppResult<()> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let n = diesel::update(
        cron_runs::table.filter(cron_runs::tenant_id.eq(ctx.tenant_id)).filter(cron_runs::id.eq(run_id)).filter(cron_runs::notice.eq(true)),
    )
    .set(cron_runs::acknowledged_at.eq(diesel::dsl::now))
    .execute(&mut conn)
    .await?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(&mut conn, &Who::from(ctx), "automation.notice_acknowledged", ("cron_run", run_id.to_string()), serde_json::json!({}))
        .await
}

/// A step as the automation page shows it: its settings, cadence, last run and next slot.
#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    pub settings: super::settings::StepSettings,
    pub cadence: String,
    pub next_run: Option<DateTime<Utc>>,
    pub last: Option<Run>,
}

pub async fn overview(conn: &mut AsyncPgConnection, tenant_id: i64, s: &super::settings::Settings) -> AppResult<Vec<StepView>> {
    let system = super::cadence::all(conn).await?;
    // One query for every step's last run.
    let mut latest = list(conn, Some(tenant_id), None, Which::Latest, 50, 0).await?;
    let out = super::step::Step::ALL
        .iter()
        .map(|step| {
            let cadence = system.get(&step.scheduled().cron_key()).cloned().unwrap_or_default();
            let last = latest.iter().position(|r| r.step == *step).map(|i| latest.swap_remove(i));
            StepView { settings: s.step(*step), next_run: super::schedule::next_slot(&cadence, Utc::now()), cadence, last }
        })
        .collect();
    Ok(out)
}
