//! The credit ledger: the only writer of credit balances. A tenant's balance is always Σ delta of its
//! rows; `tenants.credits_balance` caches that sum and is updated in the same transaction as each row.

use chrono::Datelike;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::schema::{credit_ledger, tenants};
use crate::error::{AppError, AppResult};

#[derive(Debug, PartialEq, Eq)]
pub enum Posted {
    /// A new row; the balance after it.
    New(i64),
    /// The same (reason, reference) was posted before; nothing changed.
    AlreadyPosted(i64),
}

/// One round trip: lock the tenant row, insert the entry (idempotent on reason + reference) with the
/// balance after it, and move the cached balance to it — the last two only when the entry is new.
const POST_SQL: &str = "
WITH cur AS (SELECT credits_balance FROM tenants WHERE id = $1 FOR UPDATE),
ins AS (
    INSERT INTO credit_ledger (tenant_id, delta, reason, reference, balance_after, action)
    SELECT $1, $2, $3, $4, cur.credits_balance + $2, $5 FROM cur
    ON CONFLICT (tenant_id, reason, reference) DO NOTHING
    RETURNING balance_after
),
upd AS (
    UPDATE tenants SET credits_balance = ins.balance_after, updated_at = now()
    FROM ins WHERE tenants.id = $1
    RETURNING 1
)
SELECT (SELECT credits_balance FROM cur) AS before, (SELECT balance_after FROM ins) AS after,
       (SELECT count(*) FROM upd) AS updated";

#[derive(QueryableByName)]
struct PostRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    before: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    after: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    #[allow(dead_code)]
    updated: i64,
}

/// Posts one entry. Call inside a transaction: it locks the tenant row so concurrent posts serialise.
/// Idempotent on (tenant, reason, reference).
pub async fn post_in_tx(conn: &mut AsyncPgConnection, tenant_id: i64, delta: i64, reason: &str, reference: &str) -> AppResult<Posted> {
    post(conn, tenant_id, delta, reason, reference, None).await
}

/// Posts a job's entry (its reservation, settlement, refund or sample mark), labelled with the job's kind so
/// usage by action outlives the job row.
pub async fn post_for_job_in_tx(
    conn: &mut AsyncPgConnection,
    tenant_id: i64,
    delta: i64,
    reason: &str,
    job_id: i64,
    kind: &str,
) -> AppResult<Posted> {
    post(conn, tenant_id, delta, reason, &format!("job:{job_id}"), Some(kind)).await
}

async fn post(
    conn: &mut AsyncPgConnection,
    tenant_id: i64,
    delta: i64,
    reason: &str,
    reference: &str,
    action: Option<&str>,
) -> AppResult<Posted> {
    use diesel::sql_types::{BigInt, Nullable, Text};
    let row: PostRow = diesel::sql_query(POST_SQL)
        .bind::<BigInt, _>(tenant_id)
        .bind::<BigInt, _>(delta)
        .bind::<Text, _>(reason)
        .bind::<Text, _>(reference)
        .bind::<Nullable<Text>, _>(action)
        .get_result(conn)
        .await?;
    let before = row.before.ok_or(AppError::NotFound)?;
    Ok(match row.after {
        Some(after) => Posted::New(after),
        None => Posted::AlreadyPosted(before),
    })
}

/// Locks the tenant's balance for this transaction and refuses (402) unless it covers `amount`.
/// Transactions that will post to the ledger and also lock other rows take this lock first, so they
/// always lock in the same order (tenant, then the rest) and cannot deadlock each other.
pub async fn lock_and_check(conn: &mut AsyncPgConnection, tenant_id: i64, amount: i64) -> AppResult<i64> {
    let (balance, cap): (i64, Option<i64>) =
        tenants::table.find(tenant_id).select((tenants::credits_balance, tenants::monthly_credit_cap)).for_update().first(conn).await?;
    if let Some(cap) = cap.filter(|_| amount > 0) {
        let spent = spent_this_month(conn, tenant_id).await?;
        if spent + amount > cap {
            return Err(AppError::PaymentRequired(format!(
                "This needs {amount} credit{} and would pass the workspace's monthly cap of {cap} ({spent} spent this month). \
                 An owner can raise the cap on the Billing page.",
                if amount == 1 { "" } else { "s" }
            )));
        }
    }
    if balance < amount {
        return Err(AppError::PaymentRequired(format!(
            "This needs {amount} credit{} and the workspace has {balance}. Top up or upgrade on the Billing page.",
            if amount == 1 { "" } else { "s" }
        )));
    }
    Ok(balance)
}

/// Credits spent by jobs since the start of this calendar month (UTC): reservations minus refunds and
/// returned settlements.
pub async fn spent_this_month(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<i64> {
    let month_start = chrono::Utc::now().date_naive().with_day(1).expect("day 1 exists").and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let net: Option<i64> = credit_ledger::table
        .filter(credit_ledger::tenant_id.eq(tenant_id))
        .filter(credit_ledger::reason.eq_any([crate::jobs::queue::RESERVE, crate::jobs::queue::SETTLE, crate::jobs::queue::REFUND]))
        .filter(credit_ledger::created_at.ge(month_start))
        .select(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>>("sum(delta)::bigint"))
        .first(conn)
        .await?;
    Ok(-net.unwrap_or(0))
}

/// Sets or clears the monthly cap (owners only).
pub async fn set_monthly_cap(state: &crate::state::AppState, ctx: &crate::tenancy::TenantCtx, cap: Option<i64>) -> AppResult<()> {
    ctx.require(crate::auth::rbac::Perm::ManageBilling)?;
    if let Some(c) = cap
        && !(0..=10_000_000).contains(&c)
    {
        return Err(AppError::field(
            "monthly_credit_cap",
            "Enter a whole number of credits from 0 to 10,000,000, or leave it empty for no cap",
        ));
    }
    let mut conn = state.db.get().await?;
    let who = crate::audit::Who::from(ctx);
    diesel_async::AsyncConnection::transaction::<_, AppError, _>(&mut conn, async move |conn| {
        diesel::update(tenants::table.find(who.tenant_id)).set(tenants::monthly_credit_cap.eq(cap)).execute(conn).await?;
        crate::audit::record(
            conn,
            &who,
            "billing.monthly_cap_set",
            ("tenant", who.tenant_id.to_string()),
            serde_json::json!({ "cap": cap }),
        )
        .await
    })
    .await
}

/// Σ delta, straight from the rows (what the cached balance must always equal).
pub async fn sum(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<i64> {
    let total: Option<i64> = credit_ledger::table
        .filter(credit_ledger::tenant_id.eq(tenant_id))
        .select(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>>("sum(delta)::bigint"))
        .first(conn)
        .await?;
    Ok(total.unwrap_or(0))
}
