//! CSV downloads: cells a spreadsheet cannot be tricked into running, and a response streamed page by page so a
//! long export never sits in memory. The keyword export and the credit ledger export both go through here.

use std::future::Future;

use actix_web::HttpResponse;
use actix_web::web::Bytes;

use crate::error::AppError;

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

/// A streamed CSV download: `header`, then the text of each page `fetch(offset)` returns, until a page holds
/// fewer than `page_size` rows. `fetch` answers (the page's CSV lines, how many rows it held).
pub fn download<F, Fut>(filename: &str, header: &'static str, page_size: i64, fetch: F) -> HttpResponse
where
    F: Fn(i64) -> Fut + 'static,
    Fut: Future<Output = Result<(String, i64), AppError>> + 'static,
{
    let stream = futures_util::stream::unfold((fetch, 0i64, false), move |(fetch, offset, done)| async move {
        if done {
            return None;
        }
        match fetch(offset).await {
            Ok((text, n)) => {
                let body = if offset == 0 { format!("{header}{text}") } else { text };
                Some((Ok::<_, AppError>(Bytes::from(body)), (fetch, offset + page_size, n < page_size)))
            }
            Err(e) => {
                tracing::error!(error = %e, "CSV export stopped");
                Some((Err(e), (fetch, offset, true)))
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{filename}\"")))
        .streaming(stream)
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
