//! The fields docs/API.md documents for each JSON route: the first `{…}` of a table row's body column, its
//! top-level names.

use super::routes::matches;

pub struct Documented {
    pub paths: Vec<String>,
    pub fields: Vec<String>,
}

fn top_level_names(body: &str) -> Vec<String> {
    let (mut depth, mut part, mut parts) = (0, String::new(), vec![]);
    for c in body.chars() {
        match c {
            '{' | '[' | '(' => depth += 1,
            '}' | ']' | ')' => depth -= 1,
            ',' | ';' if depth == 0 => parts.push(std::mem::take(&mut part)),
            _ if depth == 0 => part.push(c),
            _ => {}
        }
    }
    parts.push(part);
    let mut names = vec![];
    for p in parts {
        let name: String = p.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if !name.is_empty() && name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

pub fn documented() -> Vec<Documented> {
    let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/API.md")).unwrap();
    let mut out = vec![];
    for line in text.lines() {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let [_, _method, path, _role, body, ..] = cols.as_slice() else { continue };
        let Some(open) = body.find("`{") else { continue };
        let inner = &body[open + 2..];
        let Some(close) = inner.find("}`") else { continue };
        let paths = path.split(", ").map(|p| p.split('?').next().unwrap_or_default().to_string()).collect();
        out.push(Documented { paths, fields: top_level_names(&inner[..close]) });
    }
    assert!(out.len() > 30, "docs/API.md gave only {} documented bodies", out.len());
    out
}

fn documented_for(docs: &[Documented], pattern: &str) -> Vec<String> {
    let concrete = pattern.replace(['{', '}'], "");
    docs.iter().find(|d| d.paths.iter().any(|p| p == pattern || matches(p, &concrete))).map(|d| d.fields.clone()).unwrap_or_default()
}

/// The documented fields of a route pattern; an edit of `/things/{id}` documented only as "edit" takes the
/// fields of creating one at `/things`. None when the docs give no body.
pub fn fields_for(docs: &[Documented], pattern: &str) -> Vec<String> {
    let own = documented_for(docs, pattern);
    match pattern.rsplit_once('/') {
        Some((collection, last)) if own.is_empty() && last.starts_with('{') => documented_for(docs, collection),
        _ => own,
    }
}
