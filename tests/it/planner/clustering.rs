//! Clustering: the local clusterer gives the same clusters every run and in every workspace; the AI
//! path maps answers back to keyword ids without losing, inventing or duplicating a keyword, and says so.

use serde_json::{Value, json};

use super::support::{add_keyword, app, balance, snapshot, wait_job};
use crate::fake_ai::{FakeAi, Reply};
use crate::harness::Browser;

const SET: [(&str, i64); 14] = [
    ("running shoes", 9000),
    ("best running shoes", 4000),
    ("running shoe reviews", 700),
    ("trail running shoes", 1500),
    ("chocolate cake recipe", 8000),
    ("easy chocolate cake", 2500),
    ("chocolate cake", 12000),
    ("tax return deadline", 3000),
    ("tax return deadlines 2026", 400),
    ("vegan brownies", 900),
    ("how to bake vegan brownies", 300),
    ("garden shed plans", 600),
    ("cheap flights to rome", 5000),
    ("flights to rome", 7000),
];

async fn cluster_all_locally(b: &Browser) -> Value {
    let r = b.api_post("/api/planner/cluster", json!({ "mode": "local", "all": true, "threshold": 0.5 })).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn local_clustering_is_deterministic_and_names_clusters_after_their_biggest_keyword() {
    let app = app().await;
    let (a, _) = app.signup("Lu", "lu@example.com", "Lu Co").await;
    for (k, v) in SET {
        add_keyword(&a, k, v).await;
    }
    let first = cluster_all_locally(&a).await;
    let (clusters, loose) = snapshot(&a).await;
    assert!(clusters.len() >= 4, "{clusters:?}");
    assert_eq!(first["unclustered"].as_u64().unwrap() as usize, loose.len(), "the count of unclustered keywords is reported");
    assert!(
        clusters["chocolate cake"].contains(&"easy chocolate cake".to_string()),
        "named after the highest-volume keyword: {clusters:?}"
    );
    assert!(clusters["running shoes"].contains(&"trail running shoes".to_string()));
    assert!(loose.contains(&"garden shed plans".to_string()));

    // Delete every cluster and run again: the same clusters.
    let list: Value = a.get("/api/planner/clusters?per_page=200").await.json().await.unwrap();
    for c in list["clusters"].as_array().unwrap() {
        let r = a.api(reqwest::Method::DELETE, &format!("/api/planner/clusters/{}", c["id"]), None).await;
        assert_eq!(r.status(), 204);
    }
    let (none, _) = snapshot(&a).await;
    assert!(none.is_empty(), "deleting a cluster unclusters its keywords");
    cluster_all_locally(&a).await;
    assert_eq!(snapshot(&a).await, (clusters.clone(), loose.clone()), "second run, same clusters");

    // Another workspace, keywords added in reverse order: the same clusters.
    let (b, _) = app.signup("Mo", "mo@example.com", "Mo Co").await;
    for (k, v) in SET.iter().rev() {
        add_keyword(&b, k, *v).await;
    }
    cluster_all_locally(&b).await;
    assert_eq!(snapshot(&b).await, (clusters, loose), "input order does not matter");

    // A threshold outside 0.05–0.95 is refused with the field named.
    let r = b.api_post("/api/planner/cluster", json!({ "mode": "local", "all": true, "threshold": 2 })).await;
    assert_eq!(r.status(), 422);
}

#[tokio::test(flavor = "multi_thread")]
async fn ai_answers_that_drop_invent_or_repeat_keywords_lose_nothing_and_are_reported() {
    let app = app().await;
    let fake = FakeAi::start();
    let (b, _) = app.signup("Al", "al@example.com", "Al Co").await;
    fake.use_for_text(&b).await;
    let names = ["running shoes", "Trail Shoes", "cake recipe", "tax deadline", "chocolate cake"];
    let mut ids = Vec::new();
    for n in names {
        ids.push(add_keyword(&b, n, 100).await);
    }
    let before = balance(&b).await;
    fake.then([Reply::Ok(
        json!({ "clusters": [
            { "name": "Shoes", "description": "Footwear", "keywords": ["running shoes", "TRAIL  SHOES", "hiking boots"] },
            { "name": "Baking", "description": "Cakes", "keywords": ["cake recipe", "trail shoes", "cake recipe"] },
        ]})
        .to_string(),
    )]);
    let r = b.api_post("/api/planner/keywords/bulk", json!({ "action": "cluster_ai", "ids": ids, "batch_size": 10 })).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let job_id = r.json::<Value>().await.unwrap()["result"]["job_id"].as_i64().unwrap();
    let (status, result, err) = wait_job(&app, job_id).await;
    assert_eq!(status, "succeeded", "{err:?}");

    let (clusters, loose) = snapshot(&b).await;
    assert_eq!(clusters["Shoes"], vec!["Trail Shoes", "running shoes"]);
    assert_eq!(clusters["Baking"], vec!["cake recipe"]);
    assert_eq!(loose, vec!["chocolate cake", "tax deadline"], "dropped keywords stay, unclustered");
    assert_eq!(app.count("keywords").await, 5, "the invented keyword was not created");
    let report = &result["report"];
    assert_eq!(report["dropped"], json!(["tax deadline", "chocolate cake"]));
    assert_eq!(report["invented"], json!(["hiking boots"]));
    assert_eq!(report["repeated"], json!([["Trail Shoes", "Shoes", "Baking"]]));
    assert_eq!(before - balance(&b).await, 1, "5 keywords cost 1 credit (1 per 30)");
    let sent = &fake.seen()[0].body;
    assert_eq!(sent["response_format"]["type"], "json_object");
    let prompt = sent["messages"][1]["content"].as_str().unwrap();
    assert!(names.iter().all(|n| prompt.contains(n)), "every keyword is sent: {prompt}");
    // The page's activity fragment turns the finished job into a toast with the report.
    let r = b.get(&format!("/planner/activity?seen={job_id}")).await;
    assert_eq!(r.headers()["hx-refresh"], "true");
    let flash = r.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("igny8_flash="));
    assert!(flash, "the outcome comes back as a toast");
}

