//! `publish.sync`: reads back the status, URL and modified time of every post IGNY8 published (per site, 100
//! ids a request). A post in the site's trash is marked `trash`; one WordPress no longer has is `deleted` —
//! and neither is ever re-created without the user asking. `publish.unpublish` takes a post back to draft.

use std::collections::HashMap;
use std::sync::Arc;

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::service::{self, PublicationState, record_step};
use crate::audit::{self, Who};
use crate::db::schema::{publications, tasks};
use crate::error::{AppError, AppResult};
use crate::jobs::{ClaimedJob, Completion, Ended, Job, JobError, Subject};
use crate::modules::sites::service::connect;
use crate::modules::writer::service::TaskStatus;
use crate::state::AppState;
use crate::wordpress::posts::{self, remote};
use crate::wordpress::text_of;

/// `publish.sync`: the status of every post IGNY8 published, on one site or all of the workspace's sites.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sync {
    pub site_id: Option<i64>,
}

impl Job for Sync {
    const KIND: &'static str = service::SYNC_KIND;

    fn subject(&self) -> Option<Subject> {
        self.site_id.map(Subject::site)
    }

    async fn run(self, state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
        sync(&state, job.tenant_id, self.site_id).await
    }
}

async fn sync(state: &AppState, tenant_id: i64, only_site: Option<i64>) -> Result<Completion, JobError> {
    let mut q =
        publications::table.filter(publications::tenant_id.eq(tenant_id)).filter(publications::remote_id.is_not_null()).into_boxed();
    if let Some(s) = only_site {
        q = q.filter(publications::site_id.eq(s));
    }
    let rows: Vec<(i64, i64, Option<i64>, String)> = {
        let mut conn = state.db.get().await?;
        q.select((publications::task_id, publications::site_id, publications::remote_id, publications::remote_status))
            .load(&mut conn)
            .await?
    };
    let mut by_site: HashMap<i64, Vec<(i64, i64, String)>> = HashMap::new();
    for (task_id, site_id, remote_id, status) in rows {
        if status != remote::DELETED {
            by_site.entry(site_id).or_default().push((task_id, remote_id.unwrap_or(0), status));
        }
    }
    let (mut checked, mut changed, mut failed_sites) = (0, 0, Vec::new());
    for (site_id, items) in by_site {
        // No connection is held while WordPress answers.
        let opened = {
            let mut conn = state.db.get().await?;
            connect(state, &mut conn, tenant_id, site_id).await
        };
        let c = match opened {
            Ok(c) => c,
            Err(e) => {
                failed_sites.push(format!("site {site_id}: {e}"));
                continue;
            }
        };
        let ids: Vec<i64> = items.iter().map(|i| i.1).collect();
        let found = match posts::statuses(&c.wp, &ids).await {
            Ok(f) => f,
            Err(e) => {
                failed_sites.push(format!("{}: {e}", c.site.name));
                continue;
            }
        };
        let found: HashMap<i64, posts::Remote> = found.into_iter().map(|r| (r.id, r)).collect();
        for (task_id, remote_id, before) in items {
            checked += 1;
            let (status, link, modified) = match found.get(&remote_id) {
                Some(r) => (
                    r.status.clone(),
                    Some(r.link.clone()),
                    chrono::NaiveDateTime::parse_from_str(&r.modified_gmt, "%Y-%m-%dT%H:%M:%S").ok().map(|n| n.and_utc()),
                ),
                // Not listed: confirm it is really gone (and not just hidden from the list).
                None => match posts::get_post(&c.wp, remote_id).await {
                    Ok(None) => (remote::DELETED.to_string(), None, None),
                    Ok(Some(p)) => (text_of(&p, "status"), Some(text_of(&p, "link")), None),
                    Err(e) => {
                        failed_sites.push(format!("{}: post {remote_id}: {e}", c.site.name));
                        continue;
                    }
                },
            };
            if status != before {
                changed += 1;
            }
            apply(state, tenant_id, task_id, &before, &status, link, modified).await?;
        }
    }
    if checked == 0 && !failed_sites.is_empty() {
        return Err(JobError::retry(failed_sites.join("; ")));
    }
    Ok(Completion::result(json!({ "checked": checked, "changed": changed, "errors": failed_sites })))
}

