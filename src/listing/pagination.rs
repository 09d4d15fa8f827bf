//! Server-side pagination: page/per_page from the query string, clamped, and the numbers a pager shows.

use serde::Deserialize;

pub const DEFAULT_PER_PAGE: i64 = 25;
pub const MAX_PER_PAGE: i64 = 200;

#[derive(Debug, Clone, Copy, Deserialize, Default)]
pub struct PageParams {
    #[serde(default, deserialize_with = "lenient_i64")]
    pub page: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub per_page: Option<i64>,
}

/// A page number from a query string: a number or numeric text; anything else means "not given"
/// (a hand-edited URL should land on page 1, not on an error).
pub fn lenient_i64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a page number")
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(i64::try_from(v).ok())
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(v.trim().parse().ok())
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

impl PageParams {
    pub fn page(&self) -> i64 {
        self.page.unwrap_or(1).max(1)
    }
    pub fn per_page(&self) -> i64 {
        self.per_page.unwrap_or(DEFAULT_PER_PAGE).clamp(1, MAX_PER_PAGE)
    }
    pub fn offset(&self) -> i64 {
        (self.page() - 1).saturating_mul(self.per_page())
    }
}

/// What a pager needs to render.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Pager {
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
    pub pages: i64,
    /// The list's URL with its filters, without the page (set with `linked`; pages only).
    #[serde(skip)]
    pub href: String,
}

impl Pager {
    pub fn new(params: &PageParams, total: i64) -> Self {
        let per_page = params.per_page();
        let pages = ((total + per_page - 1) / per_page).max(1);
        Pager { page: params.page(), per_page, total, pages, href: String::new() }
    }
    /// Where the pager's links point: `href` is the list URL with its query string (filters kept).
    pub fn linked(mut self, href: impl Into<String>) -> Self {
        self.href = href.into();
        self
    }
    fn url(&self, page: i64) -> String {
        let sep = if self.href.contains('?') { "&" } else { "?" };
        format!("{}{sep}page={page}", self.href)
    }
    pub fn prev_url(&self) -> String {
        self.url(self.page - 1)
    }
    pub fn next_url(&self) -> String {
        self.url(self.page + 1)
    }
    pub fn has_prev(&self) -> bool {
        self.page > 1
    }
    pub fn has_next(&self) -> bool {
        self.page < self.pages
    }
    pub fn first_item(&self) -> i64 {
        if self.total == 0 { 0 } else { (self.page - 1) * self.per_page + 1 }
    }
    pub fn last_item(&self) -> i64 {
        (self.page * self.per_page).min(self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_query_parsing() {
        let p: PageParams = serde_urlencoded::from_str("page=abc&per_page=10").unwrap();
        assert_eq!((p.page, p.per_page), (None, Some(10)));
    }

    #[test]
    fn clamps_and_counts() {
        let p = PageParams { page: Some(0), per_page: Some(10_000) };
        assert_eq!((p.page(), p.per_page(), p.offset()), (1, MAX_PER_PAGE, 0));
        let pager = Pager::new(&PageParams { page: Some(3), per_page: Some(10) }, 25);
        assert_eq!((pager.pages, pager.first_item(), pager.last_item()), (3, 21, 25));
        assert!(pager.has_prev() && !pager.has_next());
        assert_eq!(Pager::new(&PageParams::default(), 0).pages, 1);
        let linked = pager.linked("/system/jobs?status=dead");
        assert_eq!(
            (linked.prev_url(), linked.next_url()),
            ("/system/jobs?status=dead&page=2".into(), "/system/jobs?status=dead&page=4".into())
        );
        assert_eq!(Pager::new(&PageParams::default(), 0).linked("/billing").next_url(), "/billing?page=2");
    }
}
