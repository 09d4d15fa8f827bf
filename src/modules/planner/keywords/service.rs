//! Keywords: list, add, edit, delete and the bulk actions. Pages, API and the other planner services
//! call these; field rules come from `import::rows`, the one place keyword fields are validated.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use super::filter::{self, KeywordFilter, KeywordStatus};
use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::db::is_unique_violation;
use crate::db::schema::{clusters, keywords};
use crate::error::{AppError, AppResult};
use crate::listing::PageParams;
use crate::modules::planner::import::rows;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::validate::Check;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = keywords)]
pub struct Keyword {
    pub id: i64,
    pub keyword: String,
    pub volume: Option<i32>,
    pub difficulty: Option<i16>,
    pub cpc: Option<f64>,
    /// The first of `intents` (kept by the database), for clients that read one intent.
    pub intent: Option<String>,
    /// Every intent the keyword has, main one first.
    pub intents: Vec<String>,
    pub country: Option<String>,
    pub sector: Option<String>,
    pub cluster_id: Option<i64>,
    pub status: KeywordStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set when the volume is an estimated range: `volume` is its lower bound, this the upper.
    pub volume_high: Option<i32>,
    pub parent_keyword: Option<String>,
    /// Search Console's figures (it gives no volume).
    pub clicks: Option<i32>,
    pub impressions: Option<i32>,
    /// Click-through rate in percent.
    pub ctr: Option<f64>,
    pub position: Option<f64>,
    /// Keyword Planner's competition (low, medium, high) and its 0–100 index, and the top-of-page bid range.
    pub competition: Option<String>,
    pub competition_index: Option<i16>,
    pub bid_low: Option<f64>,
    pub bid_high: Option<f64>,
}

/// "1,000" → "1K", "1,500" → "1.5K", "2,000,000" → "2M": volumes the way Keyword Planner writes its ranges.
pub fn compact(n: i32) -> String {
    let (scale, suffix): (i64, &str) = match n {
        n if n >= 1_000_000 => (1_000_000, "M"),
        n if n >= 1_000 => (1_000, "K"),
        n => return n.to_string(),
    };
    let tenths = (i64::from(n) * 10 + scale / 2) / scale;
    if tenths % 10 == 0 { format!("{}{suffix}", tenths / 10) } else { format!("{}.{}{suffix}", tenths / 10, tenths % 10) }
}

/// An estimated range as shown in the list: "1K–10K (est.)".
pub fn volume_range_label(low: i32, high: i32) -> String {
    format!("{}–{} (est.)", compact(low), compact(high))
}

impl Keyword {
    /// The volume as shown: a figure, or the estimated range.
    pub fn volume_label(&self) -> Option<String> {
        match (self.volume, self.volume_high) {
            (Some(low), Some(high)) => Some(volume_range_label(low, high)),
            (Some(v), None) => Some(crate::web::thousands(v)),
            (None, _) => None,
        }
    }
    pub fn has_search_console(&self) -> bool {
        self.clicks.is_some() || self.impressions.is_some() || self.ctr.is_some() || self.position.is_some()
    }
    /// The top-of-page bid range as shown: "2.10–9.75", or the one bound given.
    pub fn bid_label(&self) -> Option<String> {
        match (self.bid_low, self.bid_high) {
            (Some(l), Some(h)) => Some(format!("{l:.2}–{h:.2}")),
            (Some(v), None) | (None, Some(v)) => Some(format!("{v:.2}")),
            (None, None) => None,
        }
    }
    /// The list's query string for the keywords sharing this one's parent keyword.
    pub fn parent_query(&self) -> String {
        serde_urlencoded::to_string([("parent", self.parent_keyword.as_deref().unwrap_or(""))]).unwrap_or_default()
    }
    pub fn has_keyword_planner(&self) -> bool {
        self.competition.is_some() || self.competition_index.is_some() || self.bid_low.is_some() || self.bid_high.is_some()
    }
}

/// A row of the list: the keyword and its cluster's name.
#[derive(Debug, Clone, Serialize)]
pub struct KeywordRow {
    #[serde(flatten)]
    pub keyword: Keyword,
    pub cluster_name: Option<String>,
}

