//! Writer tasks: list, create by hand, the editor's save (sanitised, versioned, audited), status moves,
//! delete, versions and restore.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use super::article::{self, ArticleChange, Reason};
use super::html;
use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::db::like_pattern;
use crate::db::schema::{clusters, task_versions, tasks};
use crate::error::{AppError, AppResult};
use crate::listing::PageParams;
use crate::listing::{Filter, Sorts};
use crate::modules::planner::ideas::service::{keyword_list, outline_list};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::validate::Check;

pub use super::status::TaskStatus;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = tasks)]
pub struct Task {
    pub id: i64,
    pub idea_id: Option<i64>,
    pub cluster_id: Option<i64>,
    pub title: String,
    pub description: String,
    pub target_keywords: Vec<String>,
    pub outline: Vec<String>,
    pub word_count_goal: i32,
    pub status: TaskStatus,
    pub meta_title: String,
    pub meta_description: String,
    pub slug: String,
    pub primary_keyword: String,
    pub content_html: String,
    pub word_count: i32,
    pub ai_model: String,
    pub error: Option<String>,
    pub credits_spent: i64,
    /// Written by the offline dev provider: labelled "sample", never published by automation.
    pub sample: bool,
    pub author_profile_id: Option<i64>,
    pub strategy_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A task as the list shows it: everything but the article itself (which can be tens of kilobytes).
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = tasks)]
pub struct TaskListItem {
    pub id: i64,
    pub idea_id: Option<i64>,
    pub cluster_id: Option<i64>,
    pub title: String,
    pub target_keywords: Vec<String>,
    pub word_count_goal: i32,
    pub status: TaskStatus,
    pub word_count: i32,
    pub error: Option<String>,
    pub credits_spent: i64,
    pub sample: bool,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskRow {
    #[serde(flatten)]
    pub task: TaskListItem,
    pub cluster_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct TaskFilter {
    pub q: String,
    pub status: String,
    pub cluster: String,
    /// updated (default), title, status, words, credits, created
    pub sort: String,
    /// asc | desc
    pub dir: String,
}

pub const TASK_SORTS: [&str; 6] = ["updated", "title", "status", "words", "credits", "created"];

impl Filter for TaskFilter {
    const SORTS: &'static Sorts = &Sorts { columns: &TASK_SORTS, default: "updated", ascending: &["title", "status"] };

    fn fields(&self) -> Vec<(&'static str, &str)> {
        vec![("q", &self.q), ("status", &self.status), ("cluster", &self.cluster), ("sort", &self.sort), ("dir", &self.dir)]
    }
}

type JoinedTasks = diesel::dsl::LeftJoinOn<
    tasks::table,
    clusters::table,
    diesel::dsl::And<
        diesel::dsl::Eq<clusters::tenant_id, tasks::tenant_id>,
        diesel::dsl::Eq<diesel::dsl::Nullable<clusters::id>, tasks::cluster_id>,
    >,
>;
type TaskQuery<'a> = diesel::dsl::IntoBoxed<'a, JoinedTasks, diesel::pg::Pg>;

/// The workspace's tasks with their cluster, narrowed by the filter (no order, no limit): rows and count both
/// start here.
fn matching<'a>(tenant_id: i64, f: &TaskFilter) -> TaskQuery<'a> {
    let mut q = tasks::table
        .left_join(clusters::table.on(clusters::tenant_id.eq(tasks::tenant_id).and(clusters::id.nullable().eq(tasks::cluster_id))))
        .filter(tasks::tenant_id.eq(tenant_id))
        .into_boxed();
    if !f.q.trim().is_empty() {
        q = q.filter(tasks::title.ilike(like_pattern(f.q.trim())));
    }
    if let Some(status) = TaskStatus::parse(f.status.trim()) {
        q = q.filter(tasks::status.eq(status));
    }
    if let Some(id) = crate::listing::id_field(&f.cluster) {
        q = q.filter(tasks::cluster_id.eq(id));
    }
    q
}

/// The chosen order, with the id as the tie-breaker so pages never overlap or skip rows.
fn ordered<'a>(q: TaskQuery<'a>, f: &TaskFilter) -> TaskQuery<'a> {
    let sort = f.sort();
    macro_rules! by {
        ($col:expr) => {
            if sort.descending { q.order_by(($col.desc(), tasks::id.desc())) } else { q.order_by(($col.asc(), tasks::id.asc())) }
        };
    }
    match sort.key {
        "title" => by!(tasks::title),
        "status" => by!(tasks::status),
        "words" => by!(tasks::word_count),
        "credits" => by!(tasks::credits_spent),
        "created" => by!(tasks::created_at),
        _ => by!(tasks::updated_at),
    }
}

