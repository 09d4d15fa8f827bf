//! The `ai_calls` log: one row per provider call, with tokens, cost from `model_rates`, latency, outcome.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use crate::app::AppState;
use crate::db::schema::{ai_calls, model_rates};
use crate::error::AppResult;
use crate::web::pagination::PageParams;

pub struct CallRecord<'a> {
    pub tenant_id: i64,
    pub job_id: Option<i64>,
    pub provider: &'a str,
    pub model: &'a str,
    pub operation: &'a str,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub images: i64,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// Price of a call in micro-dollars: tokens × rate per million, plus images × rate per image.
pub fn cost_micros(rates: (i64, i64, i64), tokens_in: i64, tokens_out: i64, images: i64) -> i64 {
    let (per_in, per_out, per_image) = rates;
    (tokens_in * per_in + tokens_out * per_out) / 1_000_000 + images * per_image
}

/// Writes the row. A logging failure must not fail the AI work itself, so it is only logged.
pub async fn record(state: &AppState, rec: CallRecord<'_>) {
    let res = async {
        let mut conn = state.db.get().await?;
        let rates: Option<(i64, i64, i64)> = model_rates::table
            .find((rec.provider, rec.model))
            .select((model_rates::input_per_mtok_micros, model_rates::output_per_mtok_micros, model_rates::per_image_micros))
            .first(&mut conn)
            .await
            .optional()?;
        let cost = if rec.error.is_none() { cost_micros(rates.unwrap_or((0, 0, 0)), rec.tokens_in, rec.tokens_out, rec.images) } else { 0 };
        diesel::insert_into(ai_calls::table)
            .values((
                ai_calls::tenant_id.eq(rec.tenant_id),
                ai_calls::job_id.eq(rec.job_id),
                ai_calls::provider.eq(rec.provider),
                ai_calls::model.eq(rec.model),
                ai_calls::operation.eq(rec.operation),
                ai_calls::tokens_in.eq(rec.tokens_in.min(i32::MAX as i64) as i32),
                ai_calls::tokens_out.eq(rec.tokens_out.min(i32::MAX as i64) as i32),
                ai_calls::images.eq(rec.images as i32),
                ai_calls::cost_micros.eq(cost),
                ai_calls::latency_ms.eq(rec.latency_ms.min(i32::MAX as i64) as i32),
                ai_calls::status.eq(if rec.error.is_none() { "ok" } else { "error" }),
                ai_calls::error.eq(rec.error.as_deref().map(|e| e.chars().take(1000).collect::<String>())),
            ))
            .execute(&mut conn)
            .await?;
        Ok::<_, crate::error::AppError>(())
    };
    if let Err(e) = res.await {
        tracing::warn!(error = %e, "could not record an AI call");
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = ai_calls)]
pub struct AiCall {
    pub id: i64,
    pub job_id: Option<i64>,
    pub provider: String,
    pub model: String,
    pub operation: String,
    pub tokens_in: i32,
    pub tokens_out: i32,
    pub images: i32,
    pub cost_micros: i64,
    pub latency_ms: i32,
    pub status: String,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl AiCall {
    pub fn cost_usd(&self) -> String {
        format!("${:.4}", self.cost_micros as f64 / 1e6)
    }
}

pub async fn list(conn: &mut AsyncPgConnection, tenant_id: i64, status: &str, page: &PageParams) -> AppResult<(Vec<AiCall>, i64)> {
    let build = || {
        let mut q = ai_calls::table.filter(ai_calls::tenant_id.eq(tenant_id)).into_boxed();
        if matches!(status, "ok" | "error") {
            q = q.filter(ai_calls::status.eq(status.to_string()));
        }
        q
    };
    let total = build().count().get_result(conn).await?;
    let rows = build()
        .select(AiCall::as_select())
        .order((ai_calls::created_at.desc(), ai_calls::id.desc()))
        .limit(page.per_page())
        .offset(page.offset())
        .load(conn)
        .await?;
    Ok((rows, total))
}

#[derive(Debug, Clone, QueryableByName, Serialize)]
pub struct DailyTotal {
    #[diesel(sql_type = diesel::sql_types::Date)]
    pub day: NaiveDate,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub model: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub calls: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub cost_micros: i64,
}

impl DailyTotal {
    pub fn cost_usd(&self) -> String {
        format!("${:.4}", self.cost_micros as f64 / 1e6)
    }
}

/// Cost totals by day and model over the last 30 days.
pub async fn daily_totals(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<Vec<DailyTotal>> {
    Ok(diesel::sql_query(
        "SELECT (created_at AT TIME ZONE 'UTC')::date AS day, model, count(*)::bigint AS calls, coalesce(sum(cost_micros), 0)::bigint AS cost_micros \
         FROM ai_calls WHERE tenant_id = $1 AND created_at > now() - interval '30 days' \
         GROUP BY 1, 2 ORDER BY 1 DESC, 2",
    )
    .bind::<diesel::sql_types::BigInt, _>(tenant_id)
    .load(conn)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_follow_the_seed_rates() {
        // gpt-4o-mini: $0.15 / $0.60 per 1M tokens.
        assert_eq!(cost_micros((150_000, 600_000, 0), 1_000_000, 1_000_000, 0), 750_000);
        assert_eq!(cost_micros((150_000, 600_000, 0), 2_000, 500, 0), 600);
        // dall-e-3: $0.04 per image.
        assert_eq!(cost_micros((0, 0, 40_000), 0, 0, 2), 80_000);
    }
}