impl KeywordRow {
    /// Badge colour band for the difficulty (easy < 30, medium < 60, hard < 80, very hard).
    pub fn difficulty_band(&self) -> &'static str {
        match self.keyword.difficulty {
            None => "none",
            Some(d) if d < 30 => "easy",
            Some(d) if d < 60 => "medium",
            Some(d) if d < 80 => "hard",
            Some(_) => "very-hard",
        }
    }
}

/// One page of the filtered, sorted list and the number of rows matching (cached per keyword revision).
/// The page's rows and the revision are asked for together (pipelined on one connection).
pub async fn list(
    state: &AppState,
    conn: &AsyncPgConnection,
    tenant_id: i64,
    f: &KeywordFilter,
    page: &PageParams,
) -> AppResult<(Vec<KeywordRow>, i64)> {
    let rows_q = filter::ordered(filter::matching(tenant_id, f), f)
        .select((Keyword::as_select(), clusters::name.nullable()))
        .limit(page.per_page())
        .offset(page.offset());
    let (rows, rev) = tokio::try_join!(
        async { rows_q.load::<(Keyword, Option<String>)>(&mut &*conn).await.map_err(AppError::from) },
        super::count::revision(conn, tenant_id)
    )?;
    let total = super::count::at_revision(state, conn, tenant_id, rev, f).await?;
    Ok((rows.into_iter().map(|(keyword, cluster_name)| KeywordRow { keyword, cluster_name }).collect(), total))
}

pub async fn get(conn: &mut AsyncPgConnection, tenant_id: i64, id: i64) -> AppResult<Keyword> {
    Ok(keywords::table
        .filter(keywords::tenant_id.eq(tenant_id))
        .filter(keywords::id.eq(id))
        .select(Keyword::as_select())
        .first(conn)
        .await?)
}

/// A keyword as typed in the form or sent to the API.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct KeywordInput {
    pub keyword: String,
    #[serde(deserialize_with = "crate::validate::text_or_number")]
    pub volume: String,
    #[serde(deserialize_with = "crate::validate::text_or_number")]
    pub difficulty: String,
    #[serde(deserialize_with = "crate::validate::text_or_number")]
    pub cpc: String,
    /// One intent, or several separated by commas; JSON callers may send an array, named `intent` or `intents`
    /// (as the list gives it).
    #[serde(alias = "intents", deserialize_with = "crate::validate::text_or_lines")]
    pub intent: String,
    pub country: String,
    pub sector: String,
    /// A cluster id, or empty for none.
    #[serde(deserialize_with = "crate::validate::text_or_number")]
    pub cluster_id: String,
    pub status: String,
}

impl From<&Keyword> for KeywordInput {
    fn from(k: &Keyword) -> Self {
        KeywordInput {
            keyword: k.keyword.clone(),
            volume: match (k.volume, k.volume_high) {
                (Some(low), Some(high)) => format!("{low} – {high}"),
                (v, _) => v.map(|v| v.to_string()).unwrap_or_default(),
            },
            difficulty: k.difficulty.map(|v| v.to_string()).unwrap_or_default(),
            cpc: k.cpc.map(|v| format!("{v:.2}")).unwrap_or_default(),
            intent: k.intents.join(", "),
            country: k.country.clone().unwrap_or_default(),
            sector: k.sector.clone().unwrap_or_default(),
            cluster_id: k.cluster_id.map(|v| v.to_string()).unwrap_or_default(),
            status: k.status.to_string(),
        }
    }
}

#[derive(AsChangeset, Insertable)]
#[diesel(table_name = keywords, treat_none_as_null = true)]
struct KeywordValues {
    keyword: String,
    volume: Option<i32>,
    volume_high: Option<i32>,
    difficulty: Option<i16>,
    cpc: Option<f64>,
    intents: Vec<String>,
    country: Option<String>,
    sector: Option<String>,
    cluster_id: Option<i64>,
    status: KeywordStatus,
}

