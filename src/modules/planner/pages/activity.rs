//! The planner's live activity strip: queued and running planner jobs with their progress, polled every
//! two seconds while there are any. When a job the page was watching ends, the page reloads with a toast
//! that says how it went (clusters made, keywords the model dropped, ideas created, why it failed).

use actix_web::{HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::auth::rbac::Perm;
use crate::db::schema::jobs;
use crate::error::AppResult;
use crate::jobs::JobStatus;
use crate::modules::planner::clustering::ai as cluster_ai;
use crate::modules::planner::clustering::semantic::job as cluster_semantic;
use crate::modules::planner::ideas::generate;
use crate::modules::planner::import::store;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::{Toast, flash_cookie, render};

const KINDS: [&str; 4] = [cluster_ai::JOB_KIND, cluster_semantic::JOB_KIND, generate::JOB_KIND, store::JOB_KIND];

#[derive(Debug, Clone, Queryable)]
pub struct ActiveJob {
    pub id: i64,
    pub kind: String,
    pub status: JobStatus,
    pub progress_done: i32,
    pub progress_total: i32,
}

impl ActiveJob {
    pub fn label(&self) -> &'static str {
        label(&self.kind)
    }
    pub fn percent(&self) -> i32 {
        if self.progress_total <= 0 { 0 } else { (self.progress_done * 100 / self.progress_total).clamp(0, 100) }
    }
}

fn label(kind: &str) -> &'static str {
    match kind {
        cluster_ai::JOB_KIND => "AI clustering",
        cluster_semantic::JOB_KIND => "Clustering by meaning",
        generate::JOB_KIND => "Idea generation",
        _ => "Keyword import",
    }
}

#[derive(Template)]
#[template(path = "planner/activity.html")]
struct Activity {
    active: Vec<ActiveJob>,
    seen: String,
}

#[derive(serde::Deserialize)]
pub struct ActivityQuery {
    #[serde(default)]
    seen: String,
}

pub async fn fragment(state: web::Data<AppState>, ctx: TenantCtx, q: web::Query<ActivityQuery>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let active: Vec<ActiveJob> = jobs::table
        .filter(jobs::tenant_id.eq(ctx.tenant_id))
        .filter(jobs::status.eq_any(JobStatus::OPEN))
        .filter(jobs::kind.eq_any(KINDS))
        .order(jobs::id)
        .select((jobs::id, jobs::kind, jobs::status, jobs::progress_done, jobs::progress_total))
        .limit(20)
        .load(&mut conn)
        .await?;
    let seen: Vec<i64> = q.seen.split(',').filter_map(|s| s.trim().parse().ok()).take(50).collect();
    let ended: Vec<i64> = seen.iter().copied().filter(|id| !active.iter().any(|a| a.id == *id)).collect();
    if !ended.is_empty() {
        let rows: Vec<(String, JobStatus, Option<serde_json::Value>, Option<String>)> = jobs::table
            .filter(jobs::tenant_id.eq(ctx.tenant_id))
            .filter(jobs::id.eq_any(&ended))
            .select((jobs::kind, jobs::status, jobs::result, jobs::last_error))
            .load(&mut conn)
            .await?;
        if !rows.is_empty() {
            let failed = rows.iter().any(|(_, s, _, _)| *s != JobStatus::Succeeded);
            let text = rows.iter().map(|(k, s, r, e)| outcome(k, *s, r.as_ref(), e.as_deref())).collect::<Vec<_>>().join(" · ");
            let toast = if failed { Toast::error(text) } else { Toast::success(text) };
            // Reload so the lists show the new clusters/ideas, with the outcome as a toast.
            return Ok(HttpResponse::Ok()
                .insert_header(("HX-Refresh", "true"))
                .cookie(flash_cookie(toast.to_cookie_value(), actix_web::cookie::time::Duration::seconds(60)))
                .finish());
        }
    }
    let seen = active.iter().map(|a| a.id.to_string()).collect::<Vec<_>>().join(",");
    render(&Activity { active, seen })
}

/// One finished job in words.
pub fn outcome(kind: &str, status: JobStatus, result: Option<&serde_json::Value>, error: Option<&str>) -> String {
    let what = label(kind);
    if status != JobStatus::Succeeded {
        let refund = if kind == cluster_semantic::JOB_KIND { "" } else { " Its credits were refunded." };
        return format!("{what} {status}: {}.{refund}", error.unwrap_or("no reason recorded"));
    }
    let r = result.cloned().unwrap_or_default();
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    let len = |v: &serde_json::Value| v.as_array().map(|a| a.len()).unwrap_or(0);
    match kind {
        cluster_ai::JOB_KIND => {
            let rep = &r["report"];
            let mut s = format!("AI clustering done: {} keywords into {} clusters", n(&r["keywords"]), n(&r["clusters"]));
            if len(&rep["dropped"]) > 0 {
                s.push_str(&format!("; {} left out by the model stayed unclustered", len(&rep["dropped"])));
            }
            if len(&rep["invented"]) > 0 {
                s.push_str(&format!("; {} unknown keywords in the answer were ignored", len(&rep["invented"])));
            }
            if len(&rep["repeated"]) > 0 {
                s.push_str(&format!("; {} listed twice were kept in their first cluster", len(&rep["repeated"])));
            }
            s
        }
        cluster_semantic::JOB_KIND => format!(
            "Clustered by meaning: {} keywords into {} clusters; {} stayed unclustered",
            n(&r["keywords"]),
            n(&r["clusters"]),
            n(&r["unclustered"])
        ),
        generate::JOB_KIND => format!("{} ideas generated", n(&r["ideas"])),
        _ => match r.get("failed").and_then(|v| v.as_str()) {
            Some(msg) => format!("Import stopped: {msg}"),
            None if r.get("needs_columns").is_some() => "File checked: choose which column holds the keywords".to_string(),
            None if r.get("applied").is_some() => {
                format!("Import finished: {} keywords added, {} updated", n(&r["applied"]["inserted"]), n(&r["applied"]["updated"]))
            }
            None => "File checked; review the preview".to_string(),
        },
    }
}
