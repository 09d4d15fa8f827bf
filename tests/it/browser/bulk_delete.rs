//! Destructive bulk actions ask first and say how many rows they take; "all N matching" past 1,000 rows needs the
//! number typed. Cancelling deletes nothing.

use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;

use super::driver::{Chrome, DESKTOP};
use super::sign_in;
use crate::harness::TestApp;

async fn keywords(app: &TestApp, tid: i64) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = app.db().await;
    let r: N = diesel::sql_query("SELECT count(*) AS n FROM keywords WHERE tenant_id = $1")
        .bind::<BigInt, _>(tid)
        .get_result(&mut conn)
        .await
        .unwrap();
    r.n
}

/// Picks `action` in the bulk bar and presses Apply.
async fn apply(c: &mut Chrome, action: &str) {
    c.js("document.querySelector('#bulk select[name=action]').value = arguments[0]", serde_json::json!([action])).await;
    c.click("#bulk button[type=submit]").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bulk_delete_asks_with_the_count_and_past_a_thousand_rows_wants_the_number_typed() {
    let app = TestApp::spawn().await;
    let (_, tid) = app.signup("Sol", "sol@example.com", "Sol Co").await;
    let mut conn = app.db().await;
    diesel::sql_query("INSERT INTO keywords (tenant_id, keyword) SELECT $1, 'bulk keyword ' || g FROM generate_series(1, 1003) g")
        .bind::<BigInt, _>(tid)
        .execute(&mut conn)
        .await
        .unwrap();
    let mut c = Chrome::start("bulk-delete", DESKTOP).await;
    sign_in(&mut c, &app, "sol@example.com").await;
    c.goto(&format!("{}/planner/keywords", app.base)).await;
    c.settle().await;

    // Two ticked rows: the question names the number; Cancel deletes nothing.
    c.click("input[name=ids][form=bulk]:nth-of-type(1)").await;
    c.js("document.querySelectorAll('input[name=ids][form=bulk]')[1].click()", serde_json::json!([])).await;
    apply(&mut c, "delete").await;
    let asked = c.dialog_text().await;
    assert!(asked.contains("Delete 2 keywords"), "{asked}");
    c.answer_dialog(false, None).await;
    assert_eq!(keywords(&app, tid).await, 1003, "Cancel deletes nothing");
    apply(&mut c, "delete").await;
    assert!(c.dialog_text().await.contains("Delete 2 keywords"));
    c.answer_dialog(true, None).await;
    c.wait_until("the list after the delete", "return document.readyState === 'complete' && !!document.querySelector('#bulk')").await;
    c.settle().await;
    assert_eq!(keywords(&app, tid).await, 1001, "OK deletes the two ticked keywords");

    // All 1,001 matching: the number must be typed; a wrong number deletes nothing and says so.
    c.click("#bulk [data-select-matching]").await;
    apply(&mut c, "delete").await;
    let asked = c.dialog_text().await;
    assert!(asked.contains("1001 keywords") && asked.contains("Type 1001"), "{asked}");
    c.answer_dialog(true, Some("100")).await;
    c.wait(".toast-error").await;
    assert_eq!(keywords(&app, tid).await, 1001, "a wrong number deletes nothing");
    apply(&mut c, "delete").await;
    c.dialog_text().await;
    c.answer_dialog(true, Some("1001")).await;
    c.wait_until("the emptied list", "return document.readyState === 'complete' && !document.querySelector('input[name=ids]')").await;
    c.settle().await;
    c.shot("all-deleted").await;
    assert_eq!(keywords(&app, tid).await, 0, "the typed number deletes all matching");
    c.assert_clean_console("bulk delete").await;
    c.quit().await;
}
