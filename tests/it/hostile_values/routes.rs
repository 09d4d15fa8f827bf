//! The app's routes as registered in the source (`.route("<pattern>", web::<method>()`), and matching a
//! concrete path against a pattern, so the sweep covers a new route without being edited.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    pub pattern: String,
}

pub fn registered() -> Vec<Route> {
    crate::source_routes::registered().into_iter().map(|(method, pattern)| Route { method, pattern }).collect()
}

/// Whether `path` (query ignored) is an instance of `pattern` (`{name}` stands for one segment).
pub fn matches(pattern: &str, path: &str) -> bool {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let (p, s): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    p.len() == s.len() && p.iter().zip(&s).all(|(p, s)| if p.starts_with('{') { !s.is_empty() } else { p == s })
}

pub fn has_params(pattern: &str) -> bool {
    pattern.contains('{')
}

/// Every same-site URL a page links to or posts to.
pub fn links(html: &str) -> Vec<String> {
    let mut out = vec![];
    for attr in ["href=\"", "action=\"", "hx-get=\"", "hx-post=\"", "hx-put=\"", "hx-delete=\""] {
        for (at, _) in html.match_indices(attr) {
            let value = html[at + attr.len()..].split('"').next().unwrap_or_default();
            let value = super::forms::unescape(value);
            if value.starts_with('/') && !value.starts_with("//") && !out.contains(&value) {
                out.push(value);
            }
        }
    }
    out
}