async fn apply(
    state: &AppState,
    tenant_id: i64,
    task_id: i64,
    before: &str,
    status: &str,
    link: Option<String>,
    modified: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(), JobError> {
    let mut conn = state.db.get().await?;
    let (status, before) = (status.to_string(), before.to_string());
    conn.transaction::<_, AppError, _>(async move |conn| {
        let target = publications::table.filter(publications::tenant_id.eq(tenant_id)).filter(publications::task_id.eq(task_id));
        diesel::update(target)
            .set((publications::remote_status.eq(&status), publications::synced_at.eq(diesel::dsl::now)))
            .execute(conn)
            .await?;
        if let Some(l) = &link {
            diesel::update(target).set(publications::remote_url.eq(l)).execute(conn).await?;
        }
        if modified.is_some() {
            diesel::update(target).set(publications::remote_modified.eq(modified)).execute(conn).await?;
        }
        // The task reads "published" only while the post is live (or scheduled) on the site.
        let live = remote::is_live(&status);
        let task_status: TaskStatus =
            tasks::table.filter(tasks::tenant_id.eq(tenant_id)).filter(tasks::id.eq(task_id)).select(tasks::status).first(conn).await?;
        let after = match (task_status, live) {
            // Back to the status it had before it was published (as the publish job does on failure).
            (TaskStatus::Published, false) => Some(target.select(publications::task_status_before).first::<TaskStatus>(conn).await?),
            (TaskStatus::Ready, true) => Some(TaskStatus::Published),
            _ => None,
        };
        if let Some(to) = after {
            diesel::update(tasks::table.filter(tasks::tenant_id.eq(tenant_id)).filter(tasks::id.eq(task_id)))
                .set(tasks::status.eq(to))
                .execute(conn)
                .await?;
        }
        if status != before {
            let who = Who { tenant_id, user_id: None, label: "status sync".into(), ip: None };
            audit::record(conn, &who, "task.remote_status_changed", ("task", task_id.to_string()), json!({ "from": before, "to": status }))
                .await?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// `publish.unpublish`: takes the task's post back to draft on its site.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Unpublish {
    pub task_id: i64,
}

impl Job for Unpublish {
    const KIND: &'static str = service::UNPUBLISH_KIND;

    fn subject(&self) -> Option<Subject> {
        Some(Subject::task(self.task_id))
    }

    async fn run(self, state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
        take_down(&state, &job, self.task_id).await
    }

    /// The publication says why; the post is as it was.
    async fn on_final_failure(&self, conn: &mut AsyncPgConnection, ended: &Ended<'_>) -> AppResult<()> {
        diesel::update(
            publications::table.filter(publications::tenant_id.eq(ended.tenant_id)).filter(publications::task_id.eq(self.task_id)),
        )
        .set((publications::state.eq(PublicationState::Failed), publications::error.eq(format!("unpublish: {}", ended.reason))))
        .execute(conn)
        .await?;
        Ok(())
    }
}

async fn take_down(state: &AppState, job: &ClaimedJob, task_id: i64) -> Result<Completion, JobError> {
    let tenant_id = job.tenant_id;
    let mut conn = state.db.get().await?;
    let p = service::get(&mut conn, tenant_id, task_id).await?.ok_or_else(|| JobError::Fatal("nothing published".into()))?;
    let remote_id = p.remote_id.ok_or_else(|| JobError::Fatal("the article is not on a site".into()))?;
    // A refused address stays refused; a database hiccup is worth another attempt.
    let c = match connect(state, &mut conn, tenant_id, p.site_id).await {
        Err(AppError::Conflict(m)) => return Err(JobError::Fatal(m)),
        Err(AppError::NotFound) => return Err(JobError::Fatal("the site was removed".into())),
        other => other?,
    };
    let post = posts::update_post(&c.wp, remote_id, &json!({ "status": remote::DRAFT })).await?;
    record_step(&mut conn, tenant_id, task_id, "unpublish", true, &format!("post {remote_id} is a draft again")).await?;
    let status = text_of(&post, "status");
    Ok(Completion {
        result: json!({ "post_id": remote_id, "status": status }),
        effects: Some(Box::new(move |conn| {
            Box::pin(async move {
                diesel::update(publications::table.filter(publications::tenant_id.eq(tenant_id)).filter(publications::task_id.eq(task_id)))
                    .set((
                        publications::state.eq(PublicationState::Done),
                        publications::remote_status.eq(&status),
                        publications::error.eq(None::<String>),
                    ))
                    .execute(conn)
                    .await?;
                diesel::update(
                    tasks::table
                        .filter(tasks::tenant_id.eq(tenant_id))
                        .filter(tasks::id.eq(task_id))
                        .filter(tasks::status.eq(TaskStatus::Published)),
                )
                .set(tasks::status.eq(TaskStatus::Ready))
                .execute(conn)
                .await?;
                let who = Who { tenant_id, user_id: None, label: "worker".into(), ip: None };
                audit::record(conn, &who, "task.unpublished", ("task", task_id.to_string()), json!({ "post_id": remote_id })).await
            })
        })),
        actual_credits: None,
    })
}
