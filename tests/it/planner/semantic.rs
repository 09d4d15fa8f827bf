//! Clustering by meaning, with the real model from the packaged files (models/, fetched by scripts/fetch-model.sh):
//! keywords of one topic that share no word are grouped, the same groups come in any order and workspace, a
//! second run embeds nothing, and without the model the mode is offered disabled with the reason.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use super::support::{add_keyword, app, balance, snapshot, wait_job};
use crate::harness::{Browser, TestApp};

/// Four topics; inside a topic no two keywords share a word, and "best" recurs across topics.
const TOPICS: [[&str; 4]; 4] = [
    ["sneakers for jogging", "best running shoes", "marathon trainers", "trail footwear"],
    ["mortgage rates", "home loan interest", "refinance my house", "best fixed rate lender"],
    ["chocolate cake recipe", "baking sweet treats", "easy cupcake ideas", "homemade dessert"],
    ["cheap flights to rome", "airline tickets deals", "last minute airfare", "budget plane travel"],
];

fn volume(k: &str) -> i64 {
    // Distinct volumes: the first keyword of each topic is the biggest and names the cluster.
    let (t, i) = TOPICS.iter().enumerate().find_map(|(t, ks)| ks.iter().position(|x| *x == k).map(|i| (t, i))).unwrap();
    1000 - (t as i64 * 10 + i as i64)
}

fn expected() -> BTreeMap<String, Vec<String>> {
    TOPICS
        .iter()
        .map(|ks| {
            let mut v: Vec<String> = ks.iter().map(|k| k.to_string()).collect();
            v.sort();
            (ks[0].to_string(), v)
        })
        .collect()
}

/// Clusters every keyword by meaning through the API and waits for the job; returns its result.
async fn cluster_by_meaning(app: &TestApp, b: &Browser) -> Value {
    let r = b.api_post("/api/planner/cluster", json!({ "mode": "semantic", "all": true })).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["credits"], 0, "free: {body}");
    let (status, result, err) = wait_job(app, body["job_id"].as_i64().unwrap()).await;
    assert_eq!(status, "succeeded", "{err:?}");
    result
}

