//! Import column choice in the browser: when no keyword column is recognised, the columns that are (volume, CPC)
//! are pre-selected anyway, and the page says which columns will not be imported before anything is written.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::keywords;
use serde_json::json;

use super::driver::{Chrome, DESKTOP};
use super::sign_in;

#[tokio::test(flavor = "multi_thread")]
async fn recognisable_columns_are_preselected_and_the_ignored_ones_are_named() {
    let app = crate::planner::support::app().await;
    let (_, tid) = app.signup("Tam", "tam@example.com", "Tam Co").await;
    let dir = std::env::temp_dir().join(format!("igny8-import-{}", igny8::crypto::secrets::random_token(6).replace(['-', '_'], "x")));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("terms.csv");
    std::fs::write(&file, "Topic idea,Volume,CPC,Trend\nespresso grinder,880,1.20,up\nmilk frother,590,0.80,flat\n").unwrap();

    let mut c = Chrome::start("import-columns", DESKTOP).await;
    sign_in(&mut c, &app, "tam@example.com").await;
    c.goto(&format!("{}/planner/imports", app.base)).await;
    c.settle().await;
    c.type_file("input[type=file][name=file]", &file).await;
    c.click("form[enctype='multipart/form-data'] button[type=submit]").await;
    c.wait("select[name=keyword]").await;
    c.settle().await;
    c.shot("choose-columns").await;
    let chosen = c
        .js(
            "return ['keyword', 'volume', 'cpc'].map(function (f) { return document.querySelector('select[name=' + f + ']').value; })",
            json!([]),
        )
        .await;
    assert_eq!(chosen, json!(["", "1", "2"]), "volume and CPC are pre-selected though no keyword column was found");
    let unused = c.text("#unused-columns").await;
    assert!(unused.contains("“Topic idea”") && unused.contains("“Trend”") && !unused.contains("Volume"), "{unused}");

    // Choosing the keyword column keeps the pre-selected metrics; the page names what stays out.
    c.js("document.querySelector('select[name=keyword]').value = '0'", json!([])).await;
    c.click("form[action$='/columns'] button[type=submit]").await;
    c.wait("form[action$='/confirm'] button[type=submit]").await;
    c.settle().await;
    let ignored = c.text("#ignored-columns").await;
    assert!(ignored.contains("“Trend”") && !ignored.contains("Volume") && !ignored.contains("Topic"), "{ignored}");
    c.click("form[action$='/confirm'] button[type=submit]").await;
    c.wait_until("the import to finish", "return document.body.textContent.indexOf('Imported:') >= 0").await;
    c.shot("imported").await;
    let mut conn = app.db().await;
    let rows: Vec<(String, Option<i32>)> = keywords::table
        .filter(keywords::tenant_id.eq(tid))
        .order(keywords::keyword)
        .select((keywords::keyword, keywords::volume))
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows, vec![("espresso grinder".to_string(), Some(880)), ("milk frother".to_string(), Some(590))]);
    c.assert_clean_console("import columns").await;
    c.quit().await;
    let _ = std::fs::remove_dir_all(&dir);
}