/// One page of the filtered list and the number matching (cached per tasks revision, like keywords);
/// the rows and the revision go out together on one connection.
pub async fn list(
    state: &AppState,
    conn: &AsyncPgConnection,
    tenant_id: i64,
    f: &TaskFilter,
    page: &PageParams,
) -> AppResult<(Vec<TaskRow>, i64)> {
    let rows_q = ordered(matching(tenant_id, f), f)
        .select((TaskListItem::as_select(), clusters::name.nullable()))
        .limit(page.per_page())
        .offset(page.offset());
    let (rows, rev) = tokio::try_join!(
        async { rows_q.load::<(TaskListItem, Option<String>)>(&mut &*conn).await.map_err(AppError::from) },
        crate::db::counts::revision(conn, tenant_id, "tasks")
    )?;
    let total = crate::db::counts::cached(state, tenant_id, "tasks", rev, &f.count_key(), || async {
        Ok(matching(tenant_id, f).count().get_result::<i64>(&mut &*conn).await?)
    })
    .await?;
    Ok((rows.into_iter().map(|(task, cluster_name)| TaskRow { task, cluster_name }).collect(), total))
}

/// The list's view of the given tasks (at most [`STATE_MAX`]), for refreshing rows in place while they generate.
pub async fn list_items(conn: &mut AsyncPgConnection, tenant_id: i64, ids: &[i64]) -> AppResult<Vec<TaskListItem>> {
    let ids = &ids[..ids.len().min(STATE_MAX)];
    Ok(tasks::table
        .filter(tasks::tenant_id.eq(tenant_id))
        .filter(tasks::id.eq_any(ids))
        .order(tasks::id)
        .select(TaskListItem::as_select())
        .load(conn)
        .await?)
}

/// Rows one refresh of the tasks list asks about (its largest page).
pub const STATE_MAX: usize = 200;

pub async fn get(conn: &mut AsyncPgConnection, tenant_id: i64, id: i64) -> AppResult<Task> {
    Ok(tasks::table.filter(tasks::tenant_id.eq(tenant_id)).filter(tasks::id.eq(id)).select(Task::as_select()).first(conn).await?)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct NewTask {
    pub title: String,
    /// Comma- or line-separated (or a JSON array).
    #[serde(deserialize_with = "crate::validate::text_or_lines")]
    pub target_keywords: String,
    /// One H2 per line (or a JSON array).
    #[serde(deserialize_with = "crate::validate::text_or_lines")]
    pub outline: String,
    #[serde(deserialize_with = "crate::validate::text_or_number")]
    pub word_count_goal: String,
}

fn goal(c: &mut Check, raw: &str) -> i32 {
    match raw.trim() {
        "" => 1500,
        s => match s.replace(',', "").parse::<i32>() {
            Ok(n) if (100..=20_000).contains(&n) => n,
            _ => {
                c.fail("word_count_goal", "Word count is a whole number from 100 to 20,000");
                0
            }
        },
    }
}

pub async fn create(state: &AppState, ctx: &TenantCtx, input: &NewTask) -> AppResult<Task> {
    ctx.require(Perm::EditContent)?;
    let mut c = Check::new();
    let title = c.text("title", &input.title, "Title", 3, 300);
    let words = goal(&mut c, &input.word_count_goal);
    let keywords = keyword_list(&mut c, "target_keywords", &input.target_keywords);
    let outline = outline_list(&mut c, "outline", &input.outline);
    c.finish()?;
    let (tenant_id, who) = (ctx.tenant_id, Who::from(ctx));
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let task: Task = diesel::insert_into(tasks::table)
            .values((
                tasks::tenant_id.eq(tenant_id),
                tasks::title.eq(&title),
                tasks::primary_keyword.eq(<[String]>::first(&keywords).cloned().unwrap_or_default()),
                tasks::target_keywords.eq(&keywords),
                tasks::outline.eq(&outline),
                tasks::word_count_goal.eq(words),
            ))
            .returning(Task::as_returning())
            .get_result(conn)
            .await?;
        audit::record(conn, &who, "task.created", ("task", task.id.to_string()), serde_json::json!({ "title": task.title })).await?;
        Ok(task)
    })
    .await
}

