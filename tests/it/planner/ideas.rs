//! Ideas: generated per cluster (1 credit per idea delivered), edited, sent to the writer once.

use serde_json::{Value, json};

use super::support::{add_keyword, app, balance, wait_job};
use crate::fake_ai::{FakeAi, Reply};

fn idea(title: &str, kind: &str, structure: &str) -> Value {
    json!({ "title": title, "description": "Why and how.", "content_type": kind, "structure": structure,
            "target_keywords": ["running shoes"], "outline": ["What to look for", "Top picks", "FAQ"], "estimated_words": 1800 })
}

#[tokio::test(flavor = "multi_thread")]
async fn ideas_are_generated_charged_per_idea_edited_and_sent_to_the_writer_once() {
    let app = app().await;
    let fake = FakeAi::start();
    let (b, _) = app.signup("Ivy", "ivy@example.com", "Ivy Co").await;
    fake.use_for_text(&b).await;
    let kw = add_keyword(&b, "running shoes", 5000).await;
    let r = b.api_post("/api/planner/clusters", json!({ "name": "Running shoes", "description": "Shoes for runners" })).await;
    assert_eq!(r.status(), 201);
    let cluster = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = b.api_post("/api/planner/keywords/bulk", json!({ "action": "move", "ids": [kw], "cluster_id": cluster.to_string() })).await;
    assert_eq!(r.status(), 200);

    // Asked for 5; the model gives 5, one without a title and one with an unknown type (repaired to "post").
    fake.then([Reply::Ok(
        json!({ "ideas": [idea("Best running shoes of 2026", "post", "listicle"), idea("How to choose running shoes", "page", "how-to"),
                           idea("", "post", "guide"), idea("Running shoes vs trail shoes", "video", "comparison"), idea("Running shoe care", "post", "guide")] })
        .to_string(),
    )]);
    let before = balance(&b).await;
    let r = b.api_post("/api/planner/clusters/ideas", json!({ "cluster_ids": [cluster], "count": 5 })).await;
    assert_eq!(r.status(), 202);
    let job = r.json::<Value>().await.unwrap()["job_ids"][0].as_i64().unwrap();
    let (status, result, err) = wait_job(&app, job).await;
    assert_eq!(status, "succeeded", "{err:?}");
    assert_eq!((result["ideas"].as_i64(), result["offered"].as_i64()), (Some(4), Some(5)));
    assert_eq!(before - balance(&b).await, 4, "1 credit per idea delivered; the fifth is returned");
    let prompt = fake.seen()[0].body["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(prompt.contains("Running shoes") && prompt.contains("running shoes") && prompt.contains("Ideas: 5"), "{prompt}");

    let list: Value = b.get(&format!("/api/planner/ideas?cluster={cluster}")).await.json().await.unwrap();
    let ideas = list["ideas"].as_array().unwrap();
    assert_eq!(ideas.len(), 4);
    let vs = ideas.iter().find(|i| i["title"] == "Running shoes vs trail shoes").unwrap();
    assert_eq!((vs["content_type"].as_str(), vs["structure"].as_str()), (Some("post"), Some("comparison")));
    let how = ideas.iter().find(|i| i["title"] == "How to choose running shoes").unwrap();
    assert_eq!(how["structure"], "how_to");
    assert_eq!(how["outline"], json!(["What to look for", "Top picks", "FAQ"]));
    let cluster_row: Value = b.get(&format!("/api/planner/clusters/{cluster}")).await.json().await.unwrap();
    assert_eq!((cluster_row["ideas_count"].as_i64(), cluster_row["keyword_count"].as_i64()), (Some(4), Some(1)));

    // Edit with validation.
    let id = how["id"].as_i64().unwrap();
    let r = b
        .api(
            reqwest::Method::PUT,
            &format!("/api/planner/ideas/{id}"),
            Some(json!({ "title": "x", "content_type": "post", "structure": "guide", "estimated_words": "50" })),
        )
        .await;
    assert_eq!(r.status(), 422);
    let fields = r.json::<Value>().await.unwrap()["error"]["fields"].clone();
    assert!(fields.get("title").is_some() && fields.get("estimated_words").is_some(), "{fields}");
    let r = b
        .api(reqwest::Method::PUT, &format!("/api/planner/ideas/{id}"), Some(json!({ "title": "Choosing running shoes", "description": "Line one.\nLine two.", "content_type": "post", "structure": "guide",
            "outline": "Fit\nCushioning", "target_keywords": "running shoes, shoe fit", "estimated_words": "2000" })))
        .await;
    assert_eq!(r.status(), 200);
    let edited: Value = r.json().await.unwrap();
    assert_eq!(
        (edited["outline"].clone(), edited["target_keywords"].clone()),
        (json!(["Fit", "Cushioning"]), json!(["running shoes", "shoe fit"]))
    );
    assert_eq!(edited["description"], "Line one.\nLine two.", "the description textarea keeps its line breaks");

    // Send to writer: one task per idea, once.
    let ids: Vec<i64> = ideas.iter().map(|i| i["id"].as_i64().unwrap()).collect();
    let r = b.api_post("/api/planner/ideas/send-to-writer", json!({ "ids": &ids[..2] })).await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().await.unwrap()["task_ids"].as_array().unwrap().len(), 2);
    let r = b.api_post("/api/planner/ideas/send-to-writer", json!({ "ids": ids })).await;
    let sent: Value = r.json().await.unwrap();
    assert_eq!((sent["task_ids"].as_array().unwrap().len(), sent["already_sent"].as_i64()), (2, Some(2)));
    assert_eq!(app.count("tasks").await, 4);
    let queued: Value = b.get("/api/planner/ideas?status=queued").await.json().await.unwrap();
    assert_eq!(queued["pager"]["total"], 4);

    // No usable idea at all: the job fails and the whole reservation comes back.
    fake.then([Reply::Ok(json!({ "ideas": [idea("", "post", "guide")] }).to_string())]);
    let before = balance(&b).await;
    let r = b.api_post("/api/planner/clusters/ideas", json!({ "cluster_ids": [cluster], "count": 3 })).await;
    let job = r.json::<Value>().await.unwrap()["job_ids"][0].as_i64().unwrap();
    assert_eq!(wait_job(&app, job).await.0, "failed");
    assert_eq!(balance(&b).await, before);
    // Out of range count is refused before anything is queued.
    let r = b.api_post("/api/planner/clusters/ideas", json!({ "cluster_ids": [cluster], "count": 9 })).await;
    assert_eq!(r.status(), 422);

    // Merge and delete keep ideas and keywords; the pages render.
    let r = b.api_post("/api/planner/clusters", json!({ "name": "Shoes" })).await;
    let other = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = b.api_post(&format!("/api/planner/clusters/{cluster}/merge"), json!({ "into": other })).await;
    assert_eq!(r.status(), 200);
    let merged: Value = b.get(&format!("/api/planner/clusters/{other}")).await.json().await.unwrap();
    assert_eq!((merged["ideas_count"].as_i64(), merged["keyword_count"].as_i64()), (Some(4), Some(1)));
    for path in ["/planner/clusters", &format!("/planner/clusters/{other}"), "/planner/ideas", &format!("/planner/ideas/{id}")] {
        let (status, html) = b.get_text(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.contains("Choosing running shoes") || html.contains("Shoes"), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_offline_dev_provider_clusters_and_plans_ideas_end_to_end() {
    let app = app().await;
    let (b, _) = app.signup("Dee", "dee@example.com", "Dee Co").await;
    for (k, v) in [("vegan brownies", 900), ("easy vegan brownies", 300), ("vegan brownie recipe", 200)] {
        add_keyword(&b, k, v).await;
    }
    let r = b.api_post("/api/planner/cluster", json!({ "mode": "ai", "all": true })).await;
    let (status, _, err) = wait_job(&app, r.json::<Value>().await.unwrap()["job_id"].as_i64().unwrap()).await;
    assert_eq!(status, "succeeded", "{err:?}");
    let clusters: Value = b.get("/api/planner/clusters").await.json().await.unwrap();
    let c = clusters["clusters"][0]["id"].as_i64().unwrap();
    let r = b.api_post("/api/planner/clusters/ideas", json!({ "cluster_ids": [c], "count": 3 })).await;
    let (status, result, _) = wait_job(&app, r.json::<Value>().await.unwrap()["job_ids"][0].as_i64().unwrap()).await;
    assert_eq!((status.as_str(), result["ideas"].as_i64()), ("succeeded", Some(3)));
}
