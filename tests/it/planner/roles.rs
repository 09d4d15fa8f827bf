//! Every planner action respects the role: a viewer reads but changes nothing, through pages or API.

use serde_json::{Value, json};

use super::support::{add_keyword, upload};
use crate::harness::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn viewers_can_read_but_every_bulk_and_write_action_is_refused() {
    let app = TestApp::spawn().await;
    let team = app.team("plr").await;
    let kw = add_keyword(&team.editor, "editor keyword", 10).await;
    let r = team.editor.api_post("/api/planner/clusters", json!({ "name": "Editors' cluster" })).await;
    assert_eq!(r.status(), 201);
    let cluster = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let v = &team.viewer;

    for (path, body) in [
        ("/api/planner/keywords", json!({ "keyword": "viewer keyword" })),
        ("/api/planner/keywords/bulk", json!({ "action": "delete", "ids": [kw] })),
        ("/api/planner/keywords/bulk", json!({ "action": "set_status", "status": "archived", "all": true })),
        ("/api/planner/keywords/bulk", json!({ "action": "move", "ids": [kw], "cluster_id": cluster.to_string() })),
        ("/api/planner/keywords/bulk", json!({ "action": "cluster_local", "all": true })),
        ("/api/planner/keywords/bulk", json!({ "action": "cluster_ai", "all": true })),
        ("/api/planner/cluster", json!({ "mode": "local", "ids": [kw] })),
        ("/api/planner/clusters", json!({ "name": "Viewer cluster" })),
        ("/api/planner/clusters/ideas", json!({ "cluster_ids": [cluster], "count": 3 })),
        (&format!("/api/planner/clusters/{cluster}/merge"), json!({ "into": cluster })),
        ("/api/planner/ideas/send-to-writer", json!({ "ids": [1] })),
    ] {
        let r = v.api_post(path, body).await;
        assert_eq!(r.status(), 403, "{path}");
    }
    for (method, path) in [
        (reqwest::Method::DELETE, format!("/api/planner/keywords/{kw}")),
        (reqwest::Method::DELETE, format!("/api/planner/clusters/{cluster}")),
    ] {
        assert_eq!(v.api(method, &path, None).await.status(), 403, "{path}");
    }
    let (status, _) = upload(v, "v.csv", b"keyword\nviewer import\n".to_vec()).await;
    assert_eq!(status, 403);
    for (path, fields) in [
        ("/planner/keywords", vec![("keyword", "viewer page keyword")]),
        ("/planner/keywords/bulk", vec![("action", "delete"), ("ids", "1")]),
        ("/planner/clusters/bulk", vec![("action", "delete"), ("ids", "1")]),
        ("/planner/ideas/bulk", vec![("action", "send"), ("ids", "1")]),
    ] {
        let ids = kw.to_string();
        let fields: Vec<(&str, &str)> = fields.into_iter().map(|(k, val)| (k, if k == "ids" { ids.as_str() } else { val })).collect();
        assert_eq!(v.post_form(path, &fields).await.status(), 403, "{path}");
    }
    assert_eq!(v.post_form(&format!("/planner/keywords/{kw}/delete"), &[]).await.status(), 403);

    // Nothing changed; the viewer still reads everything, without the edit controls.
    assert_eq!((app.count("keywords").await, app.count("clusters").await, app.count("keyword_imports").await), (1, 1, 0));
    let (status, html) = v.get_text("/planner/keywords").await;
    assert_eq!(status, 200);
    assert!(html.contains("editor keyword") && !html.contains("Add a keyword") && !html.contains("value=\"delete\""));
    let csv = v.get("/planner/keywords/export").await.text().await.unwrap();
    assert!(csv.contains("editor keyword"), "viewers may export");
    // The editor may do what the viewer may not.
    let r = team.editor.api_post("/api/planner/keywords/bulk", json!({ "action": "set_status", "status": "archived", "ids": [kw] })).await;
    assert_eq!(r.status(), 200);
}
