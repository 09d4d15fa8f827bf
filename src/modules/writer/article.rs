//! The one way a task's article is replaced — by generation, reparse, the editor's save or a restore. Locks are
//! taken in the order every job completion takes them — the workspace's balance, then the task — so two writers of
//! one article wait for each other instead of deadlocking (which answered 500). The article being replaced is kept
//! as the next version under the task's lock, so version numbers never collide; `change` sees the task as it is
//! once the lock is held and may refuse with a 409.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::service::{Task, TaskStatus, keep_version};
use crate::db::schema::tasks;
use crate::error::AppResult;

/// Why an article is replaced: the name its earlier text is kept under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Generate,
    Reparse,
    Edit,
    Restore,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Generate => "generate",
            Reason::Reparse => "reparse",
            Reason::Edit => "edit",
            Reason::Restore => "restore",
        }
    }

    /// An edit that leaves the text alone (a new meta title, say) keeps no version; the others always do.
    fn keeps_version(self, before: &Task, change: &ArticleChange) -> bool {
        match self {
            Reason::Edit => change.content_html.as_ref().is_some_and(|c| *c != before.content_html),
            Reason::Generate | Reason::Reparse | Reason::Restore => true,
        }
    }
}

/// The fields a replacement sets; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = tasks)]
pub struct ArticleChange {
    pub title: Option<String>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub slug: Option<String>,
    pub primary_keyword: Option<String>,
    pub target_keywords: Option<Vec<String>>,
    pub content_html: Option<String>,
    pub word_count: Option<i32>,
    pub ai_model: Option<String>,
    pub status: Option<TaskStatus>,
    /// `Some(None)` clears a former error.
    pub error: Option<Option<String>>,
    /// Written by the dev provider: shown as "sample", never published by automation.
    pub sample: Option<bool>,
}

/// Locks the task, lets `change` decide from the task as it is now (it may refuse with a 409), keeps the article
/// being replaced as a version and writes the change. Returns the task before and after. Run it inside the
/// caller's transaction, which also records the audit event.
pub async fn replace<F>(
    conn: &mut AsyncPgConnection,
    tenant_id: i64,
    task_id: i64,
    reason: Reason,
    by: &str,
    credits: i64,
    change: F,
) -> AppResult<(Task, Task)>
where
    F: FnOnce(&Task) -> AppResult<ArticleChange>,
{
    crate::billing::ledger::lock_and_check(conn, tenant_id, 0).await?;
    let before: Task = tasks::table
        .filter(tasks::tenant_id.eq(tenant_id))
        .filter(tasks::id.eq(task_id))
        .select(Task::as_select())
        .for_update()
        .first(conn)
        .await?;
    let change = change(&before)?;
    if reason.keeps_version(&before, &change) {
        keep_version(conn, tenant_id, &before, reason.as_str(), by).await?;
    }
    let after: Task = diesel::update(tasks::table.filter(tasks::tenant_id.eq(tenant_id)).filter(tasks::id.eq(task_id)))
        .set((&change, tasks::credits_spent.eq(tasks::credits_spent + credits), tasks::updated_at.eq(diesel::dsl::now)))
        .returning(Task::as_returning())
        .get_result(conn)
        .await?;
    Ok((before, after))
}
