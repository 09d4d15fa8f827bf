//! Credits spent on AI work, by day and by action, straight from the ledger: the job entries (reservations,
//! settlements, refunds) summed per UTC day and per job kind. The billing page and the dashboard draw the same
//! figures with [`chart`], so what a chart shows is always what the ledger says.

use chrono::{Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::AppResult;
use crate::jobs::queue::{REFUND, RESERVE, SETTLE};
use crate::web::chart::StackedBars;

/// Net credits spent on one action on one day (refunds posted that day count against it).
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName, serde::Serialize)]
pub struct DayUsage {
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    #[diesel(sql_type = Text)]
    pub action: String,
    #[diesel(sql_type = BigInt)]
    pub credits: i64,
}

const USAGE_SQL: &str = "
SELECT (created_at AT TIME ZONE 'UTC')::date AS day, coalesce(action, 'other') AS action, (-sum(delta))::bigint AS credits
  FROM credit_ledger
 WHERE tenant_id = $1 AND reason IN ($2, $3, $4) AND created_at >= ($5::date)::timestamp AT TIME ZONE 'UTC'
 GROUP BY 1, 2
HAVING sum(delta) <> 0
 ORDER BY 1, 2";

/// The first day of a window of `days` UTC days that ends today.
pub fn window_start(days: i64) -> NaiveDate {
    Utc::now().date_naive() - Duration::days(days.max(1) - 1)
}

/// Net credits per (day, action) from `from` (a UTC day) to now; (day, action) pairs that net to zero are left out.
pub async fn by_day(conn: &mut AsyncPgConnection, tenant_id: i64, from: NaiveDate) -> AppResult<Vec<DayUsage>> {
    Ok(diesel::sql_query(USAGE_SQL)
        .bind::<BigInt, _>(tenant_id)
        .bind::<Text, _>(RESERVE)
        .bind::<Text, _>(SETTLE)
        .bind::<Text, _>(REFUND)
        .bind::<Date, _>(from)
        .load(conn)
        .await?)
}

/// The last `days` UTC days of spending as a stacked bar chart, one series per action.
pub async fn chart(conn: &mut AsyncPgConnection, tenant_id: i64, days: i64) -> AppResult<StackedBars> {
    let from = window_start(days);
    let points: Vec<(NaiveDate, String, i64)> =
        by_day(conn, tenant_id, from).await?.into_iter().map(|u| (u.day, u.action, u.credits)).collect();
    Ok(StackedBars::new(&format!("Credits spent per day, last {days} days"), from, days, &points, |a| action_label(a).to_string()))
}

/// What a job kind is called on the billing page and the dashboard.
pub fn action_label(action: &str) -> &'static str {
    use crate::modules::{planner, writer};
    match action {
        writer::generate::JOB_KIND => "Articles",
        writer::image_jobs::IMAGE_KIND => "Images",
        writer::image_jobs::PROMPTS_KIND => "Image prompts",
        writer::reparse::JOB_KIND => "Reparsing",
        planner::clustering::ai::JOB_KIND => "Clustering",
        planner::ideas::generate::JOB_KIND => "Ideas",
        crate::ai::jobs::PROMPT => "Prompt tests",
        crate::ai::jobs::IMAGE_TEST => "Image tests",
        _ => "Other AI work",
    }
}