async fn embeddings(app: &TestApp, tenant_id: i64) -> i64 {
    use igny8::db::schema::keyword_embeddings as ke;
    let mut conn = app.db().await;
    ke::table.filter(ke::tenant_id.eq(tenant_id)).count().get_result(&mut conn).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn keywords_that_share_no_word_are_grouped_by_meaning_and_written_as_semantic_clusters() {
    let app = app().await;
    let (a, tenant) = app.signup("Se", "se@example.com", "Se Co").await;
    for ks in TOPICS {
        for k in ks {
            add_keyword(&a, k, volume(k)).await;
        }
    }
    let before = balance(&a).await;
    let result = cluster_by_meaning(&app, &a).await;
    assert_eq!(result["method"], "semantic");
    assert_eq!((result["keywords"].as_u64(), result["clusters"].as_u64(), result["unclustered"].as_u64()), (Some(16), Some(4), Some(0)));
    assert_eq!(snapshot(&a).await, (expected(), vec![]));
    assert_eq!(balance(&a).await, before, "no credits spent");

    // The clusters say how they were made, and so does the audit trail.
    let mut conn = app.db().await;
    use igny8::db::schema::{audit_events, clusters};
    let sources: Vec<String> =
        clusters::table.filter(clusters::tenant_id.eq(tenant)).select(clusters::source).load(&mut conn).await.unwrap();
    assert_eq!(sources, vec!["semantic"; 4]);
    let audited: i64 = audit_events::table
        .filter(audit_events::tenant_id.eq(tenant))
        .filter(audit_events::action.eq("keyword.clustered_semantic"))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(audited, 1);
    let (_, page) = a.get_text("/planner/clusters").await;
    assert!(page.contains("semantic"), "the clusters page shows the method");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_groups_come_in_any_order_and_any_workspace() {
    let app = app().await;
    let (a, _) = app.signup("Or", "or@example.com", "Or Co").await;
    let (b, _) = app.signup("Re", "re@example.com", "Re Co").await;
    let all: Vec<&str> = TOPICS.iter().flatten().copied().collect();
    for k in &all {
        add_keyword(&a, k, volume(k)).await;
    }
    // Interleaved differently in the second workspace.
    for i in 0..all.len() {
        let k = all[(i * 7 + 3) % all.len()];
        add_keyword(&b, k, volume(k)).await;
    }
    cluster_by_meaning(&app, &a).await;
    // The second workspace uses the keywords page's form; the job's end comes back through the activity strip.
    let r = b.post_form("/planner/keywords/bulk", &[("action", "cluster_semantic"), ("all", "1"), ("threshold", "")]).await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let job_id: i64 = {
        use igny8::db::schema::jobs;
        let mut conn = app.db().await;
        jobs::table
            .filter(jobs::kind.eq("planner.cluster_semantic"))
            .select(diesel::dsl::max(jobs::id))
            .first::<Option<i64>>(&mut conn)
            .await
            .unwrap()
            .unwrap()
    };
    let (status, result, err) = wait_job(&app, job_id).await;
    assert_eq!(status, "succeeded", "{err:?}");
    assert_eq!(result["threshold"], 0.4, "an empty threshold field means the method's default");
    let r = b.get(&format!("/planner/activity?seen={job_id}")).await;
    assert_eq!(r.headers()["hx-refresh"], "true");
    assert!(r.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("igny8_flash=")), "the outcome as a toast");
    let first = snapshot(&a).await;
    assert_eq!(snapshot(&b).await, first);
    // Run again over the clustered keywords: the same groups, reusing the clusters by name.
    let again = cluster_by_meaning(&app, &a).await;
    assert_eq!(snapshot(&a).await, first);
    assert_eq!(again["clusters"], 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_run_embeds_nothing_and_a_reworded_keyword_is_embedded_again() {
    let app = app().await;
    let (a, tenant) = app.signup("Ca", "ca@example.com", "Ca Co").await;
    let mut ids = HashMap::new();
    for ks in TOPICS {
        for k in ks {
            ids.insert(k, add_keyword(&a, k, volume(k)).await);
        }
    }
    let first = cluster_by_meaning(&app, &a).await;
    assert_eq!((first["embedded"].as_u64(), first["cached"].as_u64()), (Some(16), Some(0)));
    assert_eq!(embeddings(&app, tenant).await, 16);

    let second = cluster_by_meaning(&app, &a).await;
    assert_eq!((second["embedded"].as_u64(), second["cached"].as_u64()), (Some(0), Some(16)), "{second}");
    assert_eq!(snapshot(&a).await, (expected(), vec![]));

    // Reworded: only that keyword is embedded again. Deleted: its vector goes with it.
    let id = ids["marathon trainers"];
    let body = json!({ "keyword": "marathon running trainers", "volume": volume("marathon trainers") });
    let r = a.api(reqwest::Method::PUT, &format!("/api/planner/keywords/{id}"), Some(body)).await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let third = cluster_by_meaning(&app, &a).await;
    assert_eq!((third["embedded"].as_u64(), third["cached"].as_u64()), (Some(1), Some(15)), "{third}");
    let r = a.api(reqwest::Method::DELETE, &format!("/api/planner/keywords/{}", ids["trail footwear"]), None).await;
    assert_eq!(r.status(), 204);
    assert_eq!(embeddings(&app, tenant).await, 15);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_model_the_mode_is_offered_disabled_with_the_reason() {
    let env = HashMap::from([("IGNY8_WORKERS", "1".to_string()), ("IGNY8_MODEL_DIR", "no-model-here".to_string())]);
    let app = TestApp::spawn_with(&crate::harness::redis_url(), env).await;
    let (a, _) = app.signup("No", "no@example.com", "No Co").await;
    add_keyword(&a, "running shoes", 10).await;
    add_keyword(&a, "best running shoes", 5).await;

    let (status, page) = a.get_text("/planner/keywords").await;
    assert_eq!(status, 200);
    let option = page.lines().find(|l| l.contains("value=\"cluster_semantic\"")).expect("the option is listed");
    assert!(option.contains(" disabled") && option.contains("meaning model is not installed"), "{option}");

    let r = a.api_post("/api/planner/cluster", json!({ "mode": "semantic", "all": true })).await;
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert!(body.to_string().contains("fetch-model.sh"), "the reason says how to install it: {body}");
    // The page offers it disabled; a form sent anyway gets the same answer, not a 500.
    let r = a.post_form("/planner/keywords/bulk", &[("action", "cluster_semantic"), ("all", "1")]).await;
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("meaning model is not installed"));
    use igny8::db::schema::jobs;
    let mut conn = app.db().await;
    let queued: i64 = jobs::table.filter(jobs::kind.eq("planner.cluster_semantic")).count().get_result(&mut conn).await.unwrap();
    assert_eq!(queued, 0, "nothing queued");

    // The other free mode still works.
    let r = a.api_post("/api/planner/cluster", json!({ "mode": "local", "all": true })).await;
    assert_eq!(r.status(), 200);
}
