//! Clusters: the list with its live figures (keywords, volume, difficulty, ideas), create, rename, merge,
//! delete, and `ensure` — the one get-or-create both clusterers use.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::db::schema::{clusters, content_ideas, keywords};
use crate::db::{is_unique_violation, like_pattern};
use crate::error::{AppError, AppResult};
use crate::listing::PageParams;
use crate::listing::{Filter, Sorts};
use crate::modules::planner::keywords::filter::KeywordStatus;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::validate::Check;

crate::text_enum! {
    /// `clusters.status`.
    pub enum ClusterStatus {
        Active = "active",
        Archived = "archived",
    }
}

/// A cluster as the form and the JSON API send it (one request for both).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClusterInput {
    pub name: String,
    pub description: String,
    /// active (the default) or archived.
    pub status: String,
}

#[derive(Debug, Clone, QueryableByName, Serialize)]
pub struct ClusterRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub description: String,
    #[diesel(sql_type = Text)]
    pub status: ClusterStatus,
    #[diesel(sql_type = Text)]
    pub source: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    pub keyword_count: i64,
    #[diesel(sql_type = BigInt)]
    pub total_volume: i64,
    #[diesel(sql_type = Nullable<diesel::sql_types::Double>)]
    pub avg_difficulty: Option<f64>,
    #[diesel(sql_type = BigInt)]
    pub ideas_count: i64,
}

