//! Long work shows its progress without wiping what the user is doing: while an article is written, the tasks list
//! refreshes that row's changing cells only — a ticked box, typed search text and a half-filled form stay.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::tasks;
use igny8::modules::writer::service::TaskStatus;
use serde_json::json;

use super::driver::{Chrome, DESKTOP};
use super::sign_in;
use crate::harness::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn the_tasks_list_refreshes_a_generating_row_and_keeps_ticked_boxes_and_typed_text() {
    let app = TestApp::spawn().await;
    let (b, tid) = app.signup("Rae", "rae@example.com", "Rae Co").await;
    for title in ["Espresso at home", "Milk frothing basics"] {
        let res =
            b.post_form("/writer/tasks", &[("title", title), ("target_keywords", ""), ("word_count_goal", "900"), ("outline", "")]).await;
        assert!(res.status().is_success() || res.status().is_redirection(), "{}", res.status());
    }
    let mut conn = app.db().await;
    let ids: Vec<i64> = tasks::table.filter(tasks::tenant_id.eq(tid)).order(tasks::id).select(tasks::id).load(&mut conn).await.unwrap();
    let (writing, other) = (ids[0], ids[1]);
    // A generation under way (as a worker would mark it).
    diesel::update(tasks::table.find((tid, writing))).set(tasks::status.eq(TaskStatus::Generating)).execute(&mut conn).await.unwrap();

    let mut c = Chrome::start("tasks-refresh", DESKTOP).await;
    sign_in(&mut c, &app, "rae@example.com").await;
    c.click(".sidebar a[href='/writer/tasks']").await;
    c.wait(&format!("#task-{writing}-status")).await;
    c.settle().await;
    c.js("window.refreshes = 0; document.body.addEventListener('htmx:afterRequest', function () { window.refreshes++; });", json!([]))
        .await;
    c.click(&format!("input[name=ids][value='{other}']")).await;
    c.fill("form.filters input[name=q]", "espresso").await;
    c.click("details.card summary").await;
    c.fill("form[action='/writer/tasks'] input[name=title]", "Half typed title").await;
    c.wait_until("a refresh while the article is written", "return window.refreshes >= 1").await;
    c.settle().await;

    // The article is written: the row shows it without a reload.
    diesel::update(tasks::table.find((tid, writing)))
        .set((tasks::status.eq(TaskStatus::Draft), tasks::word_count.eq(912), tasks::credits_spent.eq(3)))
        .execute(&mut conn)
        .await
        .unwrap();
    c.wait_until("the finished row", &format!("return document.querySelector('#task-{writing}-status').textContent.trim() === 'draft'"))
        .await;
    c.settle().await;
    c.shot("refreshed").await;
    assert!(c.text(&format!("#task-{writing}-words")).await.starts_with("912"), "the word count is refreshed too");

    let kept = c
        .js(
            "return [document.querySelector('input[name=ids][value=\"' + arguments[0] + '\"]').checked, \
                     document.querySelector('form.filters input[name=q]').value, \
                     document.querySelector('form[action=\"/writer/tasks\"] input[name=title]').value, \
                     document.querySelector('details.card').open]",
            json!([other]),
        )
        .await;
    assert_eq!(kept, json!([true, "espresso", "Half typed title", true]), "the refresh kept the ticked box, the search text and the form");
    let polling = c.js("return document.getElementById('tasks-refresh').hasAttribute('hx-get')", json!([])).await;
    assert_eq!(polling, json!(false), "nothing is written any more: the list stops refreshing");
    c.assert_clean_console("tasks refresh").await;
    c.quit().await;
}
