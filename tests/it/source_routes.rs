//! The routes the app registers, read from its source (`.route("<path>", web::<method>()` in `src/`), so tests
//! that must cover every route — the permission matrix, the hostile-value sweep, the AI rate limit's list — see
//! a new one without being edited.

use std::collections::BTreeSet;

/// Every `.route("<path>", web::<method>()` of `src/`, as (METHOD, path). The app mounts no scopes, so the
/// pattern is the full path.
pub fn registered() -> BTreeSet<(String, String)> {
    fn sources(dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut files = vec![];
    sources(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let mut out = BTreeSet::new();
    for code in files {
        // rustfmt may break a call across lines: compare on single spaces.
        let flat: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
        for (at, _) in flat.match_indices(".route(") {
            let rest = flat[at + ".route(".len()..].trim_start();
            // Another type's `route(` (no path literal, no handler) is no registration.
            if !rest.starts_with('"') && !rest.split(')').next().unwrap_or("").contains("web::") {
                continue;
            }
            let path = rest.strip_prefix('"').and_then(|r| r.split_once('"')).map(|(p, _)| p);
            let method = rest.split_once("web::").and_then(|(_, m)| m.split_once("()")).map(|(m, _)| m.to_uppercase());
            match (path, method) {
                (Some(p), Some(m)) => assert!(out.insert((m.clone(), p.to_string())), "{m} {p} is registered twice"),
                _ => panic!("a .route( call this test cannot read: {}", &rest[..rest.len().min(80)]),
            }
        }
        assert!(!flat.contains("web::scope(") && !flat.contains("web::resource("), "scopes and resources need their prefix read here");
    }
    out
}
