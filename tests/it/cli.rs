use std::process::Command;

use crate::harness::{SECRET, TestApp};

fn igny8(app: &TestApp, args: &[&str], extra: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_igny8"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.db_url)
        .env("REDIS_URL", crate::harness::redis_url())
        .env("IGNY8_SECRET_KEY", SECRET)
        .current_dir(std::env::temp_dir());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn create_user_and_seed_demo_print_logins_that_work() {
    let app = TestApp::spawn().await;
    let out = igny8(&app, &["create-user", "--email", "Cli@Example.com", "--name", "Cli User", "--plan", "starter"], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let pw = stdout.lines().find_map(|l| l.strip_prefix("password: ")).expect("generated password printed").to_string();
    let b = app.browser();
    assert_eq!(b.post_form("/login", &[("email", "cli@example.com"), ("password", &pw)]).await.status(), 303);
    let me: serde_json::Value = b.get("/api/me").await.json().await.unwrap();
    assert_eq!(me["tenant"]["plan"], "starter");
    assert_eq!(me["role"], "owner");
    // The same email again is refused with a clear message, and nothing is written.
    let tenants = app.count("tenants").await;
    let out = igny8(&app, &["create-user", "--email", "cli@example.com", "--name", "Again"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(app.count("tenants").await, tenants);

    // seed-demo twice: one demo workspace, and the latest printed password works.
    igny8(&app, &["seed-demo"], &[]);
    let out = igny8(&app, &["seed-demo"], &[]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let email = stdout.lines().find_map(|l| l.strip_prefix("email: ")).unwrap().to_string();
    let pw = stdout.lines().find_map(|l| l.strip_prefix("password: ")).unwrap().to_string();
    let b = app.browser();
    assert_eq!(b.post_form("/login", &[("email", &email), ("password", &pw)]).await.status(), 303);
    assert!(b.get("/team").await.text().await.unwrap().contains("viewer@igny8.local"));
    assert_eq!(app.count("tenants").await, tenants + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_configuration_stops_start_up_naming_the_variable() {
    let app = TestApp::spawn().await;
    let out = igny8(&app, &["migrate"], &[("IGNY8_BIND", "not-an-address")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("IGNY8_BIND") && err.contains("host:port"), "{err}");
    let out = igny8(&app, &["migrate"], &[("IGNY8_SECRET_KEY", "short")]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("IGNY8_SECRET_KEY"));
    let out = igny8(&app, &["migrate"], &[]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("none pending"));
}
