//! The app's routes as registered in the source (`.route("<pattern>", web::<method>()`), and matching a
//! concrete path against a pattern, so the sweep covers a new route without being edited.

use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    pub pattern: String,
}

fn sources(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}

pub fn registered() -> Vec<Route> {
    let mut code = String::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut code);
    // rustfmt may break the line after the pattern.
    let flat: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = vec![];
    for (at, _) in flat.match_indices("route(\"") {
        let rest = &flat[at + "route(\"".len()..];
        let Some((pattern, rest)) = rest.split_once('"') else { continue };
        let Some(rest) = rest.strip_prefix(", web::") else { continue };
        let Some((method, _)) = rest.split_once('(') else { continue };
        if ["get", "post", "put", "patch", "delete"].contains(&method) && pattern.starts_with('/') {
            let route = Route { method: method.to_uppercase(), pattern: pattern.to_string() };
            if !out.contains(&route) {
                out.push(route);
            }
        }
    }
    assert!(out.len() > 150, "the route scan found only {} routes", out.len());
    out
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
