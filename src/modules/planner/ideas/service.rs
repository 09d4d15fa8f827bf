//! Content ideas: list with filters, edit, delete, and "send to writer" (one writer task per idea, once).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::db::like_pattern;
use crate::db::schema::{clusters, content_ideas, tasks};
use crate::error::{AppError, AppResult};
use crate::listing::Filter;
use crate::listing::PageParams;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::validate::Check;

pub const CONTENT_TYPES: [&str; 6] = ["post", "page", "product", "service", "category", "landing"];
pub const STRUCTURES: [&str; 9] = ["guide", "how_to", "listicle", "comparison", "review", "news", "case_study", "faq", "glossary"];
crate::text_enum! {
    /// `content_ideas.status`: new, queued (sent to the writer as a task), done.
    pub enum IdeaStatus {
        New = "new",
        Queued = "queued",
        Done = "done",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = content_ideas)]
pub struct Idea {
    pub id: i64,
    pub cluster_id: Option<i64>,
    pub title: String,
    pub description: String,
    pub content_type: String,
    pub structure: String,
    pub target_keywords: Vec<String>,
    pub outline: Vec<String>,
    pub estimated_words: i32,
    pub status: IdeaStatus,
    /// Offered by the offline dev provider: labelled "sample".
    pub sample: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IdeaRow {
    #[serde(flatten)]
    pub idea: Idea,
    pub cluster_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct IdeaFilter {
    pub q: String,
    pub cluster: String,
    pub status: String,
    pub content_type: String,
    pub structure: String,
}

impl Filter for IdeaFilter {
    fn fields(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("q", &self.q),
            ("cluster", &self.cluster),
            ("status", &self.status),
            ("content_type", &self.content_type),
            ("structure", &self.structure),
        ]
    }
}

type JoinedIdeas = diesel::dsl::LeftJoinOn<
    content_ideas::table,
    clusters::table,
    diesel::dsl::And<
        diesel::dsl::Eq<clusters::tenant_id, content_ideas::tenant_id>,
        diesel::dsl::Eq<diesel::dsl::Nullable<clusters::id>, content_ideas::cluster_id>,
    >,
>;

/// The workspace's ideas with their cluster, narrowed by the filter: rows and count both start here.
fn matching<'a>(tenant_id: i64, f: &IdeaFilter) -> diesel::dsl::IntoBoxed<'a, JoinedIdeas, diesel::pg::Pg> {
    let mut q = content_ideas::table
        .left_join(
            clusters::table.on(clusters::tenant_id.eq(content_ideas::tenant_id).and(clusters::id.nullable().eq(content_ideas::cluster_id))),
        )
        .filter(content_ideas::tenant_id.eq(tenant_id))
        .into_boxed();
    if !f.q.trim().is_empty() {
        q = q.filter(content_ideas::title.ilike(like_pattern(f.q.trim())));
    }
    if f.cluster == "none" {
        q = q.filter(content_ideas::cluster_id.is_null());
    } else if let Some(id) = crate::listing::id_field(&f.cluster) {
        q = q.filter(content_ideas::cluster_id.eq(id));
    }
    if let Some(status) = IdeaStatus::parse(f.status.trim()) {
        q = q.filter(content_ideas::status.eq(status));
    }
    if CONTENT_TYPES.contains(&f.content_type.as_str()) {
        q = q.filter(content_ideas::content_type.eq(f.content_type.clone()));
    }
    if STRUCTURES.contains(&f.structure.as_str()) {
        q = q.filter(content_ideas::structure.eq(f.structure.clone()));
    }
    q
}

pub async fn list(conn: &mut AsyncPgConnection, tenant_id: i64, f: &IdeaFilter, page: &PageParams) -> AppResult<(Vec<IdeaRow>, i64)> {
    let rows: Vec<(Idea, Option<String>)> = matching(tenant_id, f)
        .order((content_ideas::created_at.desc(), content_ideas::id.desc()))
        .select((Idea::as_select(), clusters::name.nullable()))
        .limit(page.per_page())
        .offset(page.offset())
        .load(conn)
        .await?;
    let total: i64 = matching(tenant_id, f).count().get_result(conn).await?;
    Ok((rows.into_iter().map(|(idea, cluster_name)| IdeaRow { idea, cluster_name }).collect(), total))
}

pub async fn get(conn: &mut AsyncPgConnection, tenant_id: i64, id: i64) -> AppResult<Idea> {
    Ok(content_ideas::table
        .filter(content_ideas::tenant_id.eq(tenant_id))
        .filter(content_ideas::id.eq(id))
        .select(Idea::as_select())
        .first(conn)
        .await?)
}

/// An idea as typed in the edit form or sent to the API; lists are one item per line or comma-separated.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct IdeaInput {
    pub title: String,
    pub description: String,
    pub content_type: String,
    pub structure: String,
    #[serde(deserialize_with = "crate::validate::text_or_lines")]
    pub target_keywords: String,
    #[serde(deserialize_with = "crate::validate::text_or_lines")]
    pub outline: String,
    #[serde(deserialize_with = "crate::validate::text_or_number")]
    pub estimated_words: String,
}

