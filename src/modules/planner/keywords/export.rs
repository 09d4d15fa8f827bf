//! CSV export of the current filter (or the ticked rows), streamed page by page so a 100,000-row export
//! never sits in memory. Cells that a spreadsheet would run as a formula are neutralised.

use actix_web::HttpResponse;
use actix_web::web::Bytes;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::filter::{self, KeywordFilter};
use super::service::Keyword;
use crate::db::DbPool;
use crate::db::schema::{clusters, keywords};
use crate::error::AppError;

const PAGE: i64 = 5_000;
pub const HEADER: &str = "Keyword,Volume,Difficulty,CPC,Intent,Country,Sector,Cluster,Status,Created\r\n";

/// One CSV cell: quoted when needed; a leading `=`, `+`, `-`, `@`, tab or CR gets a `'` so spreadsheet
/// programs show it as text instead of evaluating it (CSV injection).
pub fn cell(value: &str) -> String {
    let neutral = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_string() };
    if neutral.contains([',', '"', '\n', '\r']) || neutral.starts_with(' ') || neutral.ends_with(' ') {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

pub fn line(k: &Keyword, cluster: Option<&str>) -> String {
    let opt = |v: Option<String>| v.unwrap_or_default();
    let fields = [
        cell(&k.keyword),
        opt(k.volume.map(|v| v.to_string())),
        opt(k.difficulty.map(|v| v.to_string())),
        opt(k.cpc.map(|v| format!("{v:.2}"))),
        cell(k.intent.as_deref().unwrap_or("")),
        cell(k.country.as_deref().unwrap_or("")),
        cell(k.sector.as_deref().unwrap_or("")),
        cell(cluster.unwrap_or("")),
        cell(k.status.as_str()),
        k.created_at.format("%Y-%m-%d").to_string(),
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
    let stream = futures_util::stream::unfold((pool, spec, 0i64, false), |(pool, spec, offset, done)| async move {
        if done {
            return None;
        }
        let chunk = page(&pool, &spec, offset).await;
        match chunk {
            Ok((text, n)) => {
                let body = if offset == 0 { format!("{HEADER}{text}") } else { text };
                Some((Ok::<_, AppError>(Bytes::from(body)), (pool, spec, offset + PAGE, n < PAGE)))
            }
            Err(e) => {
                tracing::error!(error = %e, "keyword export stopped");
                Some((Err(e), (pool, spec, offset, true)))
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{filename}\"")))
        .streaming(stream)
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

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formulas_are_neutralised_and_quoting_is_right() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("a, b"), "\"a, b\"");
        assert_eq!(cell("plain"), "plain");
    }
}
