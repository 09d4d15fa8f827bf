//! One run of one step for one workspace — the scheduler's tick, "Run now" and the dry run all come here —
//! and a tick over every workspace with automation on. A run only **enqueues**, through the same service
//! functions as the buttons; it is recorded in `cron_runs` (skips too, with a reason the workspace can act on).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use serde::Serialize;

use super::pick::{self, Pick, cost_of, unit_cost};
use super::settings::{self, Settings};
use super::step::Step;
use crate::db::schema::{automation_settings, automation_steps, cron_runs, tenants};
use crate::error::{AppError, AppResult};
use crate::modules::planner::{clustering, ideas, keywords::service::Selection};
use crate::modules::publish::service::{self as publish, PublishInput};
use crate::modules::writer::{generate, image_jobs};
use crate::state::AppState;
use crate::tenancy::{TenantCtx, TenantStatus};

/// Most items one tick hands out over all workspaces; each gets an equal share of it (fair share), so one
/// workspace's backlog never crowds out the others.
pub const TICK_ITEM_CAP: i64 = 20_000;
/// Workspaces handled at once in a tick, at most: each run's service call takes a pooled connection, so a
/// tick uses at most half the pool and leaves the rest to pages and workers.
const PARALLEL: usize = 8;

crate::text_enum! {
    /// How a run ended (`cron_runs.status`).
    pub enum RunStatus {
        Done = "done",
        Skipped = "skipped",
        Failed = "failed",
    }
}

