//! The `ai_calls` log: one row per provider call, with tokens, cost from `model_rates`, latency, outcome.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::access::Source;
use crate::db::schema::{ai_calls, model_rates};
use crate::error::AppError;
use crate::error::AppResult;
use crate::listing::PageParams;
use crate::state::AppState;
use crate::tenancy::{Actor, TenantCtx};
use crate::validate::Check;

crate::text_enum! {
    /// `ai_calls.status`: started (the call is out), then ok or error when it returns — or interrupted when its
    /// process stopped during the call.
    pub enum CallStatus {
        Started = "started",
        Ok = "ok",
        Error = "error",
        Interrupted = "interrupted",
    }
}

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
    /// Whose account served it (set by the router; the platform's unless said otherwise).
    pub source: Source,
}

impl<'a> CallRecord<'a> {
    /// A call that took since `started` and ended with `error` (None = success); usage fields are 0.
    pub fn finished(
        tenant_id: i64,
        job_id: Option<i64>,
        provider: &'a str,
        model: &'a str,
        operation: &'a str,
        started: std::time::Instant,
        error: Option<String>,
    ) -> Self {
        CallRecord {
            tenant_id,
            job_id,
            provider,
            model,
            operation,
            tokens_in: 0,
            tokens_out: 0,
            images: 0,
            latency_ms: started.elapsed().as_millis() as i64,
            error,
            source: Source::Platform,
        }
    }
}

/// Notes a call as it starts (status `started`), so a call the process never saw the end of — killed, or its
/// machine lost — is still in the log (the reaper marks it `interrupted`): the log counts every call the provider
/// may bill. Dated `admitted`, the moment the rate limit let it out. None when the row could not be written;
/// `finish` then writes the whole row at the end.
#[allow(clippy::too_many_arguments)]
pub async fn start(
    state: &AppState,
    tenant_id: i64,
    job_id: Option<i64>,
    provider: &str,
    model: &str,
    operation: &str,
    source: Source,
    admitted: DateTime<Utc>,
) -> Option<i64> {
    let res = async {
        let mut conn = state.db.get().await?;
        diesel::insert_into(ai_calls::table)
            .values((
                ai_calls::tenant_id.eq(tenant_id),
                ai_calls::job_id.eq(job_id),
                ai_calls::provider.eq(provider),
                ai_calls::model.eq(model),
                ai_calls::operation.eq(operation),
                ai_calls::status.eq(CallStatus::Started),
                ai_calls::source.eq(source),
                ai_calls::created_at.eq(admitted),
            ))
            .returning(ai_calls::id)
            .get_result::<i64>(&mut conn)
            .await
            .map_err(AppError::from)
    };
    res.await.inspect_err(|e| tracing::warn!(error = %e, "could not note the start of an AI call")).ok()
}

