//! Navigation that never breaks: boosted moves between the public and the app layout swap everything that
//! differs, Back/Forward and reload give whole pages, and a form error never leaves an address GET cannot serve.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::json;

use super::driver::{Chrome, DESKTOP};
use super::{sign_in, sign_out};
use crate::harness::TestApp;

/// True when the app shell fills the window (not centred in the public layout's grid).
const SHELL_FILLS_WINDOW: &str = "var s = document.querySelector('.shell'); return !!s && Math.abs(s.getBoundingClientRect().width - document.documentElement.clientWidth) < 2";
/// True when the public card sits in the middle of the window (not in its top-left corner).
const CARD_CENTRED: &str = "var c = document.querySelector('.auth-card'); if (!c) return false; var r = c.getBoundingClientRect(); \
     return Math.abs((r.left + r.right) / 2 - document.documentElement.clientWidth / 2) < 4 && r.top > 0";
/// True when the CSRF header htmx sends from the page (the nearest `hx-headers`) is the page's own token.
const CSRF_HEADER_CURRENT: &str = "var b = document.querySelector('form[action=\"/logout\"] button'); var e = b; \
     while (e && !e.getAttribute('hx-headers')) e = e.parentElement; if (!e) return false; \
     return JSON.parse(e.getAttribute('hx-headers'))['X-CSRF-Token'] === document.querySelector('form[action=\"/logout\"] input[name=csrf_token]').value";
/// True when the document is a whole app page: sidebar, top bar and main column, not a bare fragment.
const WHOLE_APP_PAGE: &str = "return !!document.querySelector('.sidebar nav') && !!document.querySelector('header.topbar') && !!document.querySelector('main#main h1')";

async fn is(c: &mut Chrome, script: &str) -> bool {
    c.js(script, json!([])).await == json!(true)
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_in_and_out_swaps_the_whole_layout_and_the_csrf_header() {
    let app = TestApp::spawn().await;
    app.signup("Nia", "nia@example.com", "Nia Co").await;
    let mut c = Chrome::start("sign-in-layout", DESKTOP).await;

    c.goto(&format!("{}/login", app.base)).await;
    c.settle().await;
    assert!(is(&mut c, CARD_CENTRED).await, "the login card is centred on a fresh load");
    sign_in(&mut c, &app, "nia@example.com").await;
    c.shot("signed-in").await;
    assert!(c.url().await.ends_with("/dashboard"), "{}", c.url().await);
    assert!(is(&mut c, SHELL_FILLS_WINDOW).await, "after a boosted sign-in the app fills the window, not the login page's centred grid");
    assert!(is(&mut c, CSRF_HEADER_CURRENT).await, "htmx sends the signed-in page's CSRF token, not the login page's");

    sign_out(&mut c).await;
    c.shot("signed-out").await;
    assert!(is(&mut c, CARD_CENTRED).await, "after a boosted sign-out the login card is centred, not in the top-left corner");

    // An error page reached by a boosted link is laid out as on a fresh load.
    sign_in(&mut c, &app, "nia@example.com").await;
    c.js("var a = document.createElement('a'); a.href = '/planner/keywords/999999/edit'; a.id = 'missing'; a.textContent = 'x'; document.querySelector('main#main').appendChild(a);", json!([])).await;
    c.click("#missing").await;
    c.wait(".error-card").await;
    c.shot("error-page").await;
    assert!(is(&mut c, CARD_CENTRED).await, "a boosted error page is centred");
    c.assert_clean_console("sign in and out").await;
    c.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn back_forward_and_reload_give_whole_pages_after_a_filtered_list_and_after_sign_out() {
    let app = TestApp::spawn().await;
    app.signup("Oli", "oli@example.com", "Oli Co").await;
    // The audit trail is the system admin's page.
    let mut conn = app.db().await;
    diesel::update(igny8::db::schema::users::table.filter(igny8::db::schema::users::email.eq("oli@example.com")))
        .set(igny8::db::schema::users::is_system_admin.eq(true))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut c = Chrome::start("back-forward", DESKTOP).await;
    sign_in(&mut c, &app, "oli@example.com").await;

    c.click(".sidebar a[href='/system']").await;
    c.wait("select[name=action]").await;
    c.settle().await;
    // Filter the audit trail: the table is swapped in place and the address says which filter it shows.
    let action = c
        .js("var s = document.querySelector('select[name=action]'); s.value = s.options[1].value; s.dispatchEvent(new Event('change', {bubbles: true})); return s.value;", json!([]))
        .await;
    let action = action.as_str().unwrap().to_string();
    c.wait_until("the filter in the address", &format!("return location.search.indexOf('action={action}') >= 0")).await;
    c.settle().await;
    c.shot("filtered").await;

    c.click(".sidebar a[href='/planner/keywords']").await;
    c.wait("main#main h1").await;
    c.settle().await;
    c.back().await;
    c.wait_until(
        "the filtered audit trail back",
        &format!("return location.search.indexOf('action={action}') >= 0 && !!document.querySelector('#audit-table')"),
    )
    .await;
    c.settle().await;
    c.shot("back-to-filtered").await;
    assert!(is(&mut c, WHOLE_APP_PAGE).await, "Back onto a filtered list shows the whole page, not the bare table");
    assert!(is(&mut c, SHELL_FILLS_WINDOW).await);
    let selected = c.js("return document.querySelector('select[name=action]').value", json!([])).await;
    assert_eq!(selected, json!(action), "the filter form shows the filter the table is filtered by");

    c.back().await;
    c.wait_until("the unfiltered audit trail", "return location.pathname === '/system' && location.search === ''").await;
    c.settle().await;
    assert!(is(&mut c, WHOLE_APP_PAGE).await, "Back to the unfiltered list");
    c.forward().await;
    c.wait_until("Forward to the filter", &format!("return location.search.indexOf('action={action}') >= 0")).await;
    c.settle().await;
    assert!(is(&mut c, WHOLE_APP_PAGE).await, "Forward gives the whole page too");
    c.refresh().await;
    c.settle().await;
    assert!(is(&mut c, WHOLE_APP_PAGE).await, "reload of a pushed address gives the whole page");

    // After signing out, Back asks to sign in again (a whole page), never an htmx history error.
    sign_out(&mut c).await;
    c.back().await;
    c.wait(".auth-card").await;
    c.settle().await;
    c.shot("back-after-sign-out").await;
    assert!(is(&mut c, CARD_CENTRED).await, "Back after sign-out shows the sign-in page as a whole page");
    assert!(!c.exists(".sidebar").await, "no signed-in page comes back after sign-out");
    c.assert_clean_console("back and forward").await;
    c.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_form_error_leaves_an_address_that_reload_can_serve() {
    let app = TestApp::spawn().await;
    app.signup("Pia", "pia@example.com", "Pia Co").await;
    let mut c = Chrome::start("form-error-address", DESKTOP).await;
    sign_in(&mut c, &app, "pia@example.com").await;

    c.click(".sidebar a[href='/billing']").await;
    c.fill("input[name=monthly_credit_cap]", "lots").await;
    c.click("form[action='/billing/cap'] button[type=submit]").await;
    c.wait(".field-error").await;
    c.settle().await;
    c.shot("cap-error").await;
    let path = c.js("return location.pathname", json!([])).await;
    assert_eq!(path, json!("/billing"), "the address is a page GET can serve, not the form's POST-only target");
    c.refresh().await;
    c.settle().await;
    assert!(is(&mut c, WHOLE_APP_PAGE).await, "reload after a form error serves the page, not a 404");
    c.assert_clean_console("form error").await;
    c.quit().await;
}