impl From<&Idea> for IdeaInput {
    fn from(i: &Idea) -> Self {
        IdeaInput {
            title: i.title.clone(),
            description: i.description.clone(),
            content_type: i.content_type.clone(),
            structure: i.structure.clone(),
            target_keywords: i.target_keywords.join(", "),
            outline: i.outline.join("\n"),
            estimated_words: i.estimated_words.to_string(),
        }
    }
}

/// Validated idea fields: the one place both the form and the AI answer are checked.
#[derive(Debug, Clone, PartialEq, AsChangeset)]
#[diesel(table_name = content_ideas)]
pub struct IdeaValues {
    pub title: String,
    pub description: String,
    pub content_type: String,
    pub structure: String,
    pub target_keywords: Vec<String>,
    pub outline: Vec<String>,
    pub estimated_words: i32,
}

/// Longest item and most items of a typed list (target keywords, outline headings).
pub const LIST_ITEM_MAX: usize = 200;
pub const LIST_ITEMS_MAX: usize = 30;

/// Target keywords typed one per line or comma-separated.
pub fn keyword_list(c: &mut Check, field: &str, raw: &str) -> Vec<String> {
    c.list(field, raw, &[',', '\n'], "Target keywords", LIST_ITEM_MAX, LIST_ITEMS_MAX)
}

/// Outline headings typed one per line.
pub fn outline_list(c: &mut Check, field: &str, raw: &str) -> Vec<String> {
    c.list(field, raw, &['\n'], "Outline", LIST_ITEM_MAX, LIST_ITEMS_MAX)
}

pub fn validate(c: &mut Check, input: &IdeaInput) -> IdeaValues {
    let title = c.text("title", &input.title, "Title", 3, 300);
    let description = c.multiline("description", &input.description, "Description", 0, 2000);
    let content_type = input.content_type.trim().to_lowercase();
    if !CONTENT_TYPES.contains(&content_type.as_str()) {
        c.fail("content_type", format!("Content type is one of {}", CONTENT_TYPES.join(", ")));
    }
    let structure = input.structure.trim().to_lowercase().replace(['-', ' '], "_");
    if !STRUCTURES.contains(&structure.as_str()) {
        c.fail("structure", format!("Structure is one of {}", STRUCTURES.join(", ")));
    }
    let estimated_words = match input.estimated_words.trim().parse::<i32>() {
        Ok(n) if (100..=20_000).contains(&n) => n,
        _ => {
            c.fail("estimated_words", "Estimated words is a whole number from 100 to 20,000");
            0
        }
    };
    IdeaValues {
        title,
        description,
        content_type,
        structure,
        target_keywords: keyword_list(c, "target_keywords", &input.target_keywords),
        outline: outline_list(c, "outline", &input.outline),
        estimated_words,
    }
}

