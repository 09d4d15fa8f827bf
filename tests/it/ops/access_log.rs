//! The access log of the real binary with its output going to a pipe (as in a container or a file): JSON by
//! default, one line per request with the route template, method, status, duration, request id, tenant and
//! user — no colour codes, no query strings, no secrets from the path.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{PASSWORD, SECRET, TestApp};

#[tokio::test(flavor = "multi_thread")]
async fn each_request_writes_one_json_access_line_without_secrets_or_colours() {
    let app = TestApp::spawn().await;
    let (_, tid) = app.signup("Lou Logs", "lou@example.com", "Logs Co").await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_igny8"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.db_url)
        .env("REDIS_URL", crate::harness::redis_url())
        .env("IGNY8_REDIS_NAMESPACE", &app.config.redis_namespace)
        .env("IGNY8_SECRET_KEY", SECRET)
        .env("IGNY8_BIND", format!("127.0.0.1:{port}"))
        .env("IGNY8_WORKERS", "0")
        .env("IGNY8_SCHEDULER", "off")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let b = crate::harness::Browser::new(&base);
    assert_eq!(b.post_form("/login", &[("email", "lou@example.com"), ("password", PASSWORD)]).await.status(), 303);
    assert_eq!(b.get("/planner/keywords?q=secret-query-value&sort=volume").await.status(), 200);
    assert_eq!(b.get("/invite/inv_1_supersecretinvitetoken").await.status(), 404);
    let last = b.get("/dashboard").await;
    let request_id = last.headers().get("x-request-id").unwrap().to_str().unwrap().to_string();

    let _ = child.kill();
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    let _ = child.wait();

    assert!(!stdout.contains('\u{1b}'), "colour codes in the log:\n{stdout}");
    assert!(!stdout.contains("secret-query-value") && !stdout.contains("supersecretinvitetoken"), "a secret reached the log:\n{stdout}");
    assert!(!stdout.contains(PASSWORD));
    let lines: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))).collect();
    let access: Vec<&serde_json::Value> = lines.iter().filter(|l| l["target"] == "igny8::access").collect();

    let keywords = access.iter().find(|l| l["route"] == "/planner/keywords").expect("an access line for the keywords page");
    assert_eq!(keywords["method"], "GET");
    assert_eq!(keywords["status"], 200);
    assert_eq!(keywords["tenant_id"], tid);
    assert!(keywords["user_id"].as_i64().is_some());
    assert!(keywords["duration_ms"].as_f64().is_some());

    let dash = access.iter().find(|l| l["request_id"] == request_id.as_str()).expect("the dashboard's line carries its request id");
    assert_eq!(dash["route"], "/dashboard");
    assert_eq!(dash["user_id"], keywords["user_id"]);

    let invite = access.iter().find(|l| l["status"] == 404).expect("the invite's line");
    assert_eq!(invite["route"], "/invite/{token}");
    let login = access.iter().find(|l| l["route"] == "/login" && l["method"] == "POST").expect("the sign-in's line");
    assert_eq!(login["status"], 303);
    // One line per request.
    assert_eq!(access.iter().filter(|l| l["route"] == "/planner/keywords").count(), 1);
}
