//! One way to list. Every list page and its JSON API go the same way: the URL's filter fields are read leniently
//! into a filter struct (a hand-edited URL shows the list, never an error); a `matching(tenant, &filter)` function of
//! the list's module turns it into one boxed query that the rows, the count, exports and "all N matching" bulk
//! actions all start from (so they always agree); the sort comes from the list's [`Sorts`] with the id as a
//! tie-breaker; [`crate::listing`] pages it. This file holds what every filter shares through [`Filter`]:
//! its query string, the sort read from `sort`/`dir`, the sort links and marks of the column headings, and the key
//! of its cached count.

pub mod pagination;

pub use pagination::{PageParams, Pager};

/// A list request as the URL gives it: the list's filter and the page. A page and its JSON API read the same one.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery<F> {
    #[serde(flatten)]
    pub filter: F,
    #[serde(flatten)]
    pub page: PageParams,
}

/// The sortable columns of a list, as named in the URL.
#[derive(Debug)]
pub struct Sorts {
    pub columns: &'static [&'static str],
    /// The sort when the URL names none (or one the list does not have).
    pub default: &'static str,
    /// Columns that read best A→Z on the first click (names, words); the others start largest or newest first.
    pub ascending: &'static [&'static str],
}

impl Sorts {
    /// A list that is not sortable from its headings.
    pub const NONE: Sorts = Sorts { columns: &[], default: "", ascending: &[] };
}

/// A list's sort as the URL gives it.
#[derive(Debug, Clone, Copy)]
pub struct Sort {
    pub key: &'static str,
    pub descending: bool,
}

impl Sort {
    /// Reads `sort` and `dir` against the list's columns: an unknown column means the default one, and an
    /// unknown direction means the column's natural one.
    pub fn read(sorts: &Sorts, sort: &str, dir: &str) -> Sort {
        let key = sorts.columns.iter().copied().find(|c| *c == sort).unwrap_or(sorts.default);
        let descending = match dir {
            "asc" => false,
            "desc" => true,
            _ => !sorts.ascending.contains(&key),
        };
        Sort { key, descending }
    }
}

/// A list's filter as it travels in the URL.
pub trait Filter {
    /// The list's sortable columns.
    const SORTS: &'static Sorts = &Sorts::NONE;

    /// Every field with its name in the URL (`sort` and `dir` included when the list has them).
    fn fields(&self) -> Vec<(&'static str, &str)>;

    /// The filter as a query string: fields with a value, trimmed, URL-encoded (for links, the pager, exports).
    fn to_query(&self) -> String {
        query_string(&self.fields())
    }

    /// The key of the list's cached count: the filter without its sort (which does not change the count).
    fn count_key(&self) -> String {
        let fields: Vec<(&str, &str)> = self.fields().into_iter().filter(|(k, _)| !matches!(*k, "sort" | "dir")).collect();
        query_string(&fields)
    }

    /// The sort the URL asks for, read against the list's columns.
    fn sort(&self) -> Sort {
        let fields = self.fields();
        let get = |name: &str| fields.iter().find(|(k, _)| *k == name).map(|(_, v)| v.trim()).unwrap_or("");
        Sort::read(Self::SORTS, get("sort"), get("dir"))
    }

    /// The query string sorting by `column` — the other direction when it already is the sort.
    fn sort_link(&self, column: &str) -> String {
        let current = self.sort();
        let dir = if current.key == column { if current.descending { "asc" } else { "desc" } } else { "" };
        let mut fields: Vec<(&str, &str)> = self.fields().into_iter().filter(|(k, _)| !matches!(*k, "sort" | "dir")).collect();
        fields.push(("sort", column));
        fields.push(("dir", dir));
        query_string(&fields)
    }

    /// "▲"/"▼" beside the sorted column's heading.
    fn sort_mark(&self, column: &str) -> &'static str {
        match self.sort() {
            Sort { key, .. } if key != column => "",
            Sort { descending: true, .. } => " ▼",
            Sort { descending: false, .. } => " ▲",
        }
    }
}

/// `name=value&…` for the pairs with a value (trimmed), URL-encoded.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.trim())).filter(|(_, v)| !v.is_empty()).collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

/// The day in a `YYYY-MM-DD` filter field (what a date input sends); anything else means "not filtered".
pub fn date_field(raw: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok()
}

/// The first moment (UTC) of a day, and of the day after it: a `from`/`to` filter covers `[start(from), start(to + 1))`.
pub fn day_start(day: chrono::NaiveDate) -> chrono::DateTime<chrono::Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

pub fn day_after(day: chrono::NaiveDate) -> chrono::DateTime<chrono::Utc> {
    day_start(day + chrono::Days::new(1))
}

/// The id in a filter field (`"12"` → 12); anything else means "not filtered".
pub fn id_field(raw: &str) -> Option<i64> {
    raw.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct F {
        q: String,
        sort: String,
        dir: String,
    }

    impl Filter for F {
        const SORTS: &'static Sorts = &Sorts { columns: &["name", "volume"], default: "volume", ascending: &["name"] };
        fn fields(&self) -> Vec<(&'static str, &str)> {
            vec![("q", &self.q), ("sort", &self.sort), ("dir", &self.dir)]
        }
    }

    fn f(q: &str, sort: &str, dir: &str) -> F {
        F { q: q.into(), sort: sort.into(), dir: dir.into() }
    }

    #[test]
    fn the_sort_is_read_leniently_and_links_toggle_it() {
        assert_eq!(f("", "bogus", "sideways").sort().key, "volume");
        assert!(f("", "", "").sort().descending, "numbers start largest first");
        assert!(!f("", "name", "").sort().descending, "names start A→Z");
        assert_eq!(f("shoe ", "volume", "").to_query(), "q=shoe&sort=volume");
        assert_eq!(f("shoe", "volume", "").sort_link("volume"), "q=shoe&sort=volume&dir=asc");
        assert_eq!(f("shoe", "volume", "asc").sort_link("volume"), "q=shoe&sort=volume&dir=desc");
        assert_eq!(f("shoe", "volume", "").sort_link("name"), "q=shoe&sort=name");
        assert_eq!(
            (f("", "", "").sort_mark("volume"), f("", "", "asc").sort_mark("volume"), f("", "", "").sort_mark("name")),
            (" ▼", " ▲", "")
        );
        assert_eq!(f("a b&c", "name", "desc").count_key(), "q=a+b%26c");
    }
}
