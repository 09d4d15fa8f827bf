//! A real SMTP server on loopback for the tests: `scripts/smtp-sink.py` (Debian's python3-aiosmtpd), one per
//! test that needs it, writing each received message as JSON into its own folder.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use igny8::crypto::secrets::random_token;

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Received {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Received {
    /// The first link in the text part that starts with `prefix` (e.g. "http://127.0.0.1:1234/verify/").
    pub fn link(&self, path_prefix: &str) -> Option<String> {
        self.text.split_whitespace().find(|w| w.contains(path_prefix)).map(|w| w.trim_end_matches(['.', ',']).to_string())
    }
}

pub struct SmtpSink {
    pub port: u16,
    dir: PathBuf,
    child: tokio::process::Child,
}

/// A loopback port that nothing listens on (at the moment of asking).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn python() -> String {
    std::env::var("IGNY8_TEST_PYTHON")
        .unwrap_or_else(|_| if std::path::Path::new("/usr/bin/python3").exists() { "/usr/bin/python3".into() } else { "python3".into() })
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        Self::start_on(free_port()).await
    }

    pub async fn start_on(port: u16) -> SmtpSink {
        let dir = std::env::temp_dir().join(format!("igny8-mail-{}", random_token(6).replace(['-', '_'], "x")));
        std::fs::create_dir_all(&dir).unwrap();
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/smtp-sink.py");
        let child = tokio::process::Command::new(python())
            .arg(&script)
            .arg(port.to_string())
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 with aiosmtpd (scripts/test.sh installs python3-aiosmtpd)");
        let start = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(start.elapsed() < Duration::from_secs(20), "the SMTP sink did not start on port {port}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        SmtpSink { port, dir, child }
    }

    /// The app settings that send mail here.
    pub fn env(&self) -> HashMap<&'static str, String> {
        env_for(self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        let mut files: Vec<_> = std::fs::read_dir(&self.dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect();
        files.sort();
        files.iter().map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()).collect()
    }

    /// Messages to `to`, once at least `n` have arrived (fails after a generous wait).
    pub async fn wait_for(&self, to: &str, n: usize) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got: Vec<Received> = self.received().into_iter().filter(|m| m.to.iter().any(|t| t == to)).collect();
            if got.len() >= n {
                return got;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "{n} mail(s) to {to} did not arrive; got {got:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// App settings for plain SMTP to a loopback port, with workers so the mail jobs run.
pub fn env_for(port: u16) -> HashMap<&'static str, String> {
    HashMap::from([
        ("IGNY8_SMTP_HOST", "127.0.0.1".to_string()),
        ("IGNY8_SMTP_PORT", port.to_string()),
        ("IGNY8_SMTP_TLS", "none".to_string()),
        ("IGNY8_MAIL_FROM", "IGNY8 <no-reply@igny8.test>".to_string()),
        ("IGNY8_WORKERS", "2".to_string()),
    ])
}
