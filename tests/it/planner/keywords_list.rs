//! Filters, sort and pagination against a workspace with thousands of keywords, checked row by row
//! against the same data computed here; another workspace's keywords never show; bulk "all matching"
//! touches exactly the filtered rows; export follows the filter and neutralises formulas.

use std::collections::HashSet;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::keywords;
use serde_json::{Value, json};

use crate::harness::TestApp;

const WORDS: [&str; 5] = ["shoe", "boot", "sock", "lace", "sandal"];
const INTENTS: [&str; 4] = ["informational", "navigational", "commercial", "transactional"];
const COUNTRIES: [&str; 3] = ["US", "GB", "DE"];

#[derive(Clone)]
struct Kw {
    keyword: String,
    volume: i32,
    difficulty: i16,
    intent: Option<&'static str>,
    country: &'static str,
    sector: &'static str,
}

fn data(n: usize) -> Vec<Kw> {
    (0..n)
        .map(|i| Kw {
            keyword: format!("kw {i:04} {}", WORDS[i % 5]),
            volume: ((i * 37) % 1000) as i32,
            difficulty: (i % 101) as i16,
            intent: if i % 7 == 0 { None } else { Some(INTENTS[i % 4]) },
            country: COUNTRIES[i % 3],
            sector: if i % 2 == 0 { "retail" } else { "sports" },
        })
        .collect()
}

async fn seed(app: &TestApp, tenant_id: i64, rows: &[Kw]) {
    let mut conn = app.db().await;
    for chunk in rows.chunks(1000) {
        let values: Vec<_> = chunk
            .iter()
            .map(|k| {
                (
                    keywords::tenant_id.eq(tenant_id),
                    keywords::keyword.eq(&k.keyword),
                    keywords::volume.eq(Some(k.volume)),
                    keywords::difficulty.eq(Some(k.difficulty)),
                    keywords::intent.eq(k.intent),
                    keywords::country.eq(Some(k.country)),
                    keywords::sector.eq(Some(k.sector)),
                )
            })
            .collect();
        diesel::insert_into(keywords::table).values(values).execute(&mut conn).await.unwrap();
    }
}

