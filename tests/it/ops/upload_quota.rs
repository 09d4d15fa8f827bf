//! Stored uploads have a per-workspace quota from the plan: past it, an upload is refused with a message that
//! says how much is stored, what the plan allows and what to do — and nothing of it is kept.

use diesel_async::RunQueryDsl;

use crate::planner::support::{app, import, settle, upload};

fn csv(rows: usize, tag: &str) -> Vec<u8> {
    let mut s = String::from("Keyword,Volume\n");
    for i in 0..rows {
        s.push_str(&format!("{tag} keyword number {i:06} with some padding text,{}\n", i % 5000));
    }
    s.into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_past_the_plan_quota_is_refused_and_nothing_is_kept() {
    let app = app().await;
    // A 1 MB allowance on the sign-up plan (set before the app first reads its plans).
    let mut conn = app.db().await;
    diesel::sql_query("UPDATE plans SET upload_quota_mb = 1 WHERE code = 'free'").execute(&mut conn).await.unwrap();
    let (b, _) = app.signup("Quinn Quota", "quinn@example.com", "Quota Co").await;

    let first = csv(11_000, "first"); // ~0.6 MB
    assert!(first.len() > 550_000 && first.len() < 700_000, "{}", first.len());
    let (status, body) = upload(&b, "first.csv", first).await;
    assert_eq!(status, 202, "{body}");
    let waiting = body["id"].as_i64().unwrap();
    let (analysed, _) = settle(&b, waiting).await;
    assert_eq!(analysed["status"], "ready");

    // The analysed file waits for the go-ahead and still counts: a second one does not fit.
    let imports = app.count("keyword_imports").await;
    let (status, body) = upload(&b, "second.csv", csv(11_000, "second")).await;
    assert_eq!(status, 413, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("keeps 1 MB") && message.contains("Free / Trial plan allows 1 MB"), "{message}");
    assert!(message.contains("Import or discard"), "{message}");
    assert_eq!(app.count("keyword_imports").await, imports);

    // Discarding the waiting file (offered on its page) frees the space; the next file fits and is imported.
    assert!(b.get(&format!("/planner/imports/{waiting}")).await.text().await.unwrap().contains("Discard this file"));
    let r = b.api(reqwest::Method::DELETE, &format!("/api/planner/imports/{waiting}"), None).await;
    assert_eq!(r.status(), 204);
    assert_eq!(app.count("keyword_imports").await, imports - 1);
    assert_eq!(app.count("keyword_import_chunks").await, 0);
    let (done, _) = import(&b, "third.csv", csv(11_000, "third"), "skip").await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["inserted"], 11_000);
    // An imported file is history, not a waiting upload: it cannot be discarded.
    let id = done["id"].as_i64().unwrap();
    let r = b.api(reqwest::Method::DELETE, &format!("/api/planner/imports/{id}"), None).await;
    assert_eq!(r.status(), 409);
    // Another workspace's import is not found.
    let (other, _) = app.signup("Otto Other", "otto@example.com", "Other Co").await;
    let r = other.api(reqwest::Method::DELETE, &format!("/api/planner/imports/{id}"), None).await;
    assert_eq!(r.status(), 404);
}
