//! The clusters list: its rows and its count come from one condition, so "N clusters" never disagrees with the
//! rows under any filter or sort.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::clusters;
use igny8::listing::PageParams;
use igny8::modules::planner::clusters::service::{self, CLUSTER_SORTS, ClusterFilter};

use crate::harness::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn the_count_agrees_with_the_rows_under_every_filter_and_sort() {
    let app = TestApp::spawn().await;
    let (_, tid) = app.signup("Cl", "cl@example.com", "Cl Co").await;
    let (_, other) = app.signup("Ot", "ot@example.com", "Ot Co").await;
    let mut conn = app.db().await;
    let names = ["Trail shoes", "Trail running", "Road shoes", "Sandals 100%", "trail_mix", "Boots"];
    for (i, name) in names.iter().enumerate() {
        for tenant in [tid, other] {
            diesel::insert_into(clusters::table)
                .values((
                    clusters::tenant_id.eq(tenant),
                    clusters::name.eq(*name),
                    clusters::status.eq(if i % 3 == 0 { "archived" } else { "active" }),
                ))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
    let all = PageParams { page: Some(1), per_page: Some(200) };
    let mut checked = 0;
    for q in ["", "trail", "TRAIL", "shoes", "100%", "_", "nothing like it", " trail "] {
        for status in ["", "active", "archived", "bogus"] {
            for sort in CLUSTER_SORTS.iter().copied().chain(["", "bogus"]) {
                let f = ClusterFilter { q: q.into(), status: status.into(), sort: sort.into() };
                let (rows, total) = service::list(&mut conn, tid, &f, &all).await.unwrap();
                assert_eq!(rows.len() as i64, total, "{f:?}");
                assert_eq!(service::count(&mut conn, tid, &f).await.unwrap(), total, "{f:?}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 8 * 4 * 8);
    // And the filters do narrow: three names hold "trail" (case-insensitive; "_" is literal), two of them active.
    let f = |q: &str, status: &str| ClusterFilter { q: q.into(), status: status.into(), sort: String::new() };
    assert_eq!(service::count(&mut conn, tid, &f("trail", "")).await.unwrap(), 3);
    assert_eq!(service::count(&mut conn, tid, &f("trail", "active")).await.unwrap(), 2);
    assert_eq!(service::count(&mut conn, tid, &f("_", "")).await.unwrap(), 1);
    assert_eq!(service::count(&mut conn, tid, &f("", "")).await.unwrap(), 6, "another workspace's clusters are not counted");
}