/// What the editor saves. The HTML is sanitised here, whatever sent it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ArticleInput {
    pub title: String,
    pub meta_title: String,
    pub meta_description: String,
    pub slug: String,
    pub primary_keyword: String,
    #[serde(deserialize_with = "crate::validate::text_or_lines")]
    pub target_keywords: String,
    pub content_html: String,
    pub status: String,
}

impl From<&Task> for ArticleInput {
    fn from(t: &Task) -> Self {
        ArticleInput {
            title: t.title.clone(),
            meta_title: t.meta_title.clone(),
            meta_description: t.meta_description.clone(),
            slug: t.slug.clone(),
            primary_keyword: t.primary_keyword.clone(),
            target_keywords: t.target_keywords.join(", "),
            content_html: t.content_html.clone(),
            status: t.status.to_string(),
        }
    }
}

/// Keeps the task's current article as the next version, before it is replaced.
pub async fn keep_version(conn: &mut AsyncPgConnection, tenant_id: i64, t: &Task, replaced_by: &str, by: &str) -> AppResult<()> {
    if t.content_html.is_empty() {
        return Ok(());
    }
    let next: i32 = task_versions::table
        .filter(task_versions::tenant_id.eq(tenant_id))
        .filter(task_versions::task_id.eq(t.id))
        .select(diesel::dsl::max(task_versions::version))
        .first::<Option<i32>>(conn)
        .await?
        .unwrap_or(0)
        + 1;
    diesel::insert_into(task_versions::table)
        .values((
            task_versions::tenant_id.eq(tenant_id),
            task_versions::task_id.eq(t.id),
            task_versions::version.eq(next),
            task_versions::replaced_by.eq(replaced_by),
            task_versions::title.eq(&t.title),
            task_versions::meta_title.eq(&t.meta_title),
            task_versions::meta_description.eq(&t.meta_description),
            task_versions::slug.eq(&t.slug),
            task_versions::content_html.eq(&t.content_html),
            task_versions::word_count.eq(t.word_count),
            task_versions::created_by.eq(by),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The slug an editor typed (a field error when it is longer than a slug may be), or one made from the title.
fn slug(c: &mut Check, typed: &str, title: &str) -> String {
    if typed.trim().is_empty() {
        return html::slugify(title);
    }
    let slug = html::slugify(typed);
    let n = html::slugify_uncut(typed).chars().count();
    if n > html::SLUG_MAX {
        c.fail("slug", format!("Slug can be at most {} characters (got {n})", html::SLUG_MAX));
    } else if slug.is_empty() {
        c.fail("slug", "Slug needs at least one letter or digit");
    }
    slug
}

pub async fn save(state: &AppState, ctx: &TenantCtx, id: i64, input: &ArticleInput) -> AppResult<Task> {
    ctx.require(Perm::EditContent)?;
    let mut c = Check::new();
    let title = c.text("title", &input.title, "Title", 3, 300);
    let meta_title = c.text("meta_title", &input.meta_title, "Meta title", 0, 60);
    let meta_description = c.text("meta_description", &input.meta_description, "Meta description", 0, 160);
    let slug = slug(&mut c, &input.slug, &input.title);
    let status = TaskStatus::parse(input.status.trim()).filter(|s| s.is_written());
    if status.is_none() {
        c.fail("status", "Status is draft, review or ready");
    }
    let content_html = html::sanitize(&input.content_html);
    let keywords = keyword_list(&mut c, "target_keywords", &input.target_keywords);
    let primary = c.text("primary_keyword", &input.primary_keyword, "Primary keyword", 0, 200);
    c.finish()?;
    let word_count = html::word_count(&content_html);
    let (tenant_id, who) = (ctx.tenant_id, Who::from(ctx));
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let change = |before: &Task| {
            if !before.status.can_edit() {
                return Err(AppError::Conflict(format!("This task is {}; it can be edited once it has an article", before.status)));
            }
            Ok(ArticleChange {
                title: Some(title),
                meta_title: Some(meta_title),
                meta_description: Some(meta_description),
                slug: Some(slug),
                primary_keyword: Some(primary),
                target_keywords: Some(keywords),
                content_html: Some(content_html),
                word_count: Some(word_count),
                // A published article stays published while it is corrected; publishing again updates the post.
                status: Some(before.status.after_edit(status.unwrap_or(TaskStatus::Draft))),
                ..Default::default()
            })
        };
        let (before, t) = article::replace(conn, tenant_id, id, Reason::Edit, &who.label, 0, change).await?;
        let changed: Vec<&str> = [
            ("title", before.title != t.title),
            ("meta_title", before.meta_title != t.meta_title),
            ("meta_description", before.meta_description != t.meta_description),
            ("slug", before.slug != t.slug),
            ("content", before.content_html != t.content_html),
            ("status", before.status != t.status),
            ("keywords", before.target_keywords != t.target_keywords || before.primary_keyword != t.primary_keyword),
        ]
        .into_iter()
        .filter(|(_, c)| *c)
        .map(|(n, _)| n)
        .collect();
        let detail = serde_json::json!({ "changed": changed, "status": { "from": before.status, "to": t.status } });
        audit::record(conn, &who, "task.edited", ("task", id.to_string()), detail).await?;
        Ok(t)
    })
    .await
}

pub async fn delete(state: &AppState, ctx: &TenantCtx, ids: &[i64]) -> AppResult<usize> {
    ctx.require(Perm::EditContent)?;
    let (tenant_id, who, ids) = (ctx.tenant_id, Who::from(ctx), ids.to_vec());
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let titles: Vec<String> = diesel::delete(tasks::table.filter(tasks::tenant_id.eq(tenant_id)).filter(tasks::id.eq_any(&ids)))
            .returning(tasks::title)
            .get_results(conn)
            .await?;
        if !titles.is_empty() {
            audit::record(conn, &who, "task.deleted", ("task", format!("{} tasks", titles.len())), serde_json::json!({ "titles": titles }))
                .await?;
        }
        Ok(titles.len())
    })
    .await
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = task_versions)]
pub struct Version {
    pub version: i32,
    pub replaced_by: String,
    pub title: String,
    pub meta_title: String,
    pub meta_description: String,
    pub slug: String,
    pub content_html: String,
    pub word_count: i32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

pub async fn versions(conn: &mut AsyncPgConnection, tenant_id: i64, task_id: i64) -> AppResult<Vec<Version>> {
    Ok(task_versions::table
        .filter(task_versions::tenant_id.eq(tenant_id))
        .filter(task_versions::task_id.eq(task_id))
        .order(task_versions::version.desc())
        .select(Version::as_select())
        .load(conn)
        .await?)
}

/// Puts an earlier version back (the current article becomes a version itself).
pub async fn restore(state: &AppState, ctx: &TenantCtx, task_id: i64, version: i32) -> AppResult<Task> {
    ctx.require(Perm::EditContent)?;
    let (tenant_id, who) = (ctx.tenant_id, Who::from(ctx));
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let v: Version = task_versions::table
            .filter(task_versions::tenant_id.eq(tenant_id))
            .filter(task_versions::task_id.eq(task_id))
            .filter(task_versions::version.eq(version))
            .select(Version::as_select())
            .first(conn)
            .await?;
        let change = |before: &Task| {
            Ok(ArticleChange {
                title: Some(v.title),
                meta_title: Some(v.meta_title),
                meta_description: Some(v.meta_description),
                slug: Some(v.slug),
                content_html: Some(v.content_html),
                word_count: Some(v.word_count),
                status: Some(before.status.after_restore()),
                ..Default::default()
            })
        };
        let (_, t) = article::replace(conn, tenant_id, task_id, Reason::Restore, &who.label, 0, change).await?;
        audit::record(conn, &who, "task.restored", ("task", task_id.to_string()), serde_json::json!({ "version": version })).await?;
        Ok(t)
    })
    .await
}

