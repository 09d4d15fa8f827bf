//! Over-long input is a field error, never cut with a success toast; at the limit it is stored whole. JSON bodies
//! take the types docs/API.md gives them (numbers as numbers, lists as arrays).

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::{clusters, content_ideas, tasks};
use serde_json::{Value, json};

use crate::harness::TestApp;

async fn field_error(r: reqwest::Response, field: &str) -> String {
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    body["error"]["fields"][field].as_str().unwrap_or_else(|| panic!("no error for {field}: {body}")).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn over_long_input_is_a_field_error_and_at_the_limit_it_is_kept_whole() {
    let app = TestApp::spawn().await;
    let (b, tid) = app.signup("Lena Long", "lena@example.com", "Long Texts").await;
    let mut conn = app.db().await;

    // Cluster description: 2,001 characters refused (create and update), 2,000 kept whole.
    let msg =
        field_error(b.api_post("/api/planner/clusters", json!({"name": "Shoes", "description": "d".repeat(2001)})).await, "description")
            .await;
    assert!(msg.contains("at most 2000 characters"), "{msg}");
    assert_eq!(app.count("clusters").await, 0);
    let r = b.api_post("/api/planner/clusters", json!({"name": "Shoes", "description": "d".repeat(2000)})).await;
    assert_eq!(r.status(), 201);
    let id: i64 = clusters::table.filter(clusters::tenant_id.eq(tid)).select(clusters::id).first(&mut conn).await.unwrap();
    let r = b
        .api(reqwest::Method::PUT, &format!("/api/planner/clusters/{id}"), Some(json!({"name": "Shoes", "description": "e".repeat(2001)})))
        .await;
    field_error(r, "description").await;
    let kept: String = clusters::table.find((tid, id)).select(clusters::description).first(&mut conn).await.unwrap();
    assert_eq!(kept, "d".repeat(2000), "unchanged by the refused update, and not cut when saved");

    // Writer task: a target keyword of 201 characters, 31 outline headings → field errors, no task.
    let r = b
        .api_post("/api/writer/tasks", json!({"title": "Trail shoes", "target_keywords": "k".repeat(201), "word_count_goal": "1500"}))
        .await;
    assert!(field_error(r, "target_keywords").await.contains("item 1 can be at most 200 characters"));
    let outline: Vec<String> = (1..=31).map(|i| format!("Heading {i}")).collect();
    let r = b.api_post("/api/writer/tasks", json!({"title": "Trail shoes", "outline": outline.join("\n")})).await;
    assert!(field_error(r, "outline").await.contains("at most 30 items (got 31)"));
    assert_eq!(app.count("tasks").await, 0);
    // The documented JSON types: lists as arrays, the goal as a number; 200 characters and 30 items are fine.
    let r = b
        .api_post(
            "/api/writer/tasks",
            json!({"title": "Trail shoes", "target_keywords": ["k".repeat(200), "trail shoes".to_string()], "outline": &outline[..30], "word_count_goal": 1800}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let (task, kws, heads, goal): (i64, Vec<String>, Vec<String>, i32) = tasks::table
        .filter(tasks::tenant_id.eq(tid))
        .select((tasks::id, tasks::target_keywords, tasks::outline, tasks::word_count_goal))
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!((kws, heads.len(), goal), (vec!["k".repeat(200), "trail shoes".to_string()], 30, 1800));

    // The editor's save: an 81-character slug and a 201-character primary keyword are refused; the article is unchanged.
    diesel::update(tasks::table.find((tid, task)))
        .set((tasks::status.eq("draft"), tasks::content_html.eq("<p>Hello</p>"), tasks::slug.eq("trail-shoes")))
        .execute(&mut conn)
        .await
        .unwrap();
    let save = |slug: String, primary: String| json!({"title": "Trail shoes", "slug": slug, "primary_keyword": primary, "content_html": "<p>Changed</p>", "status": "draft"});
    let r = b.api(reqwest::Method::PUT, &format!("/api/writer/tasks/{task}"), Some(save("s".repeat(81), "trail".into()))).await;
    assert!(field_error(r, "slug").await.contains("at most 80 characters (got 81)"));
    let r = b.api(reqwest::Method::PUT, &format!("/api/writer/tasks/{task}"), Some(save("ok".into(), "p".repeat(201)))).await;
    field_error(r, "primary_keyword").await;
    let (slug, html): (String, String) =
        tasks::table.find((tid, task)).select((tasks::slug, tasks::content_html)).first(&mut conn).await.unwrap();
    assert_eq!((slug.as_str(), html.as_str()), ("trail-shoes", "<p>Hello</p>"));
    let r = b.api(reqwest::Method::PUT, &format!("/api/writer/tasks/{task}"), Some(save("s".repeat(80), "p".repeat(200)))).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (slug, primary): (String, String) =
        tasks::table.find((tid, task)).select((tasks::slug, tasks::primary_keyword)).first(&mut conn).await.unwrap();
    assert_eq!((slug, primary), ("s".repeat(80), "p".repeat(200)));

    // An idea saved through the API with a number for its words and arrays for its lists; an over-long heading refused.
    let idea: i64 = diesel::insert_into(content_ideas::table)
        .values((content_ideas::tenant_id.eq(tid), content_ideas::title.eq("Trail shoe guide")))
        .returning(content_ideas::id)
        .get_result(&mut conn)
        .await
        .unwrap();
    let body = |outline: Vec<String>| {
        json!({"title": "Trail shoe guide", "description": "", "content_type": "post", "structure": "guide",
               "target_keywords": ["trail shoes", "grip"], "outline": outline, "estimated_words": 1200})
    };
    let r = b.api(reqwest::Method::PUT, &format!("/api/planner/ideas/{idea}"), Some(body(vec!["h".repeat(201)]))).await;
    assert!(field_error(r, "outline").await.contains("item 1 can be at most 200 characters (got 201)"));
    let r = b.api(reqwest::Method::PUT, &format!("/api/planner/ideas/{idea}"), Some(body(vec!["Grip".into(), "Fit".into()]))).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (words, kws, heads): (i32, Vec<String>, Vec<String>) = content_ideas::table
        .find((tid, idea))
        .select((content_ideas::estimated_words, content_ideas::target_keywords, content_ideas::outline))
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!((words, kws, heads), (1200, vec!["trail shoes".to_string(), "grip".into()], vec!["Grip".to_string(), "Fit".into()]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_json_body_that_is_not_an_object_is_refused_and_saves_nothing() {
    let app = TestApp::spawn().await;
    let (b, _) = app.signup("Ari Array", "ari@example.com", "Arrays").await;
    let before: Value = b.get("/api/automation").await.json().await.unwrap();
    let r = b.api(reqwest::Method::PUT, "/api/automation", Some(json!({"enabled": true, "daily_credit_budget": 40, "steps": []}))).await;
    assert_eq!(r.status(), 200, "an object is read as before");
    for (method, path, body) in [
        (reqwest::Method::PUT, "/api/automation", json!([])),
        (reqwest::Method::PUT, "/api/automation", json!([true, 5])),
        (reqwest::Method::POST, "/api/planner/clusters", json!(["Shoes", "desc"])),
        (reqwest::Method::POST, "/api/writer/tasks", json!("Trail shoes")),
        (reqwest::Method::POST, "/api/planner/keywords", json!(null)),
    ] {
        let r = b.api(method.clone(), path, Some(body.clone())).await;
        assert_eq!(r.status(), 400, "{method} {path} {body}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "bad_request");
        assert!(v["error"]["message"].as_str().unwrap().contains("must be an object"), "{v}");
    }
    let after: Value = b.get("/api/automation").await.json().await.unwrap();
    assert_eq!(after["settings"]["daily_credit_budget"], 40, "the [] body did not reset the settings to defaults");
    assert_ne!(before["settings"]["daily_credit_budget"], after["settings"]["daily_credit_budget"]);
    assert_eq!((app.count("clusters").await, app.count("tasks").await, app.count("keywords").await), (0, 0, 0));

    // Model rates take the dollar figures as JSON numbers, as docs/API.md shows them.
    let mut conn = app.db().await;
    diesel::update(igny8::db::schema::users::table.filter(igny8::db::schema::users::email.eq("ari@example.com")))
        .set(igny8::db::schema::users::is_system_admin.eq(true))
        .execute(&mut conn)
        .await
        .unwrap();
    let r = b
        .api(
            reqwest::Method::PUT,
            "/api/system/model-rates",
            Some(json!({"provider": "openai", "model": "gpt-test", "input_usd": 0.15, "output_usd": 0.6, "image_usd": 0})),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let rates: Value = b.get("/api/system/model-rates").await.json().await.unwrap();
    let row = rates.as_array().or(rates["rates"].as_array()).unwrap().iter().find(|r| r["model"] == "gpt-test").cloned().unwrap();
    assert_eq!(row["input_per_mtok_micros"], 150_000, "{row}");
}
