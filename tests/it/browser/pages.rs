//! Every page of the sidebar, at desktop and at phone width, in a real browser: a whole page each time, no
//! console error and no CSP violation (the CSP forbids inline scripts and styles, which only a browser enforces).

use serde_json::json;

use super::driver::{Chrome, DESKTOP, PHONE};
use super::sign_in;
use crate::harness::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn every_sidebar_page_loads_whole_and_clean_at_desktop_and_phone_width() {
    let app = TestApp::spawn().await;
    app.signup("Quin", "quin@example.com", "Quin Co").await;
    for view in [DESKTOP, PHONE] {
        let mut c = Chrome::start("sidebar-pages", view).await;
        sign_in(&mut c, &app, "quin@example.com").await;
        let links =
            c.js("return Array.from(document.querySelectorAll('.sidebar nav a')).map(a => a.getAttribute('href'))", json!([])).await;
        let links: Vec<String> = serde_json::from_value(links).unwrap();
        assert!(links.len() >= 9, "the sidebar lists the modules: {links:?}");
        for href in &links {
            c.goto(&format!("{}{href}", app.base)).await;
            c.settle().await;
            c.shot(href).await;
            let whole =
                c.js("return !!document.querySelector('.sidebar nav') && !!document.querySelector('main#main h1')", json!([])).await;
            assert_eq!(whole, json!(true), "{href} at {} width is a whole page", view.name);
            let title = c.text("main#main h1").await;
            assert!(!title.trim().is_empty(), "{href} has a heading");
            c.assert_clean_console(&format!("{href} at {} width", view.name)).await;
        }
        c.quit().await;
    }
}
