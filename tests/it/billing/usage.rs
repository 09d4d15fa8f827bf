//! The billing page's usage chart and the dashboard's: their figures are the ledger's sums per day and action;
//! the ledger's filters and its CSV export agree with each other; the dashboard's cards count what is there.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde_json::Value;

use super::support::*;
use crate::harness::TestApp;

type Figures = BTreeMap<(String, String), i64>;

/// (day, series) → value of every element carrying `data-day`, `data-series` and `data-value` and starting with
/// `tag` (`<rect` for the chart's bars, `<td` for its table).
fn figures(html: &str, tag: &str) -> Figures {
    let attr = |el: &str, name: &str| -> Option<String> {
        let start = el.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(el[start..].split('"').next()?.to_string())
    };
    let mut out = Figures::new();
    for el in html.split(tag).skip(1) {
        let el = el.split('>').next().unwrap();
        if let (Some(d), Some(s), Some(v)) = (attr(el, "data-day"), attr(el, "data-series"), attr(el, "data-value")) {
            let v: i64 = v.parse().unwrap();
            if v != 0 {
                assert!(out.insert((d, s), v).is_none(), "one figure per day and series");
            }
        }
    }
    out
}

/// Posts one job entry the way the job queue does, then moves it `days_ago` days back.
async fn entry(app: &TestApp, tid: i64, delta: i64, reason: &'static str, job: i64, kind: &'static str, days_ago: i64) {
    let mut conn = app.db().await;
    conn.transaction::<_, igny8::error::AppError, _>(async move |c| {
        igny8::billing::ledger::post_for_job_in_tx(c, tid, delta, reason, job, kind).await?;
        Ok(())
    })
    .await
    .unwrap();
    backdate(app, tid, reason, &format!("job:{job}"), days_ago).await;
}