/// Field-by-field validation into the values to write; the cluster must be the tenant's own.
async fn validate(conn: &mut AsyncPgConnection, tenant_id: i64, input: &KeywordInput) -> AppResult<KeywordValues> {
    let mut c = Check::new();
    let keyword = field(&mut c, "keyword", rows::keyword(&input.keyword)).unwrap_or_default();
    let (volume, volume_high) = field(&mut c, "volume", rows::volume_range(&input.volume)).unwrap_or_default();
    let difficulty = field(&mut c, "difficulty", rows::difficulty(&input.difficulty)).flatten();
    let cpc = field(&mut c, "cpc", rows::cpc(&input.cpc)).flatten();
    let intents = field(&mut c, "intent", rows::intent_set(&input.intent)).unwrap_or_default().into_iter().map(str::to_string).collect();
    let country = field(&mut c, "country", rows::country(&input.country)).flatten();
    let sector = field(&mut c, "sector", rows::sector(&input.sector)).flatten();
    let cluster_id = match input.cluster_id.trim() {
        "" | "none" => None,
        raw => match raw.parse::<i64>() {
            Ok(id) if cluster_exists(conn, tenant_id, id).await? => Some(id),
            _ => {
                c.fail("cluster_id", "Choose one of this workspace's clusters");
                None
            }
        },
    };
    let status = match input.status.trim() {
        "" => KeywordStatus::in_cluster(cluster_id),
        s => KeywordStatus::parse(s).unwrap_or_else(|| {
            c.fail("status", format!("Status “{s}” is not one of {}", KeywordStatus::words().join(", ")));
            KeywordStatus::New
        }),
    };
    c.finish()?;
    Ok(KeywordValues { keyword, volume, volume_high, difficulty, cpc, intents, country, sector, cluster_id, status })
}

/// A field's value, or its message beside the field.
fn field<T>(c: &mut Check, name: &str, r: Result<T, String>) -> Option<T> {
    r.map_err(|m| c.fail(name, capitalise(&m))).ok()
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

pub async fn cluster_exists(conn: &mut AsyncPgConnection, tenant_id: i64, id: i64) -> AppResult<bool> {
    let n: i64 = clusters::table.filter(clusters::tenant_id.eq(tenant_id)).filter(clusters::id.eq(id)).count().get_result(conn).await?;
    Ok(n == 1)
}

fn duplicate(e: diesel::result::Error, keyword: &str) -> AppError {
    if is_unique_violation(&e) {
        let mut c = Check::new();
        c.fail("keyword", format!("“{keyword}” is already in this workspace"));
        AppError::Validation(c.errors)
    } else {
        e.into()
    }
}

pub async fn create(state: &AppState, ctx: &TenantCtx, input: &KeywordInput) -> AppResult<Keyword> {
    ctx.require(Perm::EditContent)?;
    let mut conn = state.db.get().await?;
    let values = validate(&mut conn, ctx.tenant_id, input).await?;
    let who = Who::from(ctx);
    let tenant_id = ctx.tenant_id;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let text = values.keyword.clone();
        let kw: Keyword = diesel::insert_into(keywords::table)
            .values((keywords::tenant_id.eq(tenant_id), values))
            .returning(Keyword::as_returning())
            .get_result(conn)
            .await
            .map_err(|e| duplicate(e, &text))?;
        audit::record(conn, &who, "keyword.created", ("keyword", kw.id.to_string()), serde_json::json!({ "keyword": kw.keyword })).await?;
        Ok(kw)
    })
    .await
}

pub async fn update(state: &AppState, ctx: &TenantCtx, id: i64, input: &KeywordInput) -> AppResult<Keyword> {
    ctx.require(Perm::EditContent)?;
    let mut conn = state.db.get().await?;
    let before = get(&mut conn, ctx.tenant_id, id).await?;
    let values = validate(&mut conn, ctx.tenant_id, input).await?;
    let who = Who::from(ctx);
    let tenant_id = ctx.tenant_id;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let text = values.keyword.clone();
        let kw: Keyword = diesel::update(keywords::table.filter(keywords::tenant_id.eq(tenant_id)).filter(keywords::id.eq(id)))
            .set((values, keywords::updated_at.eq(diesel::dsl::now)))
            .returning(Keyword::as_returning())
            .get_result(conn)
            .await
            .map_err(|e| duplicate(e, &text))?;
        let detail = serde_json::json!({ "before": KeywordInput::from(&before), "after": KeywordInput::from(&kw) });
        audit::record(conn, &who, "keyword.updated", ("keyword", id.to_string()), detail).await?;
        Ok(kw)
    })
    .await
}

