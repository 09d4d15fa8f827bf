//! A permission matrix over every route the app registers: each route × {anonymous, viewer, editor, admin,
//! owner, API token, another workspace's owner, system administrator} against the least role `table` names.

mod actors;
mod bodies;
mod fixture;
mod run;
mod table;

use std::collections::BTreeSet;

use crate::source_routes::registered;

#[test]
fn every_registered_route_has_an_entry_and_every_entry_is_registered() {
    let registered = registered();
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
