use std::collections::HashMap;
use std::process::{Child, Command, Stdio};

use crate::harness::{PASSWORD, TestApp};

pub(crate) struct RedisServer(pub(crate) Child, pub(crate) u16);

impl RedisServer {
    pub(crate) fn start() -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/test.sh installs it)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        RedisServer(child, port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_names_redis_when_it_stops_and_pages_still_render() {
    let mut redis = RedisServer::start();
    let app = TestApp::spawn_with(&format!("redis://127.0.0.1:{}", redis.1), HashMap::new()).await;
    let (b, _) = app.signup("Hal", "hal@example.com", "Hal Co").await;
    let c = reqwest::Client::new();
    assert_eq!(c.get(format!("{}/healthz", app.base)).send().await.unwrap().status(), 200);
    let r = c.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);

    redis.0.kill().unwrap();
    redis.0.wait().unwrap();

    let r = c.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["failed"], serde_json::json!(["redis"]));
    assert_eq!(body["postgres"]["ok"], true);
    assert_eq!(body["redis"]["ok"], false);
    assert_eq!(c.get(format!("{}/healthz", app.base)).send().await.unwrap().status(), 200);

    // Pages and sign-in still work without Redis.
    assert_eq!(b.get("/dashboard").await.status(), 200);
    assert_eq!(b.get("/team").await.status(), 200);
    let b2 = app.browser();
    assert_eq!(b2.post_form("/login", &[("email", "hal@example.com"), ("password", PASSWORD)]).await.status(), 303);
    assert_eq!(b2.get("/dashboard").await.status(), 200);
}