impl ClusterRow {
    pub fn avg_difficulty_label(&self) -> String {
        self.avg_difficulty.map(|d| format!("{d:.0}")).unwrap_or_else(|| "—".into())
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct ClusterFilter {
    pub q: String,
    pub status: String,
    pub sort: String,
}

pub const CLUSTER_SORTS: [&str; 6] = ["name", "keywords", "volume", "difficulty", "ideas", "created"];

impl Filter for ClusterFilter {
    const SORTS: &'static Sorts = &Sorts { columns: &CLUSTER_SORTS, default: "volume", ascending: &["name"] };

    fn fields(&self) -> Vec<(&'static str, &str)> {
        vec![("q", &self.q), ("status", &self.status), ("sort", &self.sort)]
    }
}

impl ClusterFilter {
    fn order_sql(&self) -> String {
        let sort = self.sort();
        let dir = if sort.descending { "DESC" } else { "ASC" };
        let by = match sort.key {
            "name" => "lower(c.name)",
            "keywords" => "keyword_count",
            "difficulty" => "avg_difficulty",
            "ideas" => "ideas_count",
            "created" => "c.created_at",
            _ => "total_volume",
        };
        format!("{by} {dir} NULLS LAST, c.id {dir}")
    }
}

/// Which clusters a list shows: the one condition the rows and the count share ($1 tenant, $2 text, $3 its
/// pattern, $4 status, $5 one cluster or 0).
const MATCHING_SQL: &str =
    "WHERE c.tenant_id = $1 AND ($2 = '' OR c.name ILIKE $3) AND ($4 = '' OR c.status = $4) AND ($5 = 0 OR c.id = $5)";

const ROWS_SQL: &str = "
SELECT c.id, c.name, c.description, c.status, c.source, c.created_at,
       COALESCE(k.n, 0) AS keyword_count, COALESCE(k.vol, 0) AS total_volume, k.avg_kd AS avg_difficulty,
       COALESCE(i.n, 0) AS ideas_count
FROM clusters c
LEFT JOIN LATERAL (SELECT count(*) AS n, sum(volume)::bigint AS vol, avg(difficulty)::float8 AS avg_kd
                   FROM keywords WHERE tenant_id = c.tenant_id AND cluster_id = c.id) k ON true
LEFT JOIN LATERAL (SELECT count(*) AS n FROM content_ideas WHERE tenant_id = c.tenant_id AND cluster_id = c.id) i ON true";

type ClusterSql = diesel::query_builder::BoxedSqlQuery<'static, diesel::pg::Pg, diesel::query_builder::SqlQuery>;

/// `sql` (rows or count, ending in `MATCHING_SQL`) with the filter's values bound.
fn matching(sql: String, tenant_id: i64, f: &ClusterFilter, only: i64) -> ClusterSql {
    let q = f.q.trim().to_string();
    let status = ClusterStatus::parse(f.status.trim()).map(|s| s.to_string()).unwrap_or_default();
    diesel::sql_query(sql)
        .into_boxed()
        .bind::<BigInt, _>(tenant_id)
        .bind::<Text, _>(q.clone())
        .bind::<Text, _>(like_pattern(&q))
        .bind::<Text, _>(status)
        .bind::<BigInt, _>(only)
}

fn rows_query(tenant_id: i64, f: &ClusterFilter, only: i64) -> ClusterSql {
    matching(format!("{ROWS_SQL} {MATCHING_SQL} ORDER BY {} LIMIT $6 OFFSET $7", f.order_sql()), tenant_id, f, only)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many clusters the filter matches: the rows' own condition.
pub async fn count(conn: &mut AsyncPgConnection, tenant_id: i64, f: &ClusterFilter) -> AppResult<i64> {
    let c: Count = matching(format!("SELECT count(*) AS n FROM clusters c {MATCHING_SQL}"), tenant_id, f, 0).get_result(conn).await?;
    Ok(c.n)
}

pub async fn list(conn: &mut AsyncPgConnection, tenant_id: i64, f: &ClusterFilter, page: &PageParams) -> AppResult<(Vec<ClusterRow>, i64)> {
    let rows: Vec<ClusterRow> =
        rows_query(tenant_id, f, 0).bind::<BigInt, _>(page.per_page()).bind::<BigInt, _>(page.offset()).load(conn).await?;
    Ok((rows, count(conn, tenant_id, f).await?))
}

pub async fn get(conn: &mut AsyncPgConnection, tenant_id: i64, id: i64) -> AppResult<ClusterRow> {
    let mut rows: Vec<ClusterRow> =
        rows_query(tenant_id, &ClusterFilter::default(), id).bind::<BigInt, _>(1).bind::<BigInt, _>(0).load(conn).await?;
    rows.pop().ok_or(AppError::NotFound)
}

/// Every cluster's id and name, by name (for "move to cluster" menus).
pub async fn names(conn: &AsyncPgConnection, tenant_id: i64) -> AppResult<Vec<(i64, String)>> {
    Ok(clusters::table
        .filter(clusters::tenant_id.eq(tenant_id))
        .order(clusters::name)
        .select((clusters::id, clusters::name))
        .limit(5_000)
        .load(&mut &*conn)
        .await?)
}

#[derive(QueryableByName)]
struct Ensured {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Bool)]
    created: bool,
}

/// The cluster with this name (case-insensitively), created if missing. Returns (id, created).
pub async fn ensure(conn: &mut AsyncPgConnection, tenant_id: i64, name: &str, description: &str, source: &str) -> AppResult<(i64, bool)> {
    let name: String = name.trim().chars().take(200).collect();
    let r: Ensured = diesel::sql_query(
        "INSERT INTO clusters (tenant_id, name, description, source) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, lower(name)) DO UPDATE SET updated_at = now()
         RETURNING id, (xmax = 0) AS created",
    )
    .bind::<BigInt, _>(tenant_id)
    .bind::<Text, _>(&name)
    .bind::<Text, _>(description)
    .bind::<Text, _>(source)
    .get_result(conn)
    .await?;
    Ok((r.id, r.created))
}

fn check_name_and_description(name: &str, description: &str) -> AppResult<(String, String)> {
    let mut c = Check::new();
    let name = c.text("name", name, "Name", 1, 200);
    let description = c.multiline("description", description, "Description", 0, 2000);
    c.finish()?;
    Ok((name, description))
}

fn name_taken(e: diesel::result::Error, name: &str) -> AppError {
    if is_unique_violation(&e) { AppError::field("name", format!("A cluster named “{name}” already exists")) } else { e.into() }
}

pub async fn create(state: &AppState, ctx: &TenantCtx, name: &str, description: &str) -> AppResult<i64> {
    ctx.require(Perm::EditContent)?;
    let (name, description) = check_name_and_description(name, description)?;
    let (tenant_id, who) = (ctx.tenant_id, Who::from(ctx));
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let id: i64 = diesel::insert_into(clusters::table)
            .values((clusters::tenant_id.eq(tenant_id), clusters::name.eq(&name), clusters::description.eq(&description)))
            .returning(clusters::id)
            .get_result(conn)
            .await
            .map_err(|e| name_taken(e, &name))?;
        audit::record(conn, &who, "cluster.created", ("cluster", id.to_string()), serde_json::json!({ "name": name })).await?;
        Ok(id)
    })
    .await
}