#[tokio::test(flavor = "multi_thread")]
async fn ai_clustering_batches_requests_and_refunds_when_the_answer_is_unusable() {
    let app = app().await;
    let fake = FakeAi::start();
    let (b, _) = app.signup("Bea", "bea@example.com", "Bea Co").await;
    fake.use_for_text(&b).await;
    let names: Vec<String> = (0..25).map(|i| format!("topic {i} guide")).collect();
    for n in &names {
        add_keyword(&b, n, 10).await;
    }
    // Every batch's answer lists all 25: each request assigns its own and the rest count as invented.
    let all = json!({ "clusters": [{ "name": "Guides", "keywords": names }] }).to_string();
    fake.then([Reply::Ok(all.clone()), Reply::Ok(all.clone()), Reply::Ok(all)]);
    let before = balance(&b).await;
    let r = b.api_post("/api/planner/cluster", json!({ "mode": "ai", "all": true, "batch_size": 10 })).await;
    assert_eq!(r.status(), 202);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["credits"], 1);
    let (status, result, _) = wait_job(&app, v["job_id"].as_i64().unwrap()).await;
    assert_eq!(status, "succeeded");
    assert_eq!(fake.seen().len(), 3, "25 keywords in batches of 10 → 3 requests");
    let progress: (i32, i32) = {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        use igny8::db::schema::jobs;
        let mut conn = app.db().await;
        jobs::table
            .filter(jobs::id.eq(v["job_id"].as_i64().unwrap()))
            .select((jobs::progress_done, jobs::progress_total))
            .first(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(progress, (3, 3), "the progress bar counted the batches");
    assert_eq!(result["report"]["invented"].as_array().unwrap().len(), 50);
    assert_eq!(snapshot(&b).await.0["Guides"].len(), 25);
    assert_eq!(before - balance(&b).await, 1);

    // An answer of the wrong shape fails the job and returns the credits; nothing is clustered.
    let fresh: Vec<i64> = {
        let mut ids = Vec::new();
        for i in 0..3 {
            ids.push(add_keyword(&b, &format!("loose {i}"), 1).await);
        }
        ids
    };
    fake.then([Reply::Ok("{\"groups\": []}".into())]);
    let before = balance(&b).await;
    let r = b.api_post("/api/planner/cluster", json!({ "mode": "ai", "ids": fresh })).await;
    let (status, _, err) = wait_job(&app, r.json::<Value>().await.unwrap()["job_id"].as_i64().unwrap()).await;
    assert_eq!(status, "failed", "{err:?}");
    assert!(err.unwrap().contains("shape"));
    assert_eq!(balance(&b).await, before, "refunded");
    assert!(snapshot(&b).await.1.len() >= 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_activity_strip_polls_while_planner_work_runs_and_stays_quiet_otherwise() {
    // No workers: the queued job stays queued, as it does while others are ahead of it.
    let app = crate::harness::TestApp::spawn().await;
    let (b, _) = app.signup("Act", "act@example.com", "Act Co").await;
    let (_, idle) = b.get_text("/planner/activity").await;
    assert!(idle.contains("id=\"planner-activity\"") && !idle.contains("hx-trigger"), "nothing running, no polling: {idle}");
    add_keyword(&b, "trail shoes", 10).await;
    let r = b.api_post("/api/planner/cluster", json!({ "mode": "ai", "all": true })).await;
    let job = r.json::<Value>().await.unwrap()["job_id"].as_i64().unwrap();
    let (status, html) = b.get_text("/planner/activity").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("AI clustering #{job}")) && html.contains("queued"), "{html}");
    assert!(html.contains("hx-trigger=\"every 2s\"") && html.contains(&format!("seen={job}")), "polls, watching the job: {html}");
}
