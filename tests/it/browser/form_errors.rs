//! A refused form keeps what the user typed and puts each error beside its field, tied to it for assistive
//! technology (`aria-invalid`, `aria-describedby`), with focus on the first — never a 5-second toast over a reset form.

use serde_json::json;

use super::driver::{Chrome, DESKTOP};
use super::sign_in;
use crate::harness::TestApp;

/// [value, aria-invalid, the text of the element aria-describedby names] of the field `name`.
const FIELD: &str = "var f = document.querySelector('[name=\"' + arguments[0] + '\"]'); var d = f.getAttribute('aria-describedby'); \
     var e = d && document.getElementById(d); return [f.value, f.getAttribute('aria-invalid'), e ? e.textContent.trim() : null];";

#[tokio::test(flavor = "multi_thread")]
async fn automation_and_ai_settings_keep_typed_input_and_show_each_error_beside_its_field() {
    let app = TestApp::spawn().await;
    app.signup("Uma", "uma@example.com", "Uma Co").await;
    let mut c = Chrome::start("form-errors", DESKTOP).await;
    sign_in(&mut c, &app, "uma@example.com").await;

    c.click(".sidebar a[href='/automation']").await;
    c.wait("input[name=daily_credit_budget]").await;
    c.settle().await;
    c.fill("input[name=daily_credit_budget]", "lots").await;
    c.fill("input[name='ideas.items_per_run']", "-3").await;
    c.js("document.querySelector('input[name=enabled]').click()", json!([])).await;
    let ticked = c.js("return document.querySelector('input[name=enabled]').checked", json!([])).await;
    c.click("form[action='/automation/settings'] button[type=submit]").await;
    c.wait("[aria-invalid=true]").await;
    c.settle().await;
    c.shot("automation-errors").await;
    assert_eq!(c.js("return location.pathname", json!([])).await, json!("/automation"));
    let budget = c.js(FIELD, json!(["daily_credit_budget"])).await;
    assert_eq!(budget[0], json!("lots"), "the typed text stays: {budget}");
    assert_eq!(budget[1], json!("true"));
    assert!(budget[2].as_str().is_some_and(|t| !t.is_empty()), "the error is beside the field and named by it: {budget}");
    let items = c.js(FIELD, json!(["ideas.items_per_run"])).await;
    assert_eq!((items[0].clone(), items[1].clone()), (json!("-3"), json!("true")), "{items}");
    assert!(items[2].as_str().is_some_and(|t| !t.is_empty()), "{items}");
    assert_eq!(
        c.js("return document.querySelector('input[name=enabled]').checked", json!([])).await,
        ticked,
        "the ticked box stays as the user left it"
    );
    assert_eq!(
        c.js("return document.activeElement && document.activeElement.name", json!([])).await,
        json!("daily_credit_budget"),
        "focus moves to the first error"
    );

    c.click(".sidebar a[href='/settings']").await;
    c.wait("input[name=images_per_article]").await;
    c.settle().await;
    c.fill("input[name=images_per_article]", "9").await;
    c.click("form[action='/settings/ai'] button[type=submit]").await;
    c.wait("[aria-invalid=true]").await;
    c.settle().await;
    c.shot("ai-settings-errors").await;
    let images = c.js(FIELD, json!(["images_per_article"])).await;
    assert_eq!((images[0].clone(), images[1].clone()), (json!("9"), json!("true")), "images per article keeps the typed 9: {images}");
    assert!(images[2].as_str().is_some_and(|t| !t.is_empty()), "{images}");
    assert_eq!(c.js("return location.pathname", json!([])).await, json!("/settings"));
    c.assert_clean_console("form errors").await;
    c.quit().await;
}
