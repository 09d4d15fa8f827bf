//! The credit ledger as a list: filtered by reason and by day, newest first, paged on the billing page and its
//! API, and exported as CSV with the same filter (one `matching` query behind all three).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use crate::db::DbPool;
use crate::db::schema::credit_ledger;
use crate::error::{AppError, AppResult};
use crate::listing::{Filter, PageParams, date_field, day_after, day_start};
use crate::web::csv::cell;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = credit_ledger)]
pub struct LedgerRow {
    pub id: i64,
    pub delta: i64,
    pub reason: String,
    pub reference: String,
    pub balance_after: i64,
    pub created_at: DateTime<Utc>,
    /// The job kind behind a job's entry.
    pub action: Option<String>,
}

/// Every reason an entry can have, with what the billing page calls it.
pub const REASONS: [(&str, &str); 8] = [
    (crate::billing::webhook::PLAN_CREDITS, "Plan credits"),
    (crate::billing::webhook::CREDIT_PACK, "Credit pack"),
    (crate::jobs::queue::RESERVE, "Reserved for AI work"),
    (crate::jobs::queue::SETTLE, "Settled (unused credits back)"),
    (crate::jobs::queue::REFUND, "Refunded (work failed)"),
    (crate::jobs::queue::SAMPLE, "Sample work (free)"),
    (crate::billing::operator::ADJUSTMENT, "Adjustment by support"),
    ("migration", "Balance carried over from the plugin"),
];

/// The ledger's filters as the URL gives them (read leniently: an unknown reason or a bad date means "all").
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct LedgerFilter {
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

impl Filter for LedgerFilter {
    fn fields(&self) -> Vec<(&'static str, &str)> {
        vec![("reason", &self.reason), ("from", &self.from), ("to", &self.to)]
    }
}

impl LedgerFilter {
    fn reason(&self) -> Option<&'static str> {
        REASONS.iter().map(|(r, _)| *r).find(|r| *r == self.reason.trim())
    }
    pub fn is_filtered(&self) -> bool {
        self.reason().is_some() || date_field(&self.from).is_some() || date_field(&self.to).is_some()
    }
}

/// The workspace's entries narrowed by the filter: rows, count and export all start here.
fn matching<'a>(tenant_id: i64, f: &LedgerFilter) -> credit_ledger::BoxedQuery<'a, diesel::pg::Pg> {
    let mut q = credit_ledger::table.filter(credit_ledger::tenant_id.eq(tenant_id)).into_boxed();
    if let Some(r) = f.reason() {
        q = q.filter(credit_ledger::reason.eq(r));
    }
    if let Some(d) = date_field(&f.from) {
        q = q.filter(credit_ledger::created_at.ge(day_start(d)));
    }
    if let Some(d) = date_field(&f.to) {
        q = q.filter(credit_ledger::created_at.lt(day_after(d)));
    }
    q
}

pub async fn list(conn: &mut AsyncPgConnection, tenant_id: i64, f: &LedgerFilter, page: &PageParams) -> AppResult<(Vec<LedgerRow>, i64)> {
    let total: i64 = matching(tenant_id, f).count().get_result(conn).await?;
    let rows = matching(tenant_id, f)
        .select(LedgerRow::as_select())
        .order((credit_ledger::created_at.desc(), credit_ledger::id.desc()))
        .limit(page.per_page())
        .offset(page.offset())
        .load(conn)
        .await?;
    Ok((rows, total))
}

/// Oldest first, so the balance reads down the file and entries posted during the download only add to its end.
async fn load_oldest_first(
    conn: &mut AsyncPgConnection,
    tenant_id: i64,
    f: &LedgerFilter,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<LedgerRow>> {
    Ok(matching(tenant_id, f)
        .select(LedgerRow::as_select())
        .order((credit_ledger::created_at.asc(), credit_ledger::id.asc()))
        .limit(limit)
        .offset(offset)
        .load(conn)
        .await?)
}

const CSV_PAGE: i64 = 5_000;
const CSV_HEADER: &str = "When (UTC),Reason,Action,Reference,Change,Balance after\r\n";

fn csv_line(r: &LedgerRow) -> String {
    format!(
        "{},{},{},{},{},{}\r\n",
        r.created_at.format("%Y-%m-%d %H:%M:%S"),
        cell(&r.reason),
        cell(r.action.as_deref().unwrap_or("")),
        cell(&r.reference),
        r.delta,
        r.balance_after
    )
}

/// The filtered ledger as a streamed CSV download, oldest entry first.
pub fn csv(pool: DbPool, tenant_id: i64, f: LedgerFilter) -> actix_web::HttpResponse {
    let f = std::sync::Arc::new(f);
    crate::web::csv::download("credit-ledger.csv", CSV_HEADER, CSV_PAGE, move |offset| {
        let (pool, f) = (pool.clone(), f.clone());
        async move {
            let mut conn = pool.get().await?;
            let rows = load_oldest_first(&mut conn, tenant_id, &f, CSV_PAGE, offset).await?;
            Ok::<_, AppError>((rows.iter().map(csv_line).collect(), rows.len() as i64))
        }
    })
}