pub async fn delete(state: &AppState, ctx: &TenantCtx, id: i64) -> AppResult<()> {
    bulk(state, ctx, &Selection::Ids(vec![id]), &BulkAction::Delete)
        .await
        .and_then(|n| if n == 0 { Err(AppError::NotFound) } else { Ok(()) })
}

/// Which keywords a bulk action applies to: ticked rows, or every row matching the current filter.
#[derive(Debug, Clone)]
pub enum Selection {
    Ids(Vec<i64>),
    Matching(Box<KeywordFilter>),
}

/// Most rows one bulk action touches (a whole large workspace fits).
pub const BULK_MAX: i64 = 200_000;

/// The selected ids that belong to the tenant, in the filter's order.
pub async fn selected_ids(conn: &mut AsyncPgConnection, tenant_id: i64, sel: &Selection) -> AppResult<Vec<i64>> {
    match sel {
        Selection::Ids(ids) => {
            let mut found = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(10_000) {
                let part: Vec<i64> = keywords::table
                    .filter(keywords::tenant_id.eq(tenant_id))
                    .filter(keywords::id.eq_any(chunk))
                    .select(keywords::id)
                    .order(keywords::id)
                    .load(conn)
                    .await?;
                found.extend(part);
            }
            Ok(found)
        }
        Selection::Matching(f) => {
            Ok(filter::ordered(filter::matching(tenant_id, f), f).select(keywords::id).limit(BULK_MAX).load(conn).await?)
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum BulkAction {
    Delete,
    SetStatus(KeywordStatus),
    /// Into a cluster, or out of any (None).
    MoveTo(Option<i64>),
}

impl BulkAction {
    fn audit_name(&self) -> &'static str {
        match self {
            BulkAction::Delete => "keyword.bulk_deleted",
            BulkAction::SetStatus(_) => "keyword.bulk_status",
            BulkAction::MoveTo(_) => "keyword.bulk_moved",
        }
    }
}

/// Applies the action to the selection in one transaction with one audit row; returns rows changed.
pub async fn bulk(state: &AppState, ctx: &TenantCtx, sel: &Selection, action: &BulkAction) -> AppResult<usize> {
    ctx.require(Perm::EditContent)?;
    let mut conn = state.db.get().await?;
    let tenant_id = ctx.tenant_id;
    if let BulkAction::MoveTo(Some(cid)) = action
        && !cluster_exists(&mut conn, tenant_id, *cid).await?
    {
        return Err(AppError::BadRequest("Choose one of this workspace's clusters".into()));
    }
    let ids = selected_ids(&mut conn, tenant_id, sel).await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let who = Who::from(ctx);
    let action = action.clone();
    conn.transaction::<_, AppError, _>(async move |conn| {
        let n = apply_in_tx(conn, tenant_id, &ids, &action).await?;
        let detail = serde_json::json!({ "count": n, "action": format!("{action:?}"), "first_ids": &ids[..ids.len().min(20)] });
        audit::record(conn, &who, action.audit_name(), ("keyword", format!("{n} keywords")), detail).await?;
        Ok(n)
    })
    .await
}

/// The action's writes, for callers already in a transaction (clustering moves keywords this way too).
pub async fn apply_in_tx(conn: &mut AsyncPgConnection, tenant_id: i64, ids: &[i64], action: &BulkAction) -> AppResult<usize> {
    let mut n = 0;
    for chunk in ids.chunks(10_000) {
        let target = keywords::table.filter(keywords::tenant_id.eq(tenant_id)).filter(keywords::id.eq_any(chunk));
        n += match action {
            BulkAction::Delete => diesel::delete(target).execute(conn).await?,
            BulkAction::SetStatus(s) => {
                diesel::update(target).set((keywords::status.eq(*s), keywords::updated_at.eq(diesel::dsl::now))).execute(conn).await?
            }
            BulkAction::MoveTo(cid) => {
                let status = KeywordStatus::in_cluster(*cid);
                diesel::update(target)
                    .set((keywords::cluster_id.eq(cid), keywords::status.eq(status), keywords::updated_at.eq(diesel::dsl::now)))
                    .execute(conn)
                    .await?
            }
        };
    }
    Ok(n)
}
