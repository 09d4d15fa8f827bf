//! The automation page (settings, steps, notices, history; "Run now" and dry run) and System → Automation
//! (cadences, retention, every workspace's runs) for system administrators.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::history::{self, Run, StepView};
use super::run::RunStatus;
use super::settings::{self, Settings, SettingsInput, StepInput, TASK_STATUSES};
use super::step::{Scheduled, Step};
use crate::auth::rbac::Perm;
use crate::error::{AppError, AppResult};
use crate::listing::{PageParams, Pager};
use crate::modules::sites::service::Site;
use crate::modules::writer::service::TaskStatus;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::page::PageCtx;
use crate::web::shown_form::ShownForm;
use crate::web::{Toast, back_to, form_pairs, form_value, redirect_with, render, render_status};
use crate::wordpress::posts::PostStatus;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/automation", web::get().to(page))
        .route("/automation/settings", web::post().to(save))
        .route("/automation/{step}/run", web::post().to(run_now))
        .route("/automation/{step}/dry-run", web::get().to(dry_run))
        .route("/automation/runs/{id}/ack", web::post().to(ack))
        .route("/system/automation", web::get().to(system_page))
        .route("/system/automation", web::post().to(system_save));
}

#[derive(Template)]
#[template(path = "automation/index.html")]
struct AutomationPage {
    page: PageCtx,
    settings: Settings,
    steps: Vec<StepView>,
    sites: Vec<Site>,
    notices: Vec<Run>,
    runs: Vec<Run>,
    pager: Pager,
    spent_today: i64,
    statuses: [TaskStatus; 4],
    clusters: Vec<(i64, String)>,
    /// The settings form: fresh, or re-shown with what was typed and its errors.
    form: ShownForm,
}

impl AutomationPage {
    fn can_manage(&self) -> bool {
        self.page.can(&Perm::RunAutomation)
    }
    fn publish_to(&self, id: &i64) -> bool {
        self.settings.publish_site_id == Some(*id)
    }
    fn show_tenant(&self) -> bool {
        false
    }
    fn ideas_for(&self, id: &i64) -> bool {
        self.settings.step(Step::Ideas).cluster_ids.contains(id)
    }
    /// A step's form field name: `<step>.<field>`.
    fn field(&self, step: &Step, name: &str) -> String {
        format!("{step}.{name}")
    }
}

async fn page(state: web::Data<AppState>, page: PageCtx, q: web::Query<PageParams>) -> AppResult<HttpResponse> {
    show(&state, page, &q, ShownForm::fresh(), StatusCode::OK).await
}

async fn show(state: &AppState, page: PageCtx, q: &PageParams, form: ShownForm, status: StatusCode) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let tid = page.ctx.tenant_id;
    let mut conn = state.db.get().await?;
    let settings = settings::load(&mut conn, tid).await?;
    let steps = history::overview(&mut conn, tid, &settings).await?;
    let sites = crate::modules::sites::service::list(state, &mut conn, tid).await?;
    let notices = history::list(&mut conn, Some(tid), None, history::Which::Notices, 20, 0).await?;
    let total = history::count(&mut conn, Some(tid), None, history::Which::All).await?;
    let runs = history::list(&mut conn, Some(tid), None, history::Which::All, q.per_page(), q.offset()).await?;
    let spent_today = super::run::spent_today(&mut conn, tid).await?;
    let pager = Pager::new(q, total).linked("/automation");
    let clusters = crate::modules::planner::clusters::service::names(&conn, tid).await?;
    let view = AutomationPage { page, settings, steps, sites, notices, runs, pager, spent_today, statuses: TASK_STATUSES, clusters, form };
    render_status(&view, status)
}

/// The form names step fields `<step>.<field>`; statuses repeat (`content.statuses=queued&…`).
fn settings_from_form(pairs: &[(String, String)]) -> SettingsInput {
    let value = |k: &str| form_value(pairs, k).to_string();
    let steps = Step::ALL
        .iter()
        .map(|step| StepInput {
            step: step.to_string(),
            enabled: !value(&format!("{step}.enabled")).is_empty(),
            items_per_run: value(&format!("{step}.items_per_run")),
            per_item: value(&format!("{step}.per_item")),
            statuses: pairs.iter().filter(|(k, _)| *k == format!("{step}.statuses")).map(|(_, v)| v.clone()).collect(),
            cluster_ids: pairs.iter().filter(|(k, _)| *k == format!("{step}.cluster_ids")).filter_map(|(_, v)| v.parse().ok()).collect(),
        })
        .collect();
    SettingsInput {
        enabled: !value("enabled").is_empty(),
        daily_credit_budget: value("daily_credit_budget"),
        publish_site_id: value("publish_site_id"),
        publish_status: value("publish_status"),
        steps,
    }
}