/// Writes the outcome of the call noted by `start` (or the whole row when `started` is None), pricing it from
/// `model_rates` in the same statement. A logging failure must not fail the AI work itself, so it is only logged.
pub async fn finish(state: &AppState, started: Option<i64>, rec: CallRecord<'_>) {
    use diesel::sql_types::{BigInt, Integer, Nullable, Text};
    const PRICE: &str = "CASE WHEN $10 = 'ok' THEN coalesce((SELECT ($6::bigint * r.input_per_mtok_micros + $7::bigint * r.output_per_mtok_micros) / 1000000
                                                      + $8::bigint * r.per_image_micros
                                                   FROM model_rates r WHERE r.provider = $3 AND r.model = $4), 0) ELSE 0 END";
    let sql = match started {
        Some(_) => format!(
            "UPDATE ai_calls SET tokens_in = $6, tokens_out = $7, images = $8, cost_micros = {PRICE}, latency_ms = $9, status = $10,
                                 error = $11
             WHERE tenant_id = $1 AND id = $12"
        ),
        None => format!(
            "INSERT INTO ai_calls (tenant_id, job_id, provider, model, operation, tokens_in, tokens_out, images,
                                   cost_micros, latency_ms, status, error, source)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, {PRICE}, $9, $10, $11, $13 WHERE $12::bigint IS NULL"
        ),
    };
    let clamp = |v: i64| v.clamp(0, i32::MAX as i64) as i32;
    let res = async {
        let mut conn = state.db.get().await?;
        diesel::sql_query(sql)
            .bind::<BigInt, _>(rec.tenant_id)
            .bind::<Nullable<BigInt>, _>(rec.job_id)
            .bind::<Text, _>(rec.provider)
            .bind::<Text, _>(rec.model)
            .bind::<Text, _>(rec.operation)
            .bind::<Integer, _>(clamp(rec.tokens_in))
            .bind::<Integer, _>(clamp(rec.tokens_out))
            .bind::<Integer, _>(clamp(rec.images))
            .bind::<Integer, _>(clamp(rec.latency_ms))
            .bind::<Text, _>(if rec.error.is_none() { CallStatus::Ok } else { CallStatus::Error }.as_str())
            .bind::<Nullable<Text>, _>(rec.error.as_deref().map(|e| e.chars().take(1000).collect::<String>()))
            .bind::<Nullable<BigInt>, _>(started)
            .bind::<Text, _>(rec.source.as_str())
            .execute(&mut conn)
            .await?;
        Ok::<_, crate::error::AppError>(())
    };
    if let Err(e) = res.await {
        tracing::warn!(error = %e, "could not record an AI call");
    }
}

/// Calls noted as started that can no longer be running (older than the longest call may take): their process
/// stopped during the call. They stay in the log, marked `interrupted`.
pub async fn mark_interrupted(conn: &mut AsyncPgConnection, older_than: std::time::Duration) -> AppResult<usize> {
    let before = Utc::now() - chrono::Duration::from_std(older_than).unwrap_or_default();
    Ok(diesel::update(ai_calls::table.filter(ai_calls::status.eq(CallStatus::Started)).filter(ai_calls::created_at.lt(before)))
        .set((
            ai_calls::status.eq(CallStatus::Interrupted),
            ai_calls::error.eq("the process stopped during the call; the provider may have billed it"),
        ))
        .execute(conn)
        .await?)
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
    pub status: CallStatus,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl AiCall {
    pub fn cost_usd(&self) -> String {
        format!("${:.4}", self.cost_micros as f64 / 1e6)
    }
}

/// The workspace's calls, all or of one outcome: rows and count both start here.
fn matching<'a>(tenant_id: i64, status: &str) -> ai_calls::BoxedQuery<'a, diesel::pg::Pg> {
    let mut q = ai_calls::table.filter(ai_calls::tenant_id.eq(tenant_id)).into_boxed();
    if let Some(status) = CallStatus::parse(status) {
        q = q.filter(ai_calls::status.eq(status));
    }
    q
}

pub async fn list(conn: &mut AsyncPgConnection, tenant_id: i64, status: &str, page: &PageParams) -> AppResult<(Vec<AiCall>, i64)> {
    let total = matching(tenant_id, status).count().get_result(conn).await?;
    let rows = matching(tenant_id, status)
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

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = model_rates)]
pub struct ModelRate {
    pub provider: String,
    pub model: String,
    pub input_per_mtok_micros: i64,
    pub output_per_mtok_micros: i64,
    pub per_image_micros: i64,
}