/// Which author profile and strategy a task's article is written with (none = neutral defaults), as the
/// editor's form and the JSON API send them.
#[derive(Debug, Default, serde::Deserialize)]
pub struct StyleInput {
    #[serde(default, deserialize_with = "crate::validate::optional_id")]
    pub author_profile_id: Option<i64>,
    #[serde(default, deserialize_with = "crate::validate::optional_id")]
    pub strategy_id: Option<i64>,
}

pub async fn set_style(state: &AppState, ctx: &TenantCtx, id: i64, style: &StyleInput) -> AppResult<Task> {
    let (profile, strategy) = (style.author_profile_id, style.strategy_id);
    ctx.require(Perm::EditContent)?;
    let mut conn = state.db.get().await?;
    let tenant_id = ctx.tenant_id;
    if let Some(p) = profile {
        crate::modules::thinker::styles::profile(&mut conn, tenant_id, p)
            .await
            .map_err(|_| AppError::field("author_profile_id", "Choose one of this workspace's author profiles"))?;
    }
    if let Some(s) = strategy {
        crate::modules::thinker::styles::strategy(&mut conn, tenant_id, s)
            .await
            .map_err(|_| AppError::field("strategy_id", "Choose one of this workspace's strategies"))?;
    }
    let t: Task = diesel::update(tasks::table.filter(tasks::tenant_id.eq(tenant_id)).filter(tasks::id.eq(id)))
        .set((tasks::author_profile_id.eq(profile), tasks::strategy_id.eq(strategy), tasks::updated_at.eq(diesel::dsl::now)))
        .returning(Task::as_returning())
        .get_result(&mut conn)
        .await?;
    audit::record(
        &mut conn,
        &Who::from(ctx),
        "task.style_set",
        ("task", id.to_string()),
        serde_json::json!({ "author_profile_id": profile, "strategy_id": strategy }),
    )
    .await?;
    Ok(t)
}