/// Rename, describe, archive or reactivate.
pub async fn update(state: &AppState, ctx: &TenantCtx, id: i64, input: &ClusterInput) -> AppResult<()> {
    ctx.require(Perm::EditContent)?;
    let (name, description) = check_name_and_description(&input.name, &input.description)?;
    let status = match input.status.trim() {
        "" => ClusterStatus::Active,
        s => ClusterStatus::parse(s).ok_or_else(|| AppError::field("status", "Status is active or archived"))?,
    };
    let (tenant_id, who) = (ctx.tenant_id, Who::from(ctx));
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let before: String = clusters::table
            .filter(clusters::tenant_id.eq(tenant_id))
            .filter(clusters::id.eq(id))
            .select(clusters::name)
            .first(conn)
            .await?;
        diesel::update(clusters::table.filter(clusters::tenant_id.eq(tenant_id)).filter(clusters::id.eq(id)))
            .set((
                clusters::name.eq(&name),
                clusters::description.eq(&description),
                clusters::status.eq(status),
                clusters::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await
            .map_err(|e| name_taken(e, &name))?;
        audit::record(
            conn,
            &who,
            "cluster.updated",
            ("cluster", id.to_string()),
            serde_json::json!({ "before": before, "name": name, "status": status }),
        )
        .await
    })
    .await
}

/// The cluster to merge into, as the cluster page's select and the JSON API send it.
#[derive(Debug, Default, serde::Deserialize)]
pub struct MergeInput {
    #[serde(default, deserialize_with = "crate::validate::optional_id")]
    pub into: Option<i64>,
}

/// Moves `source`'s keywords and ideas into the chosen cluster and deletes `source`; returns (target, keywords moved).
pub async fn merge(state: &AppState, ctx: &TenantCtx, source: i64, input: &MergeInput) -> AppResult<(i64, i64)> {
    ctx.require(Perm::EditContent)?;
    let target = input.into.ok_or_else(|| AppError::field("into", "Choose the cluster to merge into"))?;
    if source == target {
        return Err(AppError::BadRequest("Choose two different clusters to merge".into()));
    }
    let (tenant_id, who) = (ctx.tenant_id, Who::from(ctx));
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let found: Vec<(i64, String)> = clusters::table
            .filter(clusters::tenant_id.eq(tenant_id))
            .filter(clusters::id.eq_any([source, target]))
            .select((clusters::id, clusters::name))
            .for_update()
            .load(conn)
            .await?;
        if found.len() != 2 {
            return Err(AppError::NotFound);
        }
        let moved = diesel::update(keywords::table.filter(keywords::tenant_id.eq(tenant_id)).filter(keywords::cluster_id.eq(source)))
            .set((keywords::cluster_id.eq(target), keywords::updated_at.eq(diesel::dsl::now)))
            .execute(conn)
            .await?;
        diesel::update(content_ideas::table.filter(content_ideas::tenant_id.eq(tenant_id)).filter(content_ideas::cluster_id.eq(source)))
            .set(content_ideas::cluster_id.eq(target))
            .execute(conn)
            .await?;
        diesel::delete(clusters::table.filter(clusters::tenant_id.eq(tenant_id)).filter(clusters::id.eq(source))).execute(conn).await?;
        let names: std::collections::HashMap<i64, String> = found.into_iter().collect();
        let detail = serde_json::json!({ "from": names.get(&source), "into": names.get(&target), "keywords_moved": moved });
        audit::record(conn, &who, "cluster.merged", ("cluster", target.to_string()), detail).await?;
        Ok((target, moved as i64))
    })
    .await
}

/// Deletes clusters; their keywords become unclustered (status back to new), their ideas stay, unlinked.
pub async fn delete(state: &AppState, ctx: &TenantCtx, ids: &[i64]) -> AppResult<usize> {
    ctx.require(Perm::EditContent)?;
    let (tenant_id, who, ids) = (ctx.tenant_id, Who::from(ctx), ids.to_vec());
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        diesel::update(keywords::table.filter(keywords::tenant_id.eq(tenant_id)).filter(keywords::cluster_id.eq_any(&ids)))
            .set((keywords::cluster_id.eq(None::<i64>), keywords::status.eq(KeywordStatus::New), keywords::updated_at.eq(diesel::dsl::now)))
            .execute(conn)
            .await?;
        let names: Vec<String> =
            diesel::delete(clusters::table.filter(clusters::tenant_id.eq(tenant_id)).filter(clusters::id.eq_any(&ids)))
                .returning(clusters::name)
                .get_results(conn)
                .await?;
        if !names.is_empty() {
            audit::record(
                conn,
                &who,
                "cluster.deleted",
                ("cluster", ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")),
                serde_json::json!({ "names": names }),
            )
            .await?;
        }
        Ok(names.len())
    })
    .await
}
