//! CSV export of the current filter (or the ticked rows), streamed page by page (`web::csv`) so a 100,000-row
//! export never sits in memory.

use actix_web::HttpResponse;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::filter::{self, KeywordFilter};
use super::service::Keyword;
use crate::db::DbPool;
use crate::db::schema::{clusters, keywords};
use crate::error::AppError;
use crate::web::csv::cell;

const PAGE: i64 = 5_000;
/// The columns keep the import's header names, so an exported file imports back as it was (the import undoes the
/// formula guard and understands Cluster and Status).
pub const HEADER: &str = "Keyword,Volume,Difficulty,CPC,Intent,Country,Sector,Cluster,Status,Created,Volume high,Parent keyword,\
Clicks,Impressions,CTR,Position,Competition,Competition index,Top of page bid (low range),Top of page bid (high range)\r\n";

pub fn line(k: &Keyword, cluster: Option<&str>) -> String {
    let opt = |v: Option<String>| v.unwrap_or_default();
    let money = |v: Option<f64>| opt(v.map(|v| format!("{v:.2}")));
    let fields = [
        cell(&k.keyword),
        opt(k.volume.map(|v| v.to_string())),
        opt(k.difficulty.map(|v| v.to_string())),
        money(k.cpc),
        cell(&k.intents.join(", ")),
        cell(k.country.as_deref().unwrap_or("")),
        cell(k.sector.as_deref().unwrap_or("")),
        cell(cluster.unwrap_or("")),
        cell(k.status.as_str()),
        k.created_at.format("%Y-%m-%d").to_string(),
        opt(k.volume_high.map(|v| v.to_string())),
        cell(k.parent_keyword.as_deref().unwrap_or("")),
        opt(k.clicks.map(|v| v.to_string())),
        opt(k.impressions.map(|v| v.to_string())),
        opt(k.ctr.map(|v| format!("{v}%"))),
        opt(k.position.map(|v| v.to_string())),
        cell(k.competition.as_deref().unwrap_or("")),
        opt(k.competition_index.map(|v| v.to_string())),
        money(k.bid_low),
        money(k.bid_high),
    ];
    let mut s = fields.join(",");
    s.push_str("\r\n");
    s
}

/// Which rows: the filter's, optionally only the given ids.
pub struct ExportSpec {
    pub tenant_id: i64,
    pub filter: KeywordFilter,
    pub ids: Option<Vec<i64>>,
}

/// The streamed download.
pub fn response(pool: DbPool, spec: ExportSpec, filename: &str) -> HttpResponse {
    let spec = std::sync::Arc::new(spec);
    crate::web::csv::download(filename, HEADER, PAGE, move |offset| {
        let (pool, spec) = (pool.clone(), spec.clone());
        async move { page(&pool, &spec, offset).await }
    })
}

async fn page(pool: &DbPool, spec: &ExportSpec, offset: i64) -> Result<(String, i64), AppError> {
    let mut conn = pool.get().await?;
    let mut q = filter::ordered(filter::matching(spec.tenant_id, &spec.filter), &spec.filter);
    if let Some(ids) = &spec.ids {
        q = q.filter(keywords::id.eq_any(ids.clone()));
    }
    let rows: Vec<(Keyword, Option<String>)> =
        q.select((Keyword::as_select(), clusters::name.nullable())).limit(PAGE).offset(offset).load(&mut conn).await?;
    let mut out = String::with_capacity(rows.len() * 64);
    for (k, c) in &rows {
        out.push_str(&line(k, c.as_deref()));
    }
    Ok((out, rows.len() as i64))
}