async fn backdate(app: &TestApp, tid: i64, reason: &str, reference: &str, days_ago: i64) {
    let mut conn = app.db().await;
    let n = diesel::sql_query(format!(
        "UPDATE credit_ledger SET created_at = now() - interval '{days_ago} days' WHERE tenant_id = {tid} AND reason = '{reason}' AND reference = '{reference}'"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    assert_eq!(n, 1);
}

fn day(days_ago: i64) -> String {
    (Utc::now().date_naive() - Duration::days(days_ago)).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_usage_charts_show_the_ledgers_sums_per_day_and_action() {
    let app = app().await;
    let t = app.team("use").await;
    let other = app.team("other").await;
    let tid = t.tenant_id;
    let (articles, images, clustering, ideas) = ("writer.generate", "writer.image", "planner.cluster_ai", "planner.ideas");
    // Today: an article reserved 5 and settled 2 back (3), an image (1), and a refund of yesterday's article (−6).
    entry(&app, tid, -5, "reserve", 1, articles, 0).await;
    entry(&app, tid, 2, "settle", 1, articles, 0).await;
    entry(&app, tid, -1, "reserve", 2, images, 0).await;
    entry(&app, tid, -6, "reserve", 5, articles, 1).await;
    entry(&app, tid, 6, "refund", 5, articles, 0).await;
    // Two days ago: clustering reserved and refunded the same day (nets to nothing), ideas 2.
    entry(&app, tid, -4, "reserve", 3, clustering, 2).await;
    entry(&app, tid, 4, "refund", 3, clustering, 2).await;
    entry(&app, tid, -2, "reserve", 4, ideas, 2).await;
    // Twenty days ago (on the billing page, not on the dashboard's 14 days), forty days ago (on neither).
    entry(&app, tid, -7, "reserve", 6, images, 20).await;
    entry(&app, tid, -9, "reserve", 7, articles, 40).await;
    // An entry from before job kinds were recorded, and movements that are not AI work.
    let mut conn = app.db().await;
    conn.transaction::<_, igny8::error::AppError, _>(async move |c| {
        igny8::billing::ledger::post_in_tx(c, tid, -3, "reserve", "job:99").await?;
        igny8::billing::ledger::post_in_tx(c, tid, 100, "credit_pack", "cs_1").await?;
        igny8::billing::ledger::post_in_tx(c, tid, -10, "adjustment", "adj_1").await?;
        Ok(())
    })
    .await
    .unwrap();
    backdate(&app, tid, "reserve", "job:99", 3).await;
    // Another workspace's spending shows on neither of this workspace's charts.
    entry(&app, other.tenant_id, -50, "reserve", 1, articles, 0).await;

    let expected: Figures = [
        ((day(0), articles), 3 - 6),
        ((day(0), images), 1),
        ((day(1), articles), 6),
        ((day(2), ideas), 2),
        ((day(3), "other"), 3),
        ((day(20), images), 7),
    ]
    .into_iter()
    .map(|((d, s), v)| ((d, s.to_string()), v))
    .collect();
    let bars = |within: i64| -> Figures {
        expected.iter().filter(|((d, _), v)| **v > 0 && d.as_str() >= day(within - 1).as_str()).map(|(k, v)| (k.clone(), *v)).collect()
    };

    let (status, html) = t.owner.get_text("/billing").await;
    assert_eq!(status, 200);
    assert_eq!(figures(&html, "<td"), expected, "the chart's table: every day and action that moved, refunds included");
    assert_eq!(figures(&html, "<rect"), bars(30), "a bar for every positive figure of the last 30 days");
    assert!(html.contains("Articles") && html.contains("Other AI work"), "actions by their names");

    // The API gives the same figures.
    let api: Value = t.owner.get("/api/billing/usage").await.json().await.unwrap();
    let from_api: Figures = api["usage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| ((u["day"].as_str().unwrap().to_string(), u["action"].as_str().unwrap().to_string()), u["credits"].as_i64().unwrap()))
        .collect();
    assert_eq!(from_api, expected);

    // The dashboard: the last 14 days only, for every member.
    let (status, dash) = t.viewer.get_text("/dashboard").await;
    assert_eq!(status, 200);
    let fourteen: Figures = expected.iter().filter(|((d, _), _)| d.as_str() >= day(13).as_str()).map(|(k, v)| (k.clone(), *v)).collect();
    assert_eq!(figures(&dash, "<td"), fourteen);
    assert_eq!(figures(&dash, "<rect"), bars(14));

    // The ledger behind it still sums to the balance.
    assert_eq!(ledger_sum(&app, tid).await, workspace(&app, tid).await.balance);
    let (_, empty) = other.viewer.get_text("/dashboard").await;
    assert!(figures(&empty, "<rect").keys().all(|(_, s)| s == articles), "the other workspace sees only its own");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ledger_filters_by_reason_and_day_and_exports_the_same_rows_as_csv() {
    let app = app().await;
    let t = app.team("led").await;
    let other = app.team("led2").await;
    let tid = t.tenant_id;
    entry(&app, tid, -5, "reserve", 1, "writer.generate", 0).await;
    entry(&app, tid, -2, "reserve", 2, "writer.image", 3).await;
    entry(&app, tid, 2, "refund", 2, "writer.image", 3).await;
    entry(&app, tid, -1, "reserve", 3, "planner.ideas", 10).await;
    entry(&app, other.tenant_id, -4, "reserve", 1, "writer.generate", 3).await;
    let total_rows = 1 + 4; // the opening plan grant and the four above

    let rows_on_page = |html: &str, reason: &str| html.matches(&format!("data-reason=\"{reason}\"")).count();
    let (_, all) = t.owner.get_text("/billing").await;
    assert_eq!(rows_on_page(&all, "reserve") + rows_on_page(&all, "refund") + rows_on_page(&all, "plan_grant"), total_rows);

    // By reason and by day, on the page, in the API and in the CSV alike.
    let q = format!("reason=reserve&from={}&to={}", day(5), day(1));
    let (status, html) = t.owner.get_text(&format!("/billing?{q}")).await;
    assert_eq!(status, 200);
    assert_eq!((rows_on_page(&html, "reserve"), rows_on_page(&html, "refund")), (1, 0), "only the reservation 3 days ago");
    let api: Value = t.owner.get(&format!("/api/billing/ledger?{q}")).await.json().await.unwrap();
    assert_eq!(api["pagination"]["total"], 1);
    assert_eq!((api["entries"][0]["delta"].as_i64(), api["entries"][0]["action"].as_str()), (Some(-2), Some("writer.image")));
    let unescaped = html.replace("&#38;", "&").replace("&amp;", "&");
    assert!(unescaped.contains(&format!("href=\"/billing/ledger.csv?{q}\"")), "the CSV link keeps the filters");
    let res = t.owner.get(&format!("/billing/ledger.csv?{q}")).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "When (UTC),Reason,Action,Reference,Change,Balance after");
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].contains(",reserve,writer.image,job:2,-2,"), "{csv}");

    // The whole ledger as CSV: oldest first, its changes summing to the balance, no other workspace's rows.
    let csv = t.owner.get("/billing/ledger.csv").await.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(lines.len(), total_rows, "{csv}");
    let changes: i64 = lines.iter().map(|l| l.rsplit(',').nth(1).unwrap().parse::<i64>().unwrap()).sum();
    assert_eq!(changes, workspace(&app, tid).await.balance);
    let times: Vec<&str> = lines.iter().map(|l| l.split(',').next().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first: {csv}");
    assert!(lines.iter().any(|l| l.contains(",plan_grant,,opening,25,25")), "the opening grant: {csv}");
    assert!(!csv.contains("-4,"), "another workspace's entry: {csv}");

    // Filters read leniently: an unknown reason or a bad date means "all", never an error.
    let api: Value = t.owner.get("/api/billing/ledger?reason=bogus&from=yesterday&to=2026-13-45").await.json().await.unwrap();
    assert_eq!(api["pagination"]["total"], total_rows as i64);
    // A control character is refused with a field error (tests/it/hardening.rs), never a 500.
    let (status, _) = t.owner.get_text("/billing?reason=%00&from=%3Cscript%3E").await;
    assert_eq!(status, 422);

    // Who may read it: as the billing page.
    assert_eq!(t.viewer.get("/billing/ledger.csv").await.status(), 403);
    assert_eq!(t.editor.get("/api/billing/ledger.csv").await.status(), 403);
    assert_eq!(t.admin.get("/billing/ledger.csv").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_counts_the_pipeline_tasks_by_status_and_this_months_publishing() {
    let app = app().await;
    let t = app.team("dash").await;
    let tid = t.tenant_id;
    for k in ["trail shoes", "running socks", "hiking boots"] {
        assert_eq!(t.editor.api_post("/api/planner/keywords", serde_json::json!({ "keyword": k })).await.status(), 201);
    }
    let mut conn = app.db().await;
    let sql = format!(
        "WITH s AS (INSERT INTO sites (tenant_id, name, base_url, username, app_password_enc)
                    VALUES ({tid}, 'Blog', 'https://blog.example', 'u', 'x') RETURNING id),
              t AS (INSERT INTO tasks (tenant_id, title, status)
                    SELECT {tid}, 'Task ' || n, (ARRAY['queued','draft','draft','published','published','published'])[n]
                    FROM generate_series(1, 6) n RETURNING id, status)
         INSERT INTO publications (tenant_id, task_id, site_id, state, post_status, published_at, scheduled_at)
         SELECT {tid}, t.id, s.id, 'done', p.post_status, p.published_at, p.scheduled_at
           FROM (SELECT id, row_number() OVER (ORDER BY id) AS r FROM t WHERE status = 'published') t, s,
                (VALUES (1, 'publish', now(), NULL::timestamptz),
                        (2, 'publish', now() - interval '100 days', NULL),
                        (3, 'future', NULL, now())) AS p(r, post_status, published_at, scheduled_at)
          WHERE p.r = t.r"
    );
    assert_eq!(diesel::sql_query(sql).execute(&mut conn).await.unwrap(), 3);

    let (status, html) = t.viewer.get_text("/dashboard").await;
    assert_eq!(status, 200);
    let stage = |name: &str| -> i64 {
        let at = html.find(&format!("data-stage=\"{name}\"")).unwrap_or_else(|| panic!("no stage {name}"));
        html[at..].split("data-count=\"").nth(1).unwrap().split('"').next().unwrap().parse().unwrap()
    };
    assert_eq!((stage("Keywords"), stage("Clustered keywords"), stage("Writer tasks")), (3, 0, 6));
    assert_eq!((stage("Articles written"), stage("Published")), (2 + 3, 3));
    let by_status = |s: &str| -> String {
        let at = html.find(&format!("data-status=\"{s}\">")).unwrap() + format!("data-status=\"{s}\">").len();
        html[at..].split('<').next().unwrap().to_string()
    };
    assert_eq!(
        (by_status("queued"), by_status("draft"), by_status("published"), by_status("failed")),
        ("1".into(), "2".into(), "3".into(), "0".into())
    );
    let card = |id: &str| -> String {
        let at = html.find(&format!("id=\"{id}\">")).unwrap() + id.len() + 6;
        html[at..].split('<').next().unwrap().to_string()
    };
    assert_eq!(
        (card("published-month"), card("scheduled-month")),
        ("1".into(), "1".into()),
        "the post from 100 days ago is not this month's"
    );
    assert_eq!(card("credits-left"), workspace(&app, tid).await.balance.to_string());
}
