//! A workspace's automation settings: on/off, the daily credit budget, where auto-publish goes, and for each
//! step whether it runs, how many items a run takes and which ones it applies to.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::db::schema::{automation_settings, automation_steps, clusters, sites};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::validate::Check;

use super::step::Step;
use crate::modules::writer::service::TaskStatus;
use crate::wordpress::posts::PostStatus;

/// Task statuses a step may be told to pick from.
pub const TASK_STATUSES: [TaskStatus; 4] = [TaskStatus::Queued, TaskStatus::Draft, TaskStatus::Review, TaskStatus::Ready];

#[derive(Debug, Clone, Serialize, Queryable, Selectable)]
#[diesel(table_name = automation_steps)]
pub struct StepSettings {
    pub step: Step,
    pub enabled: bool,
    pub items_per_run: i32,
    pub cluster_ids: Vec<i64>,
    pub statuses: Vec<String>,
    pub per_item: i32,
}

impl StepSettings {
    pub fn default_for(step: Step) -> StepSettings {
        let (items, statuses): (i32, &[TaskStatus]) = match step {
            Step::Cluster => (300, &[]),
            Step::Ideas => (3, &[]),
            Step::Content => (5, &[TaskStatus::Queued]),
            Step::Images => (5, &TaskStatus::WRITTEN),
            Step::Publish => (5, &[TaskStatus::Draft, TaskStatus::Ready]),
        };
        StepSettings {
            step,
            enabled: true,
            items_per_run: items,
            cluster_ids: vec![],
            statuses: statuses.iter().map(|s| s.to_string()).collect(),
            per_item: 3,
        }
    }
    /// What one item of the step is, for labels.
    pub fn unit(&self) -> &'static str {
        self.step.unit()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub enabled: bool,
    pub daily_credit_budget: i32,
    pub publish_site_id: Option<i64>,
    pub publish_status: PostStatus,
    pub steps: Vec<StepSettings>,
}

impl Settings {
    pub fn step(&self, step: Step) -> StepSettings {
        self.steps.iter().find(|s| s.step == step).cloned().unwrap_or_else(|| StepSettings::default_for(step))
    }
}

pub async fn load(conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<Settings> {
    let top: Option<(bool, i32, Option<i64>, PostStatus)> = automation_settings::table
        .filter(automation_settings::tenant_id.eq(tenant_id))
        .select((
            automation_settings::enabled,
            automation_settings::daily_credit_budget,
            automation_settings::publish_site_id,
            automation_settings::publish_status,
        ))
        .first(conn)
        .await
        .optional()?;
    let stored: Vec<StepSettings> =
        automation_steps::table.filter(automation_steps::tenant_id.eq(tenant_id)).select(StepSettings::as_select()).load(conn).await?;
    let steps =
        Step::ALL.iter().map(|s| stored.iter().find(|x| x.step == *s).cloned().unwrap_or_else(|| StepSettings::default_for(*s))).collect();
    let (enabled, daily_credit_budget, publish_site_id, publish_status) = top.unwrap_or((false, 50, None, PostStatus::Draft));
    Ok(Settings { enabled, daily_credit_budget, publish_site_id, publish_status, steps })
}

/// The form and the JSON body. Steps are `steps.<name>.<field>` on the form (flattened by the page handler).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SettingsInput {
    pub enabled: bool,
    #[serde(deserialize_with = "crate::validate::text_or_number")]
    pub daily_credit_budget: String,
    #[serde(deserialize_with = "crate::validate::text_or_number")]
    pub publish_site_id: String,
    pub publish_status: String,
    pub steps: Vec<StepInput>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StepInput {
    pub step: String,
    pub enabled: bool,
    #[serde(deserialize_with = "crate::validate::text_or_number")]
    pub items_per_run: String,
    pub cluster_ids: Vec<i64>,
    pub statuses: Vec<String>,
    #[serde(deserialize_with = "crate::validate::text_or_number")]
    pub per_item: String,
}

fn number(c: &mut Check, field: &str, label: &str, raw: &str, min: i64, max: i64, default: i64) -> i64 {
    let raw = raw.trim();
    if raw.is_empty() {
        return default;
    }
    match raw.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => n,
        _ => {
            c.fail(field, format!("{label} is a whole number from {min} to {max}"));
            default
        }
    }
}

pub async fn save(state: &AppState, ctx: &TenantCtx, input: &SettingsInput) -> AppResult<Settings> {
    ctx.require(Perm::RunAutomation)?;
    let tenant_id = ctx.tenant_id;
    let mut conn = state.db.get().await?;
    let current = load(&mut conn, tenant_id).await?;
    let mut c = Check::new();
    let budget = number(
        &mut c,
        "daily_credit_budget",
        "Daily credit budget",
        &input.daily_credit_budget,
        0,
        1_000_000,
        current.daily_credit_budget as i64,
    ) as i32;
    let status = publish_status(&mut c, &input.publish_status, current.publish_status);
    let site_id = publish_site(&mut conn, &mut c, tenant_id, &input.publish_site_id).await?;
    let steps = apply_steps(&mut conn, &mut c, tenant_id, current.steps.clone(), &input.steps).await?;
    c.finish()?;
    let chosen = Chosen { enabled: input.enabled, budget, site_id, status };
    store(&mut conn, &Who::from(ctx), tenant_id, &chosen, &steps).await?;
    load(&mut conn, tenant_id).await
}

/// The workspace-wide values of a valid settings form.
struct Chosen {
    enabled: bool,
    budget: i32,
    site_id: Option<i64>,
    status: PostStatus,
}

