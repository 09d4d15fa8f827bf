//! A permission matrix over every route the app registers: each route × {anonymous, viewer, editor, admin,
//! owner, API token, another workspace's owner, system administrator} against the least role `table` names.

mod actors;
mod bodies;
mod fixture;
mod run;
mod table;

use std::collections::BTreeSet;

/// Every `.route("<path>", web::<method>()` of `src/`, as (METHOD, path). The app mounts no scopes, so the
/// pattern is the full path.
pub fn registered_routes() -> BTreeSet<(String, String)> {
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

#[test]
fn every_registered_route_has_an_entry_and_every_entry_is_registered() {
    let registered = registered_routes();
    let mut table = BTreeSet::new();
    for r in table::ROUTES {
        assert!(table.insert((r.method.to_string(), r.path.to_string())), "{} {} is in the table twice", r.method, r.path);
    }
    let missing: Vec<_> = registered.difference(&table).collect();
    let stale: Vec<_> = table.difference(&registered).collect();
    assert!(missing.is_empty(), "routes without a permission entry in tests/it/permission_matrix/table.rs: {missing:?}");
    assert!(stale.is_empty(), "table entries for routes the app no longer registers: {stale:?}");
    assert!(registered.len() >= 260, "only {} routes read from src/", registered.len());
}
