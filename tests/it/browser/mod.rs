//! The product in a real headless Chromium, driven over WebDriver (Debian's `chromium` + `chromium-driver`,
//! installed by scripts/test.sh): what a browser does that the HTTP tests never do — boosted navigation between
//! layouts, Back/Forward and reload, the address bar after a form error. Each step's screenshot is kept under
//! target/browser-screenshots/.

mod bulk_delete;
mod driver;
mod form_errors;
mod import_columns;
mod navigation;
mod pages;
mod refresh;

use driver::Chrome;

use crate::harness::{PASSWORD, TestApp};

/// Signs `email` in through the login form as a user would (the account must exist).
async fn sign_in(c: &mut Chrome, app: &TestApp, email: &str) {
    c.goto(&format!("{}/login", app.base)).await;
    c.fill("input[name=email]", email).await;
    c.fill("input[name=password]", PASSWORD).await;
    c.click("form[action='/login'] button[type=submit]").await;
    c.wait(".sidebar").await;
    c.settle().await;
}

/// Signs out through the account menu.
async fn sign_out(c: &mut Chrome) {
    c.click(".user-menu summary").await;
    c.click("form[action='/logout'] button").await;
    c.wait("form[action='/login']").await;
    c.settle().await;
}