/// Automation publishes as a draft or live, never scheduled; empty keeps the current choice.
fn publish_status(c: &mut Check, raw: &str, current: PostStatus) -> PostStatus {
    match raw.trim() {
        "" => current,
        given => match PostStatus::parse(given) {
            Some(s @ (PostStatus::Draft | PostStatus::Publish)) => s,
            Some(PostStatus::Future) | None => {
                c.fail("publish_status", "Auto-publish posts as draft or publish");
                current
            }
        },
    }
}

/// The site automation publishes to: empty for none, else one of this workspace's sites.
async fn publish_site(conn: &mut AsyncPgConnection, c: &mut Check, tenant_id: i64, raw: &str) -> AppResult<Option<i64>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let Ok(id) = raw.parse::<i64>() else {
        c.fail("publish_site_id", "Choose one of this workspace's sites");
        return Ok(None);
    };
    let exists: i64 = sites::table.filter(sites::tenant_id.eq(tenant_id)).filter(sites::id.eq(id)).count().get_result(conn).await?;
    if exists == 0 {
        c.fail("publish_site_id", "Choose one of this workspace's sites");
    }
    Ok(Some(id))
}

/// The form's per-step values laid over the current ones, each checked under `steps.<step>.<field>`.
async fn apply_steps(
    conn: &mut AsyncPgConnection,
    c: &mut Check,
    tenant_id: i64,
    mut steps: Vec<StepSettings>,
    given: &[StepInput],
) -> AppResult<Vec<StepSettings>> {
    for s in given {
        let Some(slot) = Step::parse(&s.step).and_then(|step| steps.iter_mut().find(|x| x.step == step)) else {
            c.fail("steps", format!("Unknown step “{}”; the steps are {}", s.step, Step::words().join(", ")));
            continue;
        };
        let key = |f: &str| format!("steps.{}.{f}", s.step);
        slot.enabled = s.enabled;
        slot.items_per_run = number(c, &key("items_per_run"), "Items per run", &s.items_per_run, 1, 1000, slot.items_per_run as i64) as i32;
        slot.per_item = number(c, &key("per_item"), "Ideas per cluster", &s.per_item, 3, 7, slot.per_item as i64) as i32;
        if s.statuses.iter().any(|x| !TaskStatus::parse(x).is_some_and(|t| TASK_STATUSES.contains(&t))) {
            let words: Vec<&str> = TASK_STATUSES.iter().map(|t| t.as_str()).collect();
            c.fail(&key("statuses"), format!("Task statuses are {}", words.join(", ")));
        } else if !s.statuses.is_empty() {
            slot.statuses = s.statuses.clone();
        }
        if !s.cluster_ids.is_empty() {
            let found: Vec<i64> = clusters::table
                .filter(clusters::tenant_id.eq(tenant_id))
                .filter(clusters::id.eq_any(&s.cluster_ids))
                .select(clusters::id)
                .load(conn)
                .await?;
            if found.len() != s.cluster_ids.len() {
                c.fail(&key("cluster_ids"), "Some of the chosen clusters are not in this workspace");
            }
        }
        slot.cluster_ids = s.cluster_ids.clone();
    }
    Ok(steps)
}

/// Writes the settings and every step in one transaction, with one audit event.
async fn store(conn: &mut AsyncPgConnection, who: &Who, tenant_id: i64, v: &Chosen, steps: &[StepSettings]) -> AppResult<()> {
    conn.transaction::<_, AppError, _>(async |conn| {
        diesel::insert_into(automation_settings::table)
            .values((
                automation_settings::tenant_id.eq(tenant_id),
                automation_settings::enabled.eq(v.enabled),
                automation_settings::daily_credit_budget.eq(v.budget),
                automation_settings::publish_site_id.eq(v.site_id),
                automation_settings::publish_status.eq(v.status),
            ))
            .on_conflict(automation_settings::tenant_id)
            .do_update()
            .set((
                automation_settings::enabled.eq(v.enabled),
                automation_settings::daily_credit_budget.eq(v.budget),
                automation_settings::publish_site_id.eq(v.site_id),
                automation_settings::publish_status.eq(v.status),
                automation_settings::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        for s in steps {
            diesel::insert_into(automation_steps::table)
                .values((
                    automation_steps::tenant_id.eq(tenant_id),
                    automation_steps::step.eq(&s.step),
                    automation_steps::enabled.eq(s.enabled),
                    automation_steps::items_per_run.eq(s.items_per_run),
                    automation_steps::cluster_ids.eq(&s.cluster_ids),
                    automation_steps::statuses.eq(&s.statuses),
                    automation_steps::per_item.eq(s.per_item),
                ))
                .on_conflict((automation_steps::tenant_id, automation_steps::step))
                .do_update()
                .set((
                    automation_steps::enabled.eq(s.enabled),
                    automation_steps::items_per_run.eq(s.items_per_run),
                    automation_steps::cluster_ids.eq(&s.cluster_ids),
                    automation_steps::statuses.eq(&s.statuses),
                    automation_steps::per_item.eq(s.per_item),
                ))
                .execute(conn)
                .await?;
        }
        let summary: Vec<String> =
            steps.iter().map(|s| format!("{}:{}:{}", s.step, if s.enabled { "on" } else { "off" }, s.items_per_run)).collect();
        audit::record(
            conn,
            who,
            "automation.settings_changed",
            ("workspace", tenant_id.to_string()),
            serde_json::json!({ "enabled": v.enabled, "budget": v.budget, "steps": summary }),
        )
        .await
    })
    .await
}