crate::text_enum! {
    /// What started a run (`cron_runs.trigger`).
    pub enum Trigger {
        Schedule = "schedule",
        RunNow = "run_now",
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub step: Step,
    pub status: RunStatus,
    pub reason: String,
    /// Stays on the dashboard until acknowledged: a failure, or a skip the workspace must act on (credits, budget).
    pub notice: bool,
    pub picked: usize,
    pub enqueued: usize,
    pub credits: i64,
    pub job_ids: Vec<i64>,
    /// What was (or, in a dry run, would be) picked.
    pub items: Vec<String>,
    pub run_id: Option<i64>,
}

impl Outcome {
    fn new(step: Step) -> Outcome {
        Outcome {
            step,
            status: RunStatus::Done,
            reason: String::new(),
            notice: false,
            picked: 0,
            enqueued: 0,
            credits: 0,
            job_ids: vec![],
            items: vec![],
            run_id: None,
        }
    }
    fn skip(mut self, reason: impl Into<String>) -> Outcome {
        self.status = RunStatus::Skipped;
        self.reason = reason.into();
        self
    }
    /// Skipped for something only the workspace can fix (credits, budget): shown as a notice.
    fn skip_with_notice(self, reason: impl Into<String>) -> Outcome {
        Outcome { notice: true, ..self.skip(reason) }
    }
    fn fail(mut self, reason: impl Into<String>) -> Outcome {
        self.status = RunStatus::Failed;
        self.reason = reason.into();
        self.notice = true;
        self
    }
}

type TenantRow = (i64, String, TenantStatus, String, i64);

async fn tenant_ctx(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<TenantCtx> {
    let (id, name, status, plan, balance): TenantRow = tenants::table
        .filter(tenants::id.eq(tenant_id))
        .select((tenants::id, tenants::name, tenants::status, tenants::plan_code, tenants::credits_balance))
        .first(conn)
        .await?;
    Ok(TenantCtx::automation(id, name, status, plan, balance))
}

#[derive(QueryableByName)]
struct Sum {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Credits automation's runs reserved today (UTC), all steps together.
pub async fn spent_today(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<i64> {
    let s: Sum = diesel::sql_query(
        "SELECT coalesce(sum(credits_reserved), 0)::bigint AS n FROM cron_runs
         WHERE tenant_id = $1 AND status = 'done' AND created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    )
    .bind::<diesel::sql_types::BigInt, _>(tenant_id)
    .get_result(conn)
    .await?;
    Ok(s.n)
}

/// Runs (or, with `dry_run`, only works out) one step for one workspace. Two runs of one step in one workspace
/// (a tick and "Run now", a double click) never overlap: the second is skipped while a Redis lock is held, so
/// both cannot pick the same items. Without Redis the run goes on unguarded (losing Redis loses no work).
pub async fn run_tenant(
    state: &AppState,
    tenant_id: i64,
    step: Step,
    slot: DateTime<Utc>,
    trigger: Trigger,
    share: i64,
    dry_run: bool,
) -> AppResult<Outcome> {
    if dry_run {
        return run_unlocked(state, tenant_id, step, slot, trigger, share, true).await;
    }
    let key = crate::kv::key(&state.config.redis_namespace, &tenant_id.to_string(), &format!("automation:{step}"));
    let token = match crate::kv::try_lock(&state.redis, &key, std::time::Duration::from_secs(120)).await {
        Ok(Some(t)) => Some(t),
        Ok(None) => {
            let mut conn = state.db.get().await?;
            return record(
                &mut conn,
                state,
                tenant_id,
                slot,
                trigger,
                Outcome::new(step).skip("Another run of this step is still picking its work; try again in a moment"),
            )
            .await;
        }
        Err(e) => {
            tracing::warn!(error = %e, "automation lock unavailable; running unguarded");
            None
        }
    };
    let out = run_unlocked(state, tenant_id, step, slot, trigger, share, false).await;
    if let Some(t) = token {
        crate::kv::unlock(&state.redis, &key, &t).await;
    }
    out
}

async fn run_unlocked(
    state: &AppState,
    tenant_id: i64,
    step: Step,
    slot: DateTime<Utc>,
    trigger: Trigger,
    share: i64,
    dry_run: bool,
) -> AppResult<Outcome> {
    let mut conn = state.db.get().await?;
    let ctx = tenant_ctx(&mut conn, tenant_id).await?;
    let settings = settings::load(&mut conn, tenant_id).await?;
    let s = settings.step(step);
    let out = Outcome::new(step);
    // The connection goes back to the pool at the end of this block, whichever way it ends.
    let out = if ctx.tenant_status.is_stopped() {
        drop(conn);
        out.skip(format!("The workspace is {}; automation waits until it is active again", ctx.tenant_status))
    } else if !s.enabled {
        drop(conn);
        out.skip("This step is turned off in the automation settings")
    } else {
        // Only the images step's price depends on the AI settings.
        let per_article =
            if step == Step::Images { state.ai_settings.get(state, tenant_id).await?.images_per_article.clamp(0, 4) as i64 } else { 0 };
        let limit = (s.items_per_run as i64).min(share.max(1));
        let picked = pick::pick(&mut conn, tenant_id, &settings, step, limit, per_article).await?;
        let spent = spent_today(&mut conn, tenant_id).await?;
        // No connection is held while the service runs (it takes its own from the pool).
        drop(conn);
        decide(state, &ctx, &settings, step, picked, spent, per_article, dry_run).await?
    };
    if dry_run {
        return Ok(out);
    }
    let mut conn = state.db.get().await?;
    record(&mut conn, state, tenant_id, slot, trigger, out).await
}

/// Budget and credits, then the service call.
#[allow(clippy::too_many_arguments)]
async fn decide(
    state: &AppState,
    ctx: &TenantCtx,
    settings: &Settings,
    step: Step,
    mut picked: Pick,
    spent: i64,
    per_article: i64,
    dry_run: bool,
) -> AppResult<Outcome> {
    let s = settings.step(step);
    let mut out = Outcome::new(step);
    if let Some(why) = picked.blocked.take() {
        return Ok(out.skip(why));
    }
    let left = (settings.daily_credit_budget as i64 - spent).max(0);
    if picked.cost > left {
        // Fewer items, as many as the budget still allows.
        let unit = unit_cost(step, &s, per_article);
        let fits = match step {
            Step::Cluster => (left * clustering::ai::KEYWORDS_PER_CREDIT) as usize,
            Step::Ideas | Step::Content | Step::Images | Step::Publish if unit > 0 => (left / unit) as usize,
            Step::Ideas | Step::Content | Step::Images | Step::Publish => picked.items.len(),
        };
        picked.items.truncate(fits);
        picked.cost = cost_of(step, picked.items.len(), &s, per_article);
        if picked.items.is_empty() {
            return Ok(out.skip_with_notice(format!(
                "The daily automation budget of {} credits is used up ({spent} reserved today)",
                settings.daily_credit_budget
            )));
        }
    }
    if picked.cost > ctx.credits_balance {
        return Ok(
            out.skip_with_notice(format!("Not enough credits: this run needs {}, the workspace has {}", picked.cost, ctx.credits_balance))
        );
    }
    out.picked = picked.items.len() + picked.refresh.len();
    out.credits = picked.cost;
    out.items = picked.items.iter().chain(&picked.refresh).map(|i| i.label.clone()).collect();
    if dry_run || (picked.items.is_empty() && picked.ideas_to_send.is_empty() && picked.refresh.is_empty()) {
        return Ok(out);
    }
    let ids: Vec<i64> = picked.items.iter().map(|i| i.id).filter(|id| *id > 0).collect();
    let result: AppResult<Vec<i64>> = match step {
        Step::Cluster => clustering::ai::enqueue(state, ctx, &Selection::Ids(ids), None).await.map(|(job, _)| vec![job]),
        Step::Ideas => ideas::generate::enqueue(state, ctx, &ids, s.per_item as i64).await,
        Step::Content => content(state, ctx, &s, &picked).await,
        Step::Images => image_jobs::enqueue_prompts(state, ctx, &ids).await,
        Step::Publish => publish_items(state, ctx, settings, &ids, &picked.refresh, &mut out).await,
    };
    match result {
        Ok(jobs) => {
            out.enqueued = jobs.len();
            out.job_ids = jobs;
            if step == Step::Content {
                out.picked = out.enqueued;
                out.credits = generate::CREDITS * out.enqueued as i64;
            }
            Ok(out)
        }
        Err(AppError::PaymentRequired(m)) => Ok(out.skip_with_notice(m)),
        Err(e) if e.is_for_the_user() => Ok(out.fail(e.summary())),
        Err(e) => Err(e),
    }
}

/// New posts for the picked articles, and updates in place of posts whose images were finished after they went
/// out. One refusal (a task deleted since the pick, a slug taken on the site) does not hold back the others; the
/// jobs already queued are always recorded.
async fn publish_items(
    state: &AppState,
    ctx: &TenantCtx,
    settings: &Settings,
    ids: &[i64],
    refresh: &[pick::Item],
    out: &mut Outcome,
) -> AppResult<Vec<i64>> {
    let input =
        PublishInput { site_id: settings.publish_site_id.unwrap_or(0), status: settings.publish_status.to_string(), ..Default::default() };
    let (mut jobs, mut refused) = (Vec::new(), Vec::new());
    for id in ids {
        match publish::enqueue_publish(state, ctx, *id, &input).await {
            Ok(job) => jobs.push(job),
            Err(e) => refused.push(format!("task {id}: {}", if e.is_for_the_user() { e.summary() } else { e.to_string() })),
        }
    }
    for item in refresh {
        match publish::enqueue_refresh(state, ctx, item.id).await {
            Ok(job) => jobs.push(job),
            Err(e) => refused.push(format!("task {}: {}", item.id, if e.is_for_the_user() { e.summary() } else { e.to_string() })),
        }
    }
    if !refused.is_empty() {
        out.reason = format!("not queued: {}", refused.join("; "));
    }
    if jobs.is_empty() && !refused.is_empty() { Err(AppError::Conflict(out.reason.clone())) } else { Ok(jobs) }
}

/// New ideas become tasks (free, as "send to writer"), then the queued tasks are generated.
async fn content(state: &AppState, ctx: &TenantCtx, s: &settings::StepSettings, picked: &Pick) -> AppResult<Vec<i64>> {
    if picked.ideas_to_send.is_empty() {
        let ids: Vec<i64> = picked.items.iter().map(|i| i.id).collect();
        return if ids.is_empty() { Ok(vec![]) } else { generate::enqueue(state, ctx, &ids).await };
    }
    let idea_ids: Vec<i64> = picked.ideas_to_send.iter().map(|i| i.id).collect();
    ideas::service::send_to_writer(state, ctx, &idea_ids).await?;
    // The new tasks are among the queued ones now.
    let mut conn = state.db.get().await?;
    let tasks: Vec<pick::Item> =
        diesel::sql_query("SELECT id, title AS label FROM tasks WHERE tenant_id = $1 AND status = ANY($3) ORDER BY id LIMIT $2")
            .bind::<diesel::sql_types::BigInt, _>(ctx.tenant_id)
            .bind::<diesel::sql_types::BigInt, _>(picked.items.len() as i64)
            .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&s.statuses)
            .load(&mut conn)
            .await?;
    drop(conn);
    if tasks.is_empty() {
        return Ok(vec![]);
    }
    generate::enqueue(state, ctx, &tasks.iter().map(|t| t.id).collect::<Vec<_>>()).await
}

async fn record(
    conn: &mut AsyncPgConnection,
    state: &AppState,
    tenant_id: i64,
    slot: DateTime<Utc>,
    trigger: Trigger,
    mut out: Outcome,
) -> AppResult<Outcome> {
    let id: i64 = diesel::insert_into(cron_runs::table)
        .values((
            cron_runs::tenant_id.eq(tenant_id),
            cron_runs::step.eq(&out.step),
            cron_runs::slot.eq(slot),
            cron_runs::trigger.eq(trigger),
            cron_runs::status.eq(out.status),
            cron_runs::reason.eq(&out.reason),
            cron_runs::picked.eq(out.picked as i32),
            cron_runs::enqueued.eq(out.enqueued as i32),
            cron_runs::credits_reserved.eq(if out.status == RunStatus::Done { out.credits } else { 0 }),
            cron_runs::job_ids.eq(&out.job_ids),
            cron_runs::notice.eq(out.notice),
        ))
        .returning(cron_runs::id)
        .get_result(conn)
        .await?;
    if out.status != RunStatus::Done {
        tracing::info!(tenant_id, step = %out.step, status = %out.status, reason = %out.reason, "automation run not done");
    }
    out.run_id = Some(id);
    // The run is recorded whatever happens to its notice mail.
    if let Err(e) = super::notify::run_needs_attention(conn, state, tenant_id, &out).await {
        tracing::warn!(tenant_id, error = %e, "could not queue the automation notice mail");
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct TickSummary {
    pub step: Step,
    pub tenants: usize,
    pub jobs: usize,
    pub skipped: usize,
    pub failed: usize,
}

/// Workspaces with automation on.
pub async fn tenants_with_automation(conn: &mut AsyncPgConnection) -> AppResult<Vec<i64>> {
    Ok(automation_settings::table
        .filter(automation_settings::enabled.eq(true))
        .select(automation_settings::tenant_id)
        .order(automation_settings::tenant_id)
        .load(conn)
        .await?)
}

/// Workspaces with automation on and `step` not turned off.
pub async fn tenants_for(conn: &mut AsyncPgConnection, step: Step) -> AppResult<Vec<i64>> {
    let off: Vec<i64> = automation_steps::table
        .filter(automation_steps::step.eq(step))
        .filter(automation_steps::enabled.eq(false))
        .select(automation_steps::tenant_id)
        .load(conn)
        .await?;
    let mut on = tenants_with_automation(conn).await?;
    on.retain(|t| !off.contains(t));
    Ok(on)
}

/// A tick of one workspace step over every workspace with automation on, a few at a time.
pub async fn tick(state: &AppState, step: Step, slot: DateTime<Utc>) -> AppResult<TickSummary> {
    let ids = {
        let mut conn = state.db.get().await?;
        tenants_for(&mut conn, step).await?
    };
    let share = (TICK_ITEM_CAP / ids.len().max(1) as i64).max(1);
    let mut summary = TickSummary { step, tenants: ids.len(), jobs: 0, skipped: 0, failed: 0 };
    let mut runs = futures_util::stream::iter(ids)
        .map(|tid| async move { (tid, run_tenant(state, tid, step, slot, Trigger::Schedule, share, false).await) })
        .buffer_unordered((state.config.db_pool_size / 2).clamp(1, PARALLEL));
    while let Some((tid, r)) = runs.next().await {
        match r {
            Ok(o) => {
                summary.jobs += o.enqueued;
                summary.skipped += (o.status == RunStatus::Skipped) as usize;
                summary.failed += (o.status == RunStatus::Failed) as usize;
            }
            Err(e) => {
                summary.failed += 1;
                tracing::warn!(tenant_id = tid, %step, error = %e, "automation run failed");
            }
        }
    }
    Ok(summary)
}