async fn page(b: &crate::harness::Browser, query: &str) -> (Vec<Value>, i64) {
    let r = b.get(&format!("/api/planner/keywords?{query}")).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    (v["keywords"].as_array().unwrap().clone(), v["pager"]["total"].as_i64().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_sort_and_pages_match_the_data_and_stay_in_the_tenant() {
    let app = TestApp::spawn().await;
    let (a, ta) = app.signup("Amy", "amy@example.com", "Amy Co").await;
    let (other, tb) = app.signup("Ben", "ben@example.com", "Ben Co").await;
    let rows = data(3000);
    seed(&app, ta, &rows).await;
    seed(&app, tb, &data(500)).await;
    let b_ids: HashSet<i64> = {
        let mut conn = app.db().await;
        keywords::table.filter(keywords::tenant_id.eq(tb)).select(keywords::id).load::<i64>(&mut conn).await.unwrap().into_iter().collect()
    };

    // A combined filter: text, intent, difficulty range, volume range.
    let expected: Vec<&Kw> = rows
        .iter()
        .filter(|k| k.keyword.contains("boot") && k.intent == Some("commercial") && (20..=60).contains(&k.difficulty) && k.volume >= 100)
        .collect();
    let (got, total) = page(&a, "q=BOOT&intent=commercial&kd_min=20&kd_max=60&vol_min=100&per_page=200").await;
    assert_eq!(total, expected.len() as i64);
    assert!(total > 10, "the filter keeps a meaningful set ({total})");
    let want: HashSet<&str> = expected.iter().map(|k| k.keyword.as_str()).collect();
    assert!(got.iter().all(|k| want.contains(k["keyword"].as_str().unwrap())));

    // Walk every page of a sort with many ties: no row twice, none missing, order holds.
    let us: Vec<&Kw> = rows.iter().filter(|k| k.country == "US").collect();
    let mut seen = HashSet::new();
    let mut last: Option<(i64, i64)> = None;
    for p in 1..=10 {
        let (items, total) = page(&a, &format!("country=us&sort=volume&dir=desc&per_page=100&page={p}")).await;
        assert_eq!(total, us.len() as i64);
        for k in items {
            let (vol, id) = (k["volume"].as_i64().unwrap(), k["id"].as_i64().unwrap());
            assert!(!b_ids.contains(&id), "another tenant's keyword");
            if let Some(prev) = last {
                assert!(prev > (vol, id), "volume desc, then id desc");
            }
            last = Some((vol, id));
            assert!(seen.insert(id), "row {id} on two pages");
        }
    }
    assert_eq!(seen.len(), us.len());

    // Keyword sort A→Z, first page.
    let mut sorted: Vec<&str> = rows.iter().map(|k| k.keyword.as_str()).collect();
    sorted.sort();
    let (items, _) = page(&a, "sort=keyword&per_page=50").await;
    assert_eq!(items.iter().map(|k| k["keyword"].as_str().unwrap()).collect::<Vec<_>>(), sorted[..50].to_vec());

    // Unknown values are ignored, not errors; a page past the end is empty.
    let (items, total) = page(&a, "kd_min=abc&sort=nope&page=999&per_page=50").await;
    assert_eq!((items.len(), total), (0, 3000));

    // The HTML page: the filtered count, the URL-kept filter, page sizes.
    let (status, html) = a.get_text("/planner/keywords?country=DE&sector=sports&per_page=50").await;
    assert_eq!(status, 200);
    let de_sports = rows.iter().filter(|k| k.country == "DE" && k.sector == "sports").count();
    assert!(html.contains(&format!("of {de_sports}")), "shows the matching total");
    assert!(html.contains("hx-push-url=\"true\"") && html.contains("name=\"f_country\" value=\"DE\""));

    // Bulk on "all matching": exactly the filtered rows, never the other tenant's.
    let r = a
        .api_post(
            "/api/planner/keywords/bulk",
            json!({ "action": "set_status", "status": "archived", "all": true, "filter": { "country": "DE", "sector": "sports" } }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["result"]["count"], de_sports);
    let (_, archived) = page(&a, "status=archived").await;
    assert_eq!(archived, de_sports as i64);
    let (_, b_archived) = page(&other, "status=archived").await;
    assert_eq!(b_archived, 0);

    // Ids of another tenant in a bulk delete are ignored.
    let foreign: Vec<i64> = b_ids.iter().take(5).copied().collect();
    let r = a.api_post("/api/planner/keywords/bulk", json!({ "action": "delete", "ids": foreign })).await;
    assert_eq!(r.json::<Value>().await.unwrap()["result"]["count"], 0);
    assert_eq!(page(&other, "").await.1, 500);
    // And another tenant's keyword is a 404, not a leak.
    assert_eq!(a.get(&format!("/api/planner/keywords/{}", foreign[0])).await.status(), 404);

    // Export follows the filter, and neutralises formula-looking cells.
    let r = a.api_post("/api/planner/keywords", json!({ "keyword": "=HYPERLINK(\"http://x\")", "volume": 1 })).await;
    assert_eq!(r.status(), 201);
    let r = a.get("/planner/keywords/export?q=%3DHYPER").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let csv = r.text().await.unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.lines().nth(1).unwrap().starts_with("\"'=HYPERLINK("), "{csv}");
    let csv = a.get("/api/planner/keywords/export?country=GB").await.text().await.unwrap();
    assert_eq!(csv.lines().count(), 1 + rows.iter().filter(|k| k.country == "GB").count());
}

#[tokio::test(flavor = "multi_thread")]
async fn add_edit_and_delete_one_keyword_with_validation() {
    let app = TestApp::spawn().await;
    let (b, _) = app.signup("Cy", "cy@example.com", "Cy Co").await;
    let r = b
        .post_form(
            "/planner/keywords",
            &[("keyword", "  Blue   Widgets "), ("volume", "1,200"), ("difficulty", "40"), ("intent", "commercial")],
        )
        .await;
    assert_eq!(r.status(), 303);
    // Unique per workspace, case-insensitively; bad numbers explained beside their fields.
    let r = b
        .post_form("/planner/keywords", &[("keyword", "blue widgets"), ("volume", "lots"), ("difficulty", "140"), ("country", "Atlantis")])
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("already in this workspace") || html.contains("not a number"), "{html}");
    assert!(html.contains("not a number") && html.contains("out of range") && html.contains("two-letter"), "every field's message");
    let r = b.api_post("/api/planner/keywords", json!({ "keyword": "BLUE WIDGETS" })).await;
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().await.unwrap()["error"]["fields"]["keyword"].as_str().unwrap().contains("already"));
    assert_eq!(app.count("keywords").await, 1);

    let list: Value = b.get("/api/planner/keywords").await.json().await.unwrap();
    let kw = &list["keywords"][0];
    assert_eq!((kw["keyword"].as_str(), kw["volume"].as_i64()), (Some("Blue Widgets"), Some(1200)));
    let id = kw["id"].as_i64().unwrap();
    let r =
        b.post_form(&format!("/planner/keywords/{id}"), &[("keyword", "blue widgets"), ("volume", "900"), ("status", "archived")]).await;
    assert_eq!(r.status(), 303);
    let k: Value = b.get(&format!("/api/planner/keywords/{id}")).await.json().await.unwrap();
    assert_eq!((k["keyword"].as_str(), k["volume"].as_i64(), k["status"].as_str()), (Some("blue widgets"), Some(900), Some("archived")));
    let r = b.post_form(&format!("/planner/keywords/{id}/delete"), &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(app.count("keywords").await, 0);
    let audit: Value = b.get("/api/system/audit?action=keyword.updated").await.json().await.unwrap();
    assert!(audit.to_string().contains("keyword.updated"), "edits are in the audit trail: {audit}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cached_matching_count_follows_every_kind_of_change() {
    let app = super::support::app().await;
    let (b, _) = app.signup("Cam", "cam@example.com", "Cam Co").await;
    let total = |q: &'static str| {
        let b = &b;
        async move { page(b, q).await.1 }
    };
    for i in 0..3 {
        super::support::add_keyword(&b, &format!("widget {i}"), 10).await;
    }
    assert_eq!(total("q=widget").await, 3);
    assert_eq!(total("q=widget&page=2").await, 3, "paging reuses the count");
    super::support::add_keyword(&b, "widget 3", 10).await;
    assert_eq!(total("q=widget").await, 4, "a new keyword changes it");

    let r = b.api_post("/api/planner/clusters", json!({ "name": "Widgets" })).await;
    let cid = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = b
        .api_post(
            "/api/planner/keywords/bulk",
            json!({ "action": "move", "all": true, "filter": { "q": "widget 1" }, "cluster_id": cid.to_string() }),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(total("q=widget&cluster=none").await, 3);
    let r = b.api(reqwest::Method::DELETE, &format!("/api/planner/clusters/{cid}"), None).await;
    assert_eq!(r.status(), 204);
    assert_eq!(total("q=widget&cluster=none").await, 4, "deleting the cluster unclusters its keywords");

    let (done, _) = super::support::import(&b, "more.csv", b"keyword\nwidget 10\nwidget 11\n".to_vec(), "skip").await;
    assert_eq!(done["inserted"], 2);
    assert_eq!(total("q=widget").await, 6, "an import changes it");
    let r = b.api_post("/api/planner/keywords/bulk", json!({ "action": "delete", "all": true, "filter": { "q": "widget" } })).await;
    assert_eq!(r.json::<Value>().await.unwrap()["result"]["count"], 6);
    assert_eq!(total("q=widget").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_bulk_form_acts_on_ticked_rows_or_on_all_matching_the_filter_it_carries() {
    let app = TestApp::spawn().await;
    let (b, _) = app.signup("Bo", "bo2@example.com", "Bo2 Co").await;
    let mut ids = Vec::new();
    for (k, v) in [("red shoes", 10), ("blue shoes", 20), ("green hats", 30), ("red hats", 40)] {
        ids.push(super::support::add_keyword(&b, k, v).await.to_string());
    }
    // Ticked rows (ids repeat in the form): export just those two.
    let r = b.post_form("/planner/keywords/bulk", &[("action", "export"), ("ids", &ids[0]), ("ids", &ids[2])]).await;
    assert_eq!(r.status(), 200);
    let csv = r.text().await.unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.contains("red shoes") && csv.contains("green hats") && !csv.contains("blue shoes"));
    // All matching the carried filter (f_q=red): archive them; the redirect keeps the filter.
    let r = b.post_form("/planner/keywords/bulk", &[("action", "set_status"), ("status", "archived"), ("all", "1"), ("f_q", "red")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/planner/keywords?q=red");
    let (_, archived) = page(&b, "status=archived").await;
    assert_eq!(archived, 2);
    // Cluster the ticked rows locally from the form; a bad threshold comes back as a toast, not a 500.
    let r = b
        .post_form("/planner/keywords/bulk", &[("action", "cluster_local"), ("threshold", "0.2"), ("ids", &ids[0]), ("ids", &ids[1])])
        .await;
    assert_eq!(r.status(), 303);
    let (items, _) = page(&b, "cluster=none").await;
    assert_eq!(items.len(), 2, "the two shoes are clustered, the hats are not");
    let r = b.post_form("/planner/keywords/bulk", &[("action", "cluster_local"), ("threshold", "7"), ("ids", &ids[2])]).await;
    assert_eq!(r.status(), 303);
    let flash = r.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("igny8_flash="));
    assert!(flash);
    // The dashboard shows how far the pipeline has come.
    let (_, dash) = b.get_text("/dashboard").await;
    assert!(
        dash.contains("id=\"keywords-count\">4<")
            && dash.contains("2 not clustered yet")
            && dash.contains("id=\"clusters-count\">1<")
            && dash.contains("data-stage=\"Clustered keywords\" data-count=\"2\""),
        "{dash}"
    );
    // Nothing ticked and not "all": refused with a message.
    let r = b.post_form("/planner/keywords/bulk", &[("action", "delete")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(app.count("keywords").await, 4);
}