pub async fn update(state: &AppState, ctx: &TenantCtx, id: i64, input: &IdeaInput) -> AppResult<Idea> {
    ctx.require(Perm::EditContent)?;
    let mut c = Check::new();
    let values = validate(&mut c, input);
    c.finish()?;
    let (tenant_id, who) = (ctx.tenant_id, Who::from(ctx));
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let idea: Idea =
            diesel::update(content_ideas::table.filter(content_ideas::tenant_id.eq(tenant_id)).filter(content_ideas::id.eq(id)))
                .set((values, content_ideas::updated_at.eq(diesel::dsl::now)))
                .returning(Idea::as_returning())
                .get_result(conn)
                .await?;
        audit::record(conn, &who, "idea.updated", ("idea", id.to_string()), serde_json::json!({ "title": idea.title })).await?;
        Ok(idea)
    })
    .await
}

pub async fn delete(state: &AppState, ctx: &TenantCtx, ids: &[i64]) -> AppResult<usize> {
    ctx.require(Perm::EditContent)?;
    let (tenant_id, who, ids) = (ctx.tenant_id, Who::from(ctx), ids.to_vec());
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let titles: Vec<String> =
            diesel::delete(content_ideas::table.filter(content_ideas::tenant_id.eq(tenant_id)).filter(content_ideas::id.eq_any(&ids)))
                .returning(content_ideas::title)
                .get_results(conn)
                .await?;
        if !titles.is_empty() {
            audit::record(conn, &who, "idea.deleted", ("idea", format!("{} ideas", titles.len())), serde_json::json!({ "titles": titles }))
                .await?;
        }
        Ok(titles.len())
    })
    .await
}

#[derive(Debug, Clone, Serialize)]
pub struct Sent {
    pub task_ids: Vec<i64>,
    /// Ideas already sent before (each idea makes one task).
    pub already_sent: usize,
}

/// Creates a writer task for each idea not sent before and marks the ideas queued; one transaction.
pub async fn send_to_writer(state: &AppState, ctx: &TenantCtx, ids: &[i64]) -> AppResult<Sent> {
    ctx.require(Perm::EditContent)?;
    if ids.is_empty() {
        return Err(AppError::BadRequest("Select the ideas to send to the writer".into()));
    }
    let (tenant_id, who, ids) = (ctx.tenant_id, Who::from(ctx), ids.to_vec());
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let ideas: Vec<Idea> = content_ideas::table
            .filter(content_ideas::tenant_id.eq(tenant_id))
            .filter(content_ideas::id.eq_any(&ids))
            .select(Idea::as_select())
            .for_update()
            .load(conn)
            .await?;
        if ideas.is_empty() {
            return Err(AppError::NotFound);
        }
        let rows: Vec<_> = ideas
            .iter()
            .map(|i| {
                (
                    tasks::tenant_id.eq(tenant_id),
                    tasks::idea_id.eq(Some(i.id)),
                    tasks::cluster_id.eq(i.cluster_id),
                    tasks::title.eq(&i.title),
                    tasks::description.eq(&i.description),
                    tasks::content_type.eq(&i.content_type),
                    tasks::structure.eq(&i.structure),
                    tasks::target_keywords.eq(&i.target_keywords),
                    tasks::outline.eq(&i.outline),
                    tasks::word_count_goal.eq(i.estimated_words),
                )
            })
            .collect();
        let task_ids: Vec<i64> =
            diesel::insert_into(tasks::table).values(rows).on_conflict_do_nothing().returning(tasks::id).get_results(conn).await?;
        diesel::update(content_ideas::table.filter(content_ideas::tenant_id.eq(tenant_id)).filter(content_ideas::id.eq_any(&ids)))
            .filter(content_ideas::status.eq(IdeaStatus::New))
            .set((content_ideas::status.eq(IdeaStatus::Queued), content_ideas::updated_at.eq(diesel::dsl::now)))
            .execute(conn)
            .await?;
        let sent = Sent { already_sent: ideas.len() - task_ids.len(), task_ids };
        audit::record(
            conn,
            &who,
            "idea.sent_to_writer",
            ("idea", format!("{} ideas", ideas.len())),
            serde_json::to_value(&sent).unwrap_or_default(),
        )
        .await?;
        Ok(sent)
    })
    .await
}
