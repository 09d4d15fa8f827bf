//! The keywords list's filters and sort, as they travel in the URL (the shared [`Filter`] toolkit): parsed
//! leniently (a hand-edited URL shows the list, never an error), applied as one boxed query that the page, the
//! API, the export and "all N matching" bulk actions share — so they always agree on which rows match.

use diesel::dsl::{And, Eq as SqlEq, IntoBoxed, LeftJoinOn, Nullable as SqlNullable};
use diesel::pg::Pg;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::like_pattern;
use crate::db::schema::{clusters, keywords};
use crate::listing::{Filter, Sorts};
use crate::modules::planner::import::countries;
use crate::modules::planner::import::rows::{INTENTS, clean_text};

/// A LIKE pattern matching `text` whole: its wildcards escaped, none added.
fn exact_pattern(text: &str) -> String {
    let wrapped = like_pattern(text);
    wrapped[1..wrapped.len() - 1].to_string()
}

crate::text_enum! {
    /// `keywords.status`: new (not in a cluster yet), clustered, archived (kept, left out of work).
    pub enum KeywordStatus {
        New = "new",
        Clustered = "clustered",
        Archived = "archived",
    }
}

impl KeywordStatus {
    /// What a keyword is when it is put in a cluster, or taken out of one.
    pub fn in_cluster(cluster: Option<i64>) -> KeywordStatus {
        if cluster.is_some() { KeywordStatus::Clustered } else { KeywordStatus::New }
    }
}
pub const SORTS: [&str; 18] = [
    "keyword",
    "volume",
    "difficulty",
    "cpc",
    "intent",
    "country",
    "sector",
    "cluster",
    "status",
    "created",
    "id",
    "parent",
    "clicks",
    "impressions",
    "ctr",
    "position",
    "competition",
    "bid",
];
pub const PAGE_SIZES: [i64; 4] = [25, 50, 100, 200];

/// Filters as typed in the URL; every field optional, kept as text so bad values are ignored, not fatal.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct KeywordFilter {
    pub q: String,
    pub status: String,
    /// A cluster id, or "none" for unclustered keywords.
    pub cluster: String,
    pub intent: String,
    pub country: String,
    pub sector: String,
    /// Ahrefs' parent keyword, matched whole (case-insensitive).
    pub parent: String,
    pub kd_min: String,
    pub kd_max: String,
    pub vol_min: String,
    pub vol_max: String,
    pub sort: String,
    pub dir: String,
}

fn num(s: &str) -> Option<i64> {
    s.trim().replace(',', "").parse().ok()
}

impl Filter for KeywordFilter {
    const SORTS: &'static Sorts = &Sorts {
        columns: &SORTS,
        default: "created",
        ascending: &["keyword", "intent", "country", "sector", "cluster", "status", "parent", "position"],
    };

    fn fields(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("q", &self.q),
            ("status", &self.status),
            ("cluster", &self.cluster),
            ("intent", &self.intent),
            ("country", &self.country),
            ("sector", &self.sector),
            ("parent", &self.parent),
            ("kd_min", &self.kd_min),
            ("kd_max", &self.kd_max),
            ("vol_min", &self.vol_min),
            ("vol_max", &self.vol_max),
            ("sort", &self.sort),
            ("dir", &self.dir),
        ]
    }
}

impl KeywordFilter {
    pub fn cluster_id(&self) -> Option<i64> {
        num(&self.cluster)
    }
    pub fn is_empty(&self) -> bool {
        self.count_key().is_empty()
    }
}

pub type JoinedKeywords = LeftJoinOn<
    keywords::table,
    clusters::table,
    And<SqlEq<clusters::tenant_id, keywords::tenant_id>, SqlEq<SqlNullable<clusters::id>, keywords::cluster_id>>,
>;
pub type KeywordQuery<'a> = IntoBoxed<'a, JoinedKeywords, Pg>;

