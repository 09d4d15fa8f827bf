//! The real binary (`igny8 serve`) as a child process on a test app's database and Redis namespace, for what only
//! a process can show: kill -9 in the middle of work, a restart, SIGTERM and its drain.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{SECRET, TestApp};

pub struct Proc {
    child: Child,
    pub base: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl TestApp {
    /// Starts `igny8 serve` on this app's database and Redis namespace (no workers, no scheduler unless `extra` says
    /// so) and waits until it answers /healthz.
    pub async fn process(&self, extra: &[(&str, &str)]) -> Proc {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_igny8"));
        cmd.arg("serve")
            .env("DATABASE_URL", &self.db_url)
            .env("REDIS_URL", &self.config.redis_url)
            .env("IGNY8_REDIS_NAMESPACE", &self.config.redis_namespace)
            .env("IGNY8_SECRET_KEY", SECRET)
            .env("IGNY8_BIND", format!("127.0.0.1:{port}"))
            .env("IGNY8_WORKERS", "0")
            .env("IGNY8_SCHEDULER", "off")
            .env("IGNY8_DB_POOL_SIZE", "6")
            .env("IGNY8_JOB_POLL_MS", "50")
            .env("IGNY8_JOB_BACKOFF_MS", "10")
            .env("IGNY8_ALLOW_PRIVATE_TARGETS", "on")
            .env("IGNY8_AI_DEV_PROVIDER", "on")
            .env("IGNY8_LOG_FORMAT", "json")
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
            .stdin(Stdio::null())
            .stdout(if std::env::var_os("RUST_LOG").is_some() { Stdio::inherit() } else { Stdio::null() })
            .stderr(Stdio::inherit());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start igny8 serve");
        let proc = Proc { child, base: format!("http://127.0.0.1:{port}") };
        let http = reqwest::Client::new();
        let start = Instant::now();
        loop {
            if http.get(format!("{}/healthz", proc.base)).send().await.is_ok_and(|r| r.status() == 200) {
                return proc;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "igny8 serve did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[allow(dead_code)]
impl Proc {
    /// SIGKILL: the process dies at once, mid-request and mid-job, releasing nothing.
    pub fn kill9(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reap the killed process");
    }

    /// SIGTERM, as an orchestrator sends it.
    pub fn sigterm(&self) {
        let status = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().expect("kill -TERM");
        assert!(status.success());
    }

    /// Waits for the process to exit by itself; None when it is still running after `within`.
    pub async fn exited(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                return Some(s);
            }
            if start.elapsed() > within {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