impl ModelRate {
    pub fn usd(micros: &i64) -> String {
        let s = format!("{:.4}", *micros as f64 / 1e6);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

pub async fn rates(conn: &mut AsyncPgConnection) -> AppResult<Vec<ModelRate>> {
    Ok(model_rates::table.select(ModelRate::as_select()).order((model_rates::provider.asc(), model_rates::model.asc())).load(conn).await?)
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RateInput {
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub model: String,
    /// US dollars per 1M input tokens, e.g. "0.15" (or 0.15 in JSON).
    #[serde(default, deserialize_with = "crate::validate::text_or_number")]
    pub input_usd: String,
    #[serde(default, deserialize_with = "crate::validate::text_or_number")]
    pub output_usd: String,
    #[serde(default, deserialize_with = "crate::validate::text_or_number")]
    pub image_usd: String,
}

fn usd_to_micros(check: &mut Check, field: &str, v: &str) -> i64 {
    match v.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && (0.0..=10_000.0).contains(&x) => (x * 1e6).round() as i64,
        _ => {
            check.fail(field, "Enter a price in dollars from 0 to 10000, such as 0.15");
            0
        }
    }
}

/// Adds or changes a model's price. System administrators only: prices apply to every workspace.
pub async fn set_rate(state: &AppState, ctx: &TenantCtx, input: &RateInput) -> AppResult<ModelRate> {
    if !matches!(ctx.actor, Actor::User { is_system_admin: true, .. }) {
        return Err(AppError::Forbidden("Only system administrators can change model prices".into()));
    }
    let mut check = Check::new();
    let provider = check.text("provider", &input.provider, "Provider", 1, 40);
    let model = check.text("model", &input.model, "Model", 1, 100);
    let inp = usd_to_micros(&mut check, "input_usd", &input.input_usd);
    let out = usd_to_micros(&mut check, "output_usd", &input.output_usd);
    let img = usd_to_micros(&mut check, "image_usd", &input.image_usd);
    check.finish()?;
    let mut conn = state.db.get().await?;
    let values = (
        model_rates::provider.eq(&provider),
        model_rates::model.eq(&model),
        model_rates::input_per_mtok_micros.eq(inp),
        model_rates::output_per_mtok_micros.eq(out),
        model_rates::per_image_micros.eq(img),
        model_rates::updated_at.eq(diesel::dsl::now),
    );
    let rate = diesel::insert_into(model_rates::table)
        .values(values)
        .on_conflict((model_rates::provider, model_rates::model))
        .do_update()
        .set(values)
        .returning(ModelRate::as_returning())
        .get_result(&mut conn)
        .await?;
    crate::audit::record(
        &mut conn,
        &crate::audit::Who::from(ctx),
        "system.model_rate_changed",
        ("model_rate", format!("{provider}/{model}")),
        serde_json::json!({ "input_per_mtok_micros": inp, "output_per_mtok_micros": out, "per_image_micros": img }),
    )
    .await?;
    Ok(rate)
}

/// Provider spend against credits sold, per workspace, purpose and model over 30 days (system administrators): the
/// platform's margin. Credits are what the workspace's jobs kept (reservations less returns), per workspace.
#[derive(Debug, Clone, QueryableByName, Serialize)]
pub struct Margin {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub workspace: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub operation: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub model: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub source: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub calls: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub cost_micros: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub workspace_credits: i64,
}

impl Margin {
    pub fn cost_usd(&self) -> String {
        format!("${:.4}", self.cost_micros as f64 / 1e6)
    }
}

pub async fn margins(conn: &mut AsyncPgConnection) -> AppResult<Vec<Margin>> {
    Ok(diesel::sql_query(
        "WITH spent AS (SELECT tenant_id, -sum(delta)::bigint AS credits FROM credit_ledger
                         WHERE reason IN ('reserve', 'settle', 'refund') AND created_at > now() - interval '30 days'
                         GROUP BY tenant_id)
         SELECT t.name AS workspace, c.operation, c.model, c.source, count(*)::bigint AS calls,
                coalesce(sum(c.cost_micros), 0)::bigint AS cost_micros, coalesce(max(s.credits), 0)::bigint AS workspace_credits
           FROM ai_calls c JOIN tenants t ON t.id = c.tenant_id LEFT JOIN spent s ON s.tenant_id = c.tenant_id
          WHERE c.created_at > now() - interval '30 days'
          GROUP BY t.name, c.operation, c.model, c.source ORDER BY cost_micros DESC, t.name LIMIT 200",
    )
    .load(conn)
    .await?)
}