/// The tenant's keywords with their cluster, narrowed by the filter (no order, no limit).
pub fn matching<'a>(tenant_id: i64, f: &KeywordFilter) -> KeywordQuery<'a> {
    let mut q = keywords::table
        .left_join(clusters::table.on(clusters::tenant_id.eq(keywords::tenant_id).and(clusters::id.nullable().eq(keywords::cluster_id))))
        .filter(keywords::tenant_id.eq(tenant_id))
        .into_boxed();
    let text = f.q.trim();
    if !text.is_empty() {
        q = q.filter(keywords::keyword.ilike(like_pattern(text)));
    }
    if let Some(status) = KeywordStatus::parse(f.status.trim()) {
        q = q.filter(keywords::status.eq(status));
    }
    if f.cluster == "none" {
        q = q.filter(keywords::cluster_id.is_null());
    } else if let Some(id) = f.cluster_id() {
        q = q.filter(keywords::cluster_id.eq(id));
    }
    // A keyword with several intents matches each of them.
    if INTENTS.contains(&f.intent.as_str()) {
        q = q.filter(keywords::intents.contains(vec![f.intent.clone()]));
    }
    if let Some(country) = countries::alpha2(&f.country) {
        q = q.filter(keywords::country.eq(country));
    }
    let parent = clean_text(&f.parent);
    if !parent.is_empty() {
        q = q.filter(keywords::parent_keyword.ilike(exact_pattern(&parent)));
    }
    let sector = f.sector.trim();
    if !sector.is_empty() {
        q = q.filter(keywords::sector.ilike(like_pattern(sector)));
    }
    if let Some(v) = num(&f.kd_min) {
        q = q.filter(keywords::difficulty.ge(v.clamp(0, 100) as i16));
    }
    if let Some(v) = num(&f.kd_max) {
        q = q.filter(keywords::difficulty.le(v.clamp(0, 100) as i16));
    }
    if let Some(v) = num(&f.vol_min) {
        q = q.filter(keywords::volume.ge(v.clamp(0, i32::MAX as i64) as i32));
    }
    if let Some(v) = num(&f.vol_max) {
        q = q.filter(keywords::volume.le(v.clamp(0, i32::MAX as i64) as i32));
    }
    q
}

/// Adds the chosen order, with the id as a tie-breaker so pages never overlap or skip rows.
pub fn ordered<'a>(q: KeywordQuery<'a>, f: &KeywordFilter) -> KeywordQuery<'a> {
    let sort = f.sort();
    macro_rules! by {
        ($col:expr) => {
            if sort.descending {
                q.order_by(($col.desc().nulls_last(), keywords::id.desc()))
            } else {
                q.order_by(($col.asc().nulls_last(), keywords::id.asc()))
            }
        };
    }
    match sort.key {
        "keyword" => {
            if sort.descending {
                q.order_by((diesel::dsl::sql::<diesel::sql_types::Text>("lower(keywords.keyword)").desc(), keywords::id.desc()))
            } else {
                q.order_by((diesel::dsl::sql::<diesel::sql_types::Text>("lower(keywords.keyword)").asc(), keywords::id.asc()))
            }
        }
        "volume" => by!(keywords::volume),
        "difficulty" => by!(keywords::difficulty),
        "cpc" => by!(keywords::cpc),
        "intent" => by!(keywords::intent),
        "country" => by!(keywords::country),
        "sector" => by!(keywords::sector),
        "cluster" => by!(clusters::name.nullable()),
        "status" => by!(keywords::status),
        "parent" => by!(keywords::parent_keyword),
        "clicks" => by!(keywords::clicks),
        "impressions" => by!(keywords::impressions),
        "ctr" => by!(keywords::ctr),
        "position" => by!(keywords::position),
        "competition" => by!(keywords::competition_index),
        "bid" => by!(keywords::bid_high),
        "id" => by!(keywords::id),
        _ => by!(keywords::created_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_string_round_trip_and_sort_toggle() {
        let f: KeywordFilter = serde_urlencoded::from_str("q=shoe&kd_min=10&sort=volume&page=2").unwrap();
        assert_eq!(f.to_query(), "q=shoe&kd_min=10&sort=volume");
        assert!(f.sort().descending);
        assert_eq!(f.sort_link("volume"), "q=shoe&kd_min=10&sort=volume&dir=asc");
        assert_eq!(f.sort_link("keyword"), "q=shoe&kd_min=10&sort=keyword");
        assert_eq!(KeywordFilter { sort: "bogus".into(), ..Default::default() }.sort().key, "created");
        assert!(KeywordFilter { sort: "volume".into(), ..Default::default() }.is_empty());
    }
}