pub async fn version(conn: &mut AsyncPgConnection, tenant_id: i64, task_id: i64, version: i32) -> AppResult<Version> {
    Ok(task_versions::table
        .filter(task_versions::tenant_id.eq(tenant_id))
        .filter(task_versions::task_id.eq(task_id))
        .filter(task_versions::version.eq(version))
        .select(Version::as_select())
        .first(conn)
        .await?)
}

/// The H2 headings of an article, in order (what a comparison lines up).
pub fn headings(html: &str) -> Vec<String> {
    html.split("<h2>").skip(1).filter_map(|s| s.split_once("</h2>").map(|(h, _)| h.to_string())).collect()
}

/// What the provider calls for a task cost (its generate, reparse and image-prompt jobs, and its images' renders), in
/// millionths of a dollar — shown beside the credits charged, so the margin is visible.
pub async fn provider_cost(conn: &mut AsyncPgConnection, tenant_id: i64, task_id: i64) -> AppResult<i64> {
    use diesel::sql_types::{BigInt, Text};
    #[derive(QueryableByName)]
    struct Cost {
        #[diesel(sql_type = BigInt)]
        micros: i64,
    }
    let row: Cost = diesel::sql_query(
        "SELECT coalesce(sum(c.cost_micros), 0)::bigint AS micros FROM ai_calls c
           JOIN jobs j ON j.tenant_id = c.tenant_id AND j.id = c.job_id
         WHERE c.tenant_id = $1
           AND ((j.subject_type = $3 AND j.subject_id = $2)
             OR (j.subject_type = $4 AND j.subject_id IN (SELECT i.id FROM images i WHERE i.tenant_id = $1 AND i.task_id = $2)))",
    )
    .bind::<BigInt, _>(tenant_id)
    .bind::<BigInt, _>(task_id)
    .bind::<Text, _>(crate::jobs::SubjectKind::Task.as_str())
    .bind::<Text, _>(crate::jobs::SubjectKind::Image.as_str())
    .get_result(conn)
    .await?;
    Ok(row.micros)
}