async fn save(state: web::Data<AppState>, page: PageCtx, body: web::Bytes) -> AppResult<HttpResponse> {
    let pairs = form_pairs(&body)?;
    let input = settings_from_form(&pairs);
    match settings::save(&state, &page.ctx, &input).await {
        Ok(s) => {
            let said = if s.enabled { "Automation is on" } else { "Settings saved; automation is off" };
            Ok(redirect_with("/automation", Some(Toast::success(said))))
        }
        // The form again, as typed, each error beside its field (the service names step fields `steps.<step>.<field>`).
        Err(AppError::Validation(errors)) => {
            let errors = errors.into_iter().map(|(k, v)| (k.strip_prefix("steps.").unwrap_or(&k).to_string(), v)).collect();
            show(&state, page, &PageParams::default(), ShownForm::refused(pairs, errors), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e),
    }
}

async fn run_now(state: web::Data<AppState>, ctx: TenantCtx, step: web::Path<String>) -> AppResult<HttpResponse> {
    let result = super::run_now(&state, &ctx, &step, false).await.map(|o| match o.status {
        RunStatus::Done => format!("{}: {} picked, {} job(s) queued, {} credit(s) reserved", o.step, o.picked, o.enqueued, o.credits),
        RunStatus::Skipped | RunStatus::Failed => format!("{}: {} — {}", o.step, o.status, o.reason),
    });
    back_to("/automation", result)
}

#[derive(Template)]
#[template(path = "automation/dry_run.html")]
struct DryRunPage {
    page: PageCtx,
    outcome: super::run::Outcome,
}

async fn dry_run(state: web::Data<AppState>, page: PageCtx, step: web::Path<String>) -> AppResult<HttpResponse> {
    let outcome = super::run_now(&state, &page.ctx, &step, true).await?;
    render(&DryRunPage { page, outcome })
}

async fn ack(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    back_to("/automation", history::acknowledge(&state, &ctx, *id).await.map(|_| "Notice acknowledged".to_string()))
}

#[derive(Template)]
#[template(path = "automation/system.html")]
struct SystemPage {
    page: PageCtx,
    values: BTreeMap<String, String>,
    scheduled: &'static [Scheduled],
    retention: [(&'static str, &'static str, i64); 5],
    runs: Vec<Run>,
    pager: Pager,
}

impl SystemPage {
    /// Every workspace's runs: the table names the workspace.
    fn show_tenant(&self) -> bool {
        true
    }
    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }
    fn cron_value(&self, step: &Scheduled) -> String {
        self.value(&step.cron_key())
    }
    fn cron_key(&self, step: &Scheduled) -> String {
        step.cron_key()
    }
}

async fn system_page(state: web::Data<AppState>, page: PageCtx, q: web::Query<PageParams>) -> AppResult<HttpResponse> {
    page.ctx.require_system_admin()?;
    let mut conn = state.db.get().await?;
    let values = super::cadence::all(&mut conn).await?;
    let total = history::count(&mut conn, None, None, history::Which::All).await?;
    let runs = history::list(&mut conn, None, None, history::Which::All, q.per_page(), q.offset()).await?;
    let pager = Pager::new(&q, total).linked("/system/automation");
    render(&SystemPage { page, values, scheduled: Scheduled::ALL, retention: super::cadence::RETENTION, runs, pager })
}

async fn system_save(state: web::Data<AppState>, page: PageCtx, body: web::Bytes) -> AppResult<HttpResponse> {
    page.ctx.require_system_admin()?;
    let input: BTreeMap<String, String> = form_pairs(&body)?.into_iter().filter(|(k, _)| k != "csrf_token").collect();
    let mut conn = state.db.get().await?;
    let result = super::cadence::save(&mut conn, &input).await;
    if result.is_ok() {
        let who = crate::audit::Who::from(&page.ctx);
        crate::audit::record(
            &mut conn,
            &who,
            "system.scheduler_settings_changed",
            ("system", "scheduler".into()),
            serde_json::json!(input),
        )
        .await?;
    }
    back_to("/system/automation", result.map(|_| "Scheduler settings saved; they apply from the next minute".to_string()))
}
