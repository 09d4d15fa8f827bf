//! A small W3C WebDriver client over the HTTP client the tests already use: the handful of commands the
//! browser tests need (navigate, find, click, type, run a script, history, screenshots, the console log).
//! Each test starts its own chromedriver (and through it one headless Chromium) and stops it when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// The key W3C WebDriver uses for an element reference in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long `wait_*` helpers poll before failing the test.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct Chrome {
    http: reqwest::Client,
    base: String,
    session: String,
    driver: Child,
    shots: PathBuf,
    shot_n: usize,
    _profile: tempdir::Dir,
}

/// A viewport the suite drives pages at.
#[derive(Clone, Copy, Debug)]
pub struct Viewport {
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
}

pub const DESKTOP: Viewport = Viewport { name: "desktop", width: 1400, height: 900 };
pub const PHONE: Viewport = Viewport { name: "phone", width: 390, height: 844 };

fn binary(candidates: &[&str]) -> Option<String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in candidates {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p.to_string_lossy().into_owned());
            }
        }
    }
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Chrome {
    /// Starts chromedriver and a headless Chromium at `view`. `test` names the screenshot folder
    /// (target/browser-screenshots/<test>/), which the run keeps.
    pub async fn start(test: &str, view: Viewport) -> Chrome {
        let driver_bin =
            binary(&["chromedriver"]).expect("chromedriver is not installed (Debian: chromium-driver); scripts/test.sh installs it");
        let chrome_bin =
            binary(&["chromium", "chromium-browser", "google-chrome"]).expect("chromium is not installed; scripts/test.sh installs it");
        let port = free_port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not answer on {base}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempdir::Dir::new("igny8-chrome");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": chrome_bin,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                         "--disable-extensions", "--disable-background-networking", "--password-store=basic",
                         format!("--window-size={},{}", view.width, view.height),
                         format!("--user-data-dir={}", profile.path.display())],
            }
        }}});
        let res: Value = http.post(format!("{base}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
        let session = res["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no WebDriver session: {res}")).to_string();
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/browser-screenshots").join(format!("{test}-{}", view.name));
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).unwrap();
        let mut c = Chrome { http, base, session, driver, shots, shot_n: 0, _profile: profile };
        c.cmd("POST", "window/rect", json!({"width": view.width, "height": view.height})).await;
        c
    }

    async fn cmd(&mut self, method: &str, path: &str, body: Value) -> Value {
        self.try_cmd(method, path, body).await.unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    async fn try_cmd(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let url = format!("{}/session/{}/{}", self.base, self.session, path);
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let res: Value = req.send().await.map_err(|e| e.to_string())?.json().await.map_err(|e| e.to_string())?;
        match res["value"].get("error") {
            Some(err) => Err(format!("{err}: {}", res["value"]["message"].as_str().unwrap_or_default().lines().next().unwrap_or_default())),
            None => Ok(res["value"].clone()),
        }
    }

    pub async fn goto(&mut self, url: &str) {
        self.cmd("POST", "url", json!({ "url": url })).await;
    }

    pub async fn url(&mut self) -> String {
        self.cmd("GET", "url", Value::Null).await.as_str().unwrap_or_default().to_string()
    }

    pub async fn back(&mut self) {
        self.cmd("POST", "back", json!({})).await;
    }

    pub async fn forward(&mut self) {
        self.cmd("POST", "forward", json!({})).await;
    }

    pub async fn refresh(&mut self) {
        self.cmd("POST", "refresh", json!({})).await;
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) and returns its value.
    pub async fn js(&mut self, script: &str, args: Value) -> Value {
        self.cmd("POST", "execute/sync", json!({ "script": script, "args": args })).await
    }

    async fn find_id(&self, css: &str) -> Option<String> {
        let v = self.try_cmd("POST", "element", json!({"using": "css selector", "value": css})).await.ok()?;
        v[ELEMENT_KEY].as_str().map(str::to_string)
    }

    /// Waits until `css` matches a displayed element and returns its reference.
    pub async fn wait(&mut self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            if let Some(id) = self.find_id(css).await {
                let shown = self.try_cmd("GET", &format!("element/{id}/displayed"), Value::Null).await;
                if shown == Ok(Value::Bool(true)) {
                    return Element { id };
                }
            }
            if started.elapsed() > WAIT {
                self.shot("timeout").await;
                panic!("no visible element matches `{css}` after {WAIT:?} at {}", self.url().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls `script` (returning a boolean) until it is true, or fails the test with `what`.
    pub async fn wait_until(&mut self, what: &str, script: &str) {
        let started = Instant::now();
        loop {
            if self.try_cmd("POST", "execute/sync", json!({"script": script, "args": []})).await == Ok(Value::Bool(true)) {
                return;
            }
            if started.elapsed() > WAIT {
                self.shot("timeout").await;
                panic!("waited {WAIT:?} for {what} at {}", self.url().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for htmx to finish every request it has in flight and for the document to be loaded.
    pub async fn settle(&mut self) {
        self.wait_until(
            "the page to settle",
            "return document.readyState === 'complete' && !document.querySelector('.htmx-request') && !!window.htmx",
        )
        .await;
    }

    pub async fn click(&mut self, css: &str) {
        let el = self.wait(css).await;
        self.cmd("POST", &format!("element/{}/click", el.id), json!({})).await;
    }

    /// Clears the field and types `text` as keystrokes.
    pub async fn fill(&mut self, css: &str, text: &str) {
        let el = self.wait(css).await;
        self.cmd("POST", &format!("element/{}/clear", el.id), json!({})).await;
        self.cmd("POST", &format!("element/{}/value", el.id), json!({ "text": text })).await;
    }

    /// Chooses `path` in a file input, as picking it in the file dialog would.
    pub async fn type_file(&mut self, css: &str, path: &std::path::Path) {
        let el = self.wait_present(css).await;
        self.cmd("POST", &format!("element/{}/value", el.id), json!({ "text": path.display().to_string() })).await;
    }

    /// Waits until `css` matches an element, shown or not.
    async fn wait_present(&mut self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            if let Some(id) = self.find_id(css).await {
                return Element { id };
            }
            assert!(started.elapsed() < WAIT, "nothing matches `{css}` after {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn text(&mut self, css: &str) -> String {
        let el = self.wait(css).await;
        self.cmd("GET", &format!("element/{}/text", el.id), Value::Null).await.as_str().unwrap_or_default().to_string()
    }

    /// Whether `css` matches anything right now (no waiting).
    pub async fn exists(&mut self, css: &str) -> bool {
        self.js("return !!document.querySelector(arguments[0])", json!([css])).await == Value::Bool(true)
    }

    /// The text of the open alert, confirm or prompt dialog (waits for one to open). Any other command while a
    /// dialog is open dismisses it (chromedriver's default), so answer it next.
    pub async fn dialog_text(&mut self) -> String {
        let started = Instant::now();
        loop {
            if let Ok(v) = self.try_cmd("GET", "alert/text", Value::Null).await {
                return v.as_str().unwrap_or_default().to_string();
            }
            assert!(started.elapsed() < WAIT, "no dialog opened within {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Answers the open dialog: OK (after typing `text` into a prompt) or Cancel.
    pub async fn answer_dialog(&mut self, ok: bool, text: Option<&str>) {
        if let Some(t) = text {
            self.cmd("POST", "alert/text", json!({ "text": t })).await;
        }
        self.cmd("POST", if ok { "alert/accept" } else { "alert/dismiss" }, json!({})).await;
    }

    /// Writes a numbered PNG of the viewport into this test's screenshot folder.
    pub async fn shot(&mut self, step: &str) {
        let Ok(v) = self.try_cmd("GET", "screenshot", Value::Null).await else { return };
        let Ok(png) = base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or_default()) else { return };
        self.shot_n += 1;
        let name: String = step.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        let _ = std::fs::write(self.shots.join(format!("{:02}-{name}.png", self.shot_n)), png);
    }

    /// The browser console since the last call: (level, message).
    pub async fn console(&mut self) -> Vec<(String, String)> {
        let v = self.cmd("POST", "se/log", json!({"type": "browser"})).await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|e| (e["level"].as_str().unwrap_or_default().to_string(), e["message"].as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Fails the test when the console holds an error or a CSP violation since the last call.
    pub async fn assert_clean_console(&mut self, page: &str) {
        let bad: Vec<_> = self
            .console()
            .await
            .into_iter()
            .filter(|(level, msg)| level == "SEVERE" || msg.contains("Content Security Policy") || msg.contains("Refused to"))
            .filter(|(_, msg)| !answered_4xx(msg))
            .collect();
        if !bad.is_empty() {
            self.shot(&format!("console-{page}")).await;
        }
        assert!(bad.is_empty(), "console errors on {page}: {bad:#?}");
    }

    pub async fn quit(mut self) {
        let _ = self.http.delete(format!("{}/session/{}", self.base, self.session)).send().await;
        self.session.clear();
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        // A failing test never reaches quit(). Ending the session (a plain blocking request: no runtime in drop)
        // closes the browser; killing chromedriver alone would leave Chromium running.
        if !self.session.is_empty() {
            use std::io::{Read, Write};
            let addr = self.base.trim_start_matches("http://").to_string();
            if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let req =
                    format!("DELETE /session/{} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", self.session);
                let _ = s.write_all(req.as_bytes());
                let _ = s.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Chromium logs every 4xx answer as "Failed to load resource"; a refused form (422) or a missing page (404) is
/// an answer the app chose and shows. Script errors, 5xx, CSP violations and a missing favicon are failures.
fn answered_4xx(msg: &str) -> bool {
    msg.contains("Failed to load resource: the server responded with a status of 4") && !msg.contains("/favicon.ico")
}

pub struct Element {
    id: String,
}

/// A throwaway Chromium profile folder.
mod tempdir {
    use std::path::PathBuf;

    pub struct Dir {
        pub path: PathBuf,
    }

    impl Dir {
        pub fn new(prefix: &str) -> Dir {
            let token = igny8::crypto::secrets::random_token(9).replace(['-', '_'], "x");
            let path = std::env::temp_dir().join(format!("{prefix}-{token}"));
            std::fs::create_dir_all(&path).unwrap();
            Dir { path }
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
