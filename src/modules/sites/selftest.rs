//! The connection self-test of a stored site (the button, the API, and the job queued on every save): runs
//! `wordpress::diagnose` and keeps the report, the REST form found and the detected SEO plugin on the site.

use std::sync::Arc;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::auth::rbac::Perm;
use crate::db::schema::sites;
use crate::error::{AppError, AppResult};
use crate::jobs::queue::enqueue;
use crate::jobs::{ClaimedJob, Completion, Job, JobError, Subject};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::wordpress::diagnose::{self, Level, Report};

pub const JOB_KIND: &str = "sites.check";

/// `sites.check`: the self-test of a stored site, queued after every save.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SiteCheck {
    pub site_id: i64,
}

impl Job for SiteCheck {
    const KIND: &'static str = JOB_KIND;
    const MAX_ATTEMPTS: i32 = 1;

    fn subject(&self) -> Option<Subject> {
        Some(Subject::site(self.site_id))
    }

    async fn run(self, state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
        let report = match check_site(&state, job.tenant_id, self.site_id).await {
            Err(AppError::NotFound) => return Err(JobError::Fatal("the site was removed".into())),
            other => other?,
        };
        Ok(Completion::result(serde_json::json!({ "ok": report.ok, "summary": report.summary() })))
    }
}

/// Runs the test now and stores its report. Editors may run it; it changes nothing on the site.
pub async fn run(state: &AppState, ctx: &TenantCtx, site_id: i64) -> AppResult<Report> {
    ctx.require(Perm::EditContent)?;
    check_site(state, ctx.tenant_id, site_id).await
}

pub async fn check_site(state: &AppState, tenant_id: i64, site_id: i64) -> AppResult<Report> {
    let mut conn = state.db.get().await?;
    let report = match super::service::connect(state, &mut conn, tenant_id, site_id).await {
        Ok(c) => {
            drop(conn);
            let r = diagnose::run(&c.wp, &c.site.username, c.plugin_secret.as_deref()).await;
            conn = state.db.get().await?;
            r
        }
        Err(AppError::Conflict(msg)) => Report {
            ok: false,
            steps: vec![diagnose::Step {
                name: "Address".into(),
                level: Level::Fail,
                detail: msg,
                fix: "Use the site's public address.".into(),
            }],
            ..Default::default()
        },
        Err(e) => return Err(e),
    };
    let target = sites::table.filter(sites::tenant_id.eq(tenant_id)).filter(sites::id.eq(site_id));
    diesel::update(target)
        .set((sites::checked_at.eq(diesel::dsl::now), sites::check_ok.eq(report.ok), sites::check_report.eq(diagnose::to_json(&report))))
        .execute(&mut conn)
        .await?;
    // What a test found is kept; a test that stopped before finding it (site down for a moment) forgets nothing.
    if let Some(root) = &report.root {
        diesel::update(target).set(sites::api_root.eq(root)).execute(&mut conn).await?;
    }
    if let Some(seo) = &report.seo_plugin {
        diesel::update(target).set(sites::seo_detected.eq(seo)).execute(&mut conn).await?;
    }
    if report.steps.iter().any(|s| s.name == "Companion plugin") {
        diesel::update(target).set(sites::companion_version.eq(report.companion.clone().unwrap_or_default())).execute(&mut conn).await?;
    }
    Ok(report)
}

/// Queued after every save, so the page shows the result without the user waiting on the site.
pub async fn enqueue_check(state: &AppState, ctx: &TenantCtx, site_id: i64) -> AppResult<()> {
    enqueue(&state.db, SiteCheck { site_id }.new_job(ctx.tenant_id).by(ctx.actor_label())).await?;
    crate::jobs::worker::wake(state).await;
    Ok(())
}
