//! The connection self-test: reachability, REST discovery (both URL forms), signing in, capabilities, a tiny
//! media upload and a draft (both deleted again), the companion plugin and the SEO plugin. Every failure says
//! what is wrong and how to fix it; the common ones (stripped Authorization header, the application
//! password's name typed as the user name, REST blocked by a firewall) have their own messages.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{RestRoot, Wp, WpError, sign, text_of};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    pub level: Level,
    pub detail: String,
    /// How to fix it, when it failed.
    pub fix: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Report {
    pub ok: bool,
    pub steps: Vec<Step>,
    pub root: Option<String>,
    pub seo_plugin: Option<String>,
    /// The companion plugin's version, when it answered a signed request.
    pub companion: Option<String>,
    /// The plugin is installed (its REST namespace is listed), signed or not.
    pub companion_installed: bool,
}

impl Report {
    fn push(&mut self, name: &'static str, level: Level, detail: impl Into<String>, fix: impl Into<String>) {
        self.steps.push(Step { name: name.to_string(), level, detail: detail.into(), fix: fix.into() });
    }
    fn fail(mut self, name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Report {
        self.push(name, Level::Fail, detail, fix);
        self.ok = false;
        self
    }
    /// The first failure's text, for one-line summaries.
    pub fn summary(&self) -> String {
        match self.steps.iter().find(|s| s.level == Level::Fail) {
            Some(s) => format!("{}: {}", s.name, s.detail),
            None => "Connection works".into(),
        }
    }
}

const STRIPPED_FIX: &str = "Apache: add `RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]` to .htaccess (after `RewriteEngine On`), or `SetEnvIf Authorization \"(.*)\" HTTP_AUTHORIZATION=$1`. nginx with PHP-FPM: add `fastcgi_param HTTP_AUTHORIZATION $http_authorization;` to the PHP location. Some hosts (and CDNs) drop the header: ask them to pass it through.";
const BLOCKED_FIX: &str = "A security plugin (Wordfence, iThemes, \"Disable REST API\"…) or the host's firewall blocks the REST API. Allow /wp-json/ (and ?rest_route=) for logged-in users or for IGNY8's address, then run the test again.";

/// The title of the draft the self-test creates and deletes.
const TEST_TITLE: &str = "IGNY8 connection test";

/// 1×1 transparent PNG for the upload check.
const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0B, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63,
    0x60, 0x00, 0x02, 0x00, 0x00, 0x05, 0x00, 0x01, 0x7A, 0x5E, 0xAB, 0x3F, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42,
    0x60, 0x82,
];

pub async fn run(wp: &Wp, user: &str, plugin_secret: Option<&str>) -> Report {
    let mut r = Report { ok: true, ..Default::default() };
    match checks(wp, user, plugin_secret, &mut r).await {
        Ok(()) => r,
        Err(Failed { check, detail, fix }) => r.fail(check, detail, fix),
    }
}

/// The check that stopped the test, what it found and how to fix it.
struct Failed {
    check: &'static str,
    detail: String,
    fix: String,
}

fn failed(check: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Failed {
    Failed { check, detail: detail.into(), fix: fix.into() }
}

/// The checks in order; each needs the ones before it to have passed.
async fn checks(wp: &Wp, user: &str, plugin_secret: Option<&str>, r: &mut Report) -> Result<(), Failed> {
    reachable(wp, r).await?;
    let https = wp.base.starts_with("https://");
    let wp = rest_api(wp, https, r).await?;
    let me = sign_in(&wp, user, https, r).await?;
    permissions(&me, user, r)?;
    media_upload(&wp, r).await?;
    draft_post(&wp, &me, r).await?;
    companion(&wp, r, plugin_secret).await;
    seo_plugin(r);
    Ok(())
}

/// Check 1: Anything there at all?
async fn reachable(wp: &Wp, r: &mut Report) -> Result<(), Failed> {
    let status = wp.reach().await.map_err(|e| {
        failed(
            "Reachable",
            format!("{} did not answer ({e})", wp.base),
            "Check the address (Settings → General → WordPress Address in WordPress) and that the site is up and reachable from the internet.",
        )
    })?;
    r.push("Reachable", Level::Ok, format!("{} answered HTTP {status}", wp.base), "");
    Ok(())
}

/// Check 2: REST discovery: /wp-json/ first, then ?rest_route= (sites without pretty permalinks); the core routes and
/// application passwords must be on. Returns the client set to the root that answered.
async fn rest_api(wp: &Wp, https: bool, r: &mut Report) -> Result<Wp, Failed> {
    let mut blocked = None;
    let mut index = None;
    for root in [RestRoot::Pretty, RestRoot::Plain] {
        match wp.with_root(root.clone()).get_public("/").await {
            Ok(v) if v.get("namespaces").is_some() => {
                index = Some((root, v));
                break;
            }
            Ok(_) => {}
            Err(e) if matches!(e.status(), Some(401 | 403)) => blocked = Some(e),
            Err(_) => {}
        }
    }
    let Some((root, index)) = index else {
        return Err(match blocked {
            Some(e) => failed("REST API", format!("The REST API is blocked: {e}"), BLOCKED_FIX),
            None => failed(
                "REST API",
                "No WordPress REST API at this address (tried /wp-json/ and /?rest_route=/)",
                "Use the WordPress address itself (for a blog in a folder, include the folder), and check that no plugin turns the REST API off.",
            ),
        });
    };
    let namespaces: Vec<&str> =
        index.get("namespaces").and_then(|n| n.as_array()).map(|a| a.iter().filter_map(|x| x.as_str()).collect()).unwrap_or_default();
    r.root = Some(root.as_str().to_string());
    r.companion_installed = namespaces.contains(&"igny8/v1");
    let seo = if namespaces.contains(&"yoast/v1") {
        "yoast"
    } else if namespaces.contains(&"rankmath/v1") {
        "rankmath"
    } else {
        "none"
    };
    r.seo_plugin = Some(seo.into());
    let form = if root == RestRoot::Pretty { "/wp-json/" } else { "/?rest_route=/ (pretty permalinks are off)" };
    r.push("REST API", Level::Ok, format!("Found at {form}"), "");
    if !namespaces.contains(&"wp/v2") {
        return Err(failed(
            "REST API",
            "The site's REST API has no wp/v2 routes (posts, media)",
            "A plugin removes WordPress's core REST routes; allow them for logged-in users.",
        ));
    }
    if index.pointer("/authentication/application-passwords").is_none() {
        let why = if https { "a plugin or the host turned them off" } else { "WordPress turns them off on sites without HTTPS" };
        return Err(failed(
            "Application passwords",
            format!("Application passwords are off on this site ({why})"),
            if https {
                "Allow application passwords (Users → Profile → Application Passwords must be visible), or ask the host why they are off."
            } else {
                "Serve the site over HTTPS and use the https:// address here; WordPress only offers application passwords on HTTPS sites."
            },
        ));
    }
    Ok(wp.with_root(root))
}

/// Check 3: Signing in; returns the user as WordPress describes them (roles, capabilities).
async fn sign_in(wp: &Wp, user: &str, https: bool, r: &mut Report) -> Result<Value, Failed> {
    let me = match wp.get("/wp/v2/users/me", &[("context", "edit".into())]).await {
        Ok(me) => me,
        Err(e) => {
            // Without the companion plugin WordPress words every refused login alike; where the site lists its users
            // publicly, whether the user exists tells a typo in the name from a wrong application password.
            let listed = if e.status() == Some(401) && !r.companion_installed { public_user(wp, user).await } else { Listed::Unknown };
            let (detail, fix) = sign_in_failure(&e, user, r.companion_installed, https, listed);
            return Err(failed("Sign in", detail, fix));
        }
    };
    let name = me.get("name").and_then(|v| v.as_str()).unwrap_or(user);
    r.push("Sign in", Level::Ok, format!("Signed in as {name} ({})", roles_of(&me).join(", ")), "");
    Ok(me)
}

fn roles_of(me: &Value) -> Vec<String> {
    me.get("roles").and_then(|v| v.as_array()).map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default()
}

/// Check 4: Capabilities: publishing posts and uploading files.
fn permissions(me: &Value, user: &str, r: &mut Report) -> Result<(), Failed> {
    let can = |cap: &str| me.pointer(&format!("/capabilities/{cap}")).and_then(|v| v.as_bool()).unwrap_or(false);
    let missing: Vec<&str> =
        [("publish_posts", "publish posts"), ("upload_files", "upload files")].iter().filter(|(c, _)| !can(c)).map(|(_, w)| *w).collect();
    if !missing.is_empty() {
        let roles = roles_of(me);
        return Err(failed(
            "Permissions",
            format!("{user} ({}) cannot {}", if roles.is_empty() { "no role".into() } else { roles.join(", ") }, missing.join(" or ")),
            "Give the user the Author, Editor or Administrator role (Users → All Users → Edit → Role), or connect with a user who has it.",
        ));
    }
    r.push("Permissions", Level::Ok, "Can publish posts and upload files", "");
    Ok(())
}

/// Check 5: A tiny media upload, deleted again.
async fn media_upload(wp: &Wp, r: &mut Report) -> Result<(), Failed> {
    match wp.upload("igny8-connection-test.png", "image/png", TINY_PNG.to_vec(), &[("alt_text", "IGNY8 connection test".into())]).await {
        Ok(m) => {
            let id = m.get("id").and_then(|v| v.as_i64()).unwrap_or(0);
            let _ = wp.delete(&format!("/wp/v2/media/{id}"), &[("force", "true".into())]).await;
            r.push("Media upload", Level::Ok, "Uploaded and deleted a 1×1 image", "");
            Ok(())
        }
        Err(e) => {
            let fix = match e.status() {
                Some(413) => {
                    "The server refuses uploads of this size: raise upload_max_filesize / post_max_size (PHP) or client_max_body_size (nginx)."
                }
                Some(500) => "WordPress could not store the file: check that wp-content/uploads is writable by the web server.",
                _ => "Check that the user may upload files and that no plugin blocks REST uploads.",
            };
            Err(failed("Media upload", format!("Uploading a test image failed: {e}"), fix))
        }
    }
}

/// Check 6: A draft, created and deleted — with any left by a test cut short before its delete.
async fn draft_post(wp: &Wp, me: &Value, r: &mut Report) -> Result<(), Failed> {
    let p = wp.post("/wp/v2/posts", &json!({ "title": TEST_TITLE, "status": "draft", "content": "Deleted right away." })).await.map_err(
        |e| {
            failed(
                "Draft post",
                format!("Creating a draft failed: {e}"),
                "Check that the user may create posts and that no plugin blocks REST writes.",
            )
        },
    )?;
    let id = p.get("id").and_then(|v| v.as_i64()).unwrap_or(0);
    let _ = wp.delete(&format!("/wp/v2/posts/{id}"), &[("force", "true".into())]).await;
    let author = me.get("id").and_then(|v| v.as_i64()).unwrap_or(0).to_string();
    let query = [("search", TEST_TITLE.to_string()), ("status", "draft".into()), ("author", author), ("context", "edit".into())];
    if let Ok(left) = wp.get("/wp/v2/posts", &query).await {
        for old in left.as_array().into_iter().flatten().filter(|p| p.pointer("/title/raw").and_then(|t| t.as_str()) == Some(TEST_TITLE)) {
            let old_id = old.get("id").and_then(|v| v.as_i64()).unwrap_or(0);
            let _ = wp.delete(&format!("/wp/v2/posts/{old_id}"), &[("force", "true".into())]).await;
        }
    }
    r.push("Draft post", Level::Ok, "Created and deleted a draft", "");
    Ok(())
}

/// Check 8: The SEO plugin found at discovery, as a line of the report.
fn seo_plugin(r: &mut Report) {
    let detail = match r.seo_plugin.as_deref().unwrap_or_default() {
        "yoast" => "Yoast SEO detected",
        "rankmath" => "Rank Math detected",
        _ => "No SEO plugin detected (the companion plugin prints the meta title and description itself)",
    };
    r.push("SEO plugin", Level::Ok, detail, "");
}

/// What the site's public user list says of a user name.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Listed {
    Yes,
    /// The site lists users, but not this one.
    No,
    /// The site lists no users (or the name cannot be looked up).
    Unknown,
}

/// Looks the user name up in the site's public user list (`/wp/v2/users?slug=`, no credentials). WordPress lists
/// only users who have published something, so "not listed" is a strong hint, not proof.
async fn public_user(wp: &Wp, user: &str) -> Listed {
    let slug: String =
        user.trim().to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    if slug.is_empty() || user.contains('@') {
        return Listed::Unknown;
    }
    let fields = ("_fields", "id,slug".to_string());
    match wp.get_public_with("/wp/v2/users", &[("slug", slug.clone()), fields.clone()]).await {
        Ok(v) if v.as_array().is_some_and(|a| a.iter().any(|u| text_of(u, "slug") == slug)) => Listed::Yes,
        Ok(_) => match wp.get_public_with("/wp/v2/users", &[("per_page", "1".into()), fields]).await {
            Ok(v) if v.as_array().is_some_and(|a| !a.is_empty()) => Listed::No,
            _ => Listed::Unknown,
        },
        Err(_) => Listed::Unknown,
    }
}

fn sign_in_failure(e: &WpError, user: &str, companion: bool, https: bool, listed: Listed) -> (String, String) {
    match (e.status(), e.code()) {
        (_, "invalid_username" | "invalid_email") => (
            format!("WordPress has no user named '{user}'"),
            "Enter your WordPress user name (Users → Profile → Username), not the name you gave the application password.".into(),
        ),
        (_, "incorrect_password") => (
            "WordPress refused the application password".into(),
            "Create a new application password under Users → Profile → Application Passwords and paste it here (with or without its spaces). Your login password does not work here.".into(),
        ),
        (_, "application_passwords_disabled" | "application_passwords_disabled_for_user") => (
            format!("Application passwords are turned off for {user}"),
            if https { "A plugin or the site's settings turn them off; allow them for this user.".into() } else { "Use the site's https:// address; WordPress offers application passwords only over HTTPS.".into() },
        ),
        (Some(401), _) if companion => (
            "WordPress did not receive the login: the web server strips the Authorization header".into(),
            STRIPPED_FIX.into(),
        ),
        (Some(401), _) if listed == Listed::No => (
            format!("WordPress has no user named '{user}' among the users it lists"),
            "Enter your WordPress user name (Users → Profile → Username), not the name you gave the application password. If the name is right (WordPress lists only users who have published posts), make a new application password.".into(),
        ),
        (Some(401), _) if listed == Listed::Yes => (
            format!("WordPress has a user named '{user}' but did not accept the application password (or the web server strips the Authorization header)"),
            format!("Create a new application password under Users → Profile → Application Passwords and paste it here; your login password does not work here. If a new one fails too: {STRIPPED_FIX}"),
        ),
        (Some(401), _) => (
            "WordPress did not accept the login: the user name or the application password is wrong, or the web server strips the Authorization header".into(),
            format!("Check the user name and make a new application password. If both are right: {STRIPPED_FIX} (The IGNY8 companion plugin lets this test tell these causes apart.)"),
        ),
        (Some(403), _) => (format!("Signing in was blocked: {e}"), BLOCKED_FIX.into()),
        _ => (format!("Signing in failed: {e}"), "Try again; if it keeps failing, check the site's error log.".into()),
    }
}

async fn companion(wp: &Wp, r: &mut Report, secret: Option<&str>) {
    if !r.companion_installed {
        r.push(
            "Companion plugin",
            Level::Warn,
            "Not installed: publishing works, but WordPress will ignore the SEO meta fields",
            "Install the IGNY8 Companion plugin (Plugins → Add New → Upload) to write SEO meta and use signed status checks.",
        );
        return;
    }
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        r.push(
            "Companion plugin",
            Level::Warn,
            "Installed; IGNY8 has no secret for it yet",
            "Copy the secret from Settings → IGNY8 in WordPress into this site's form.",
        );
        return;
    };
    let headers = sign::headers(secret, "GET", "/igny8/v1/status", chrono::Utc::now().timestamp());
    match wp.get_with("/igny8/v1/status", &headers).await {
        Ok(v) => {
            r.companion = v.get("plugin_version").and_then(|x| x.as_str()).map(String::from);
            if let Some(seo) = v.get("seo_plugin").and_then(|x| x.as_str()) {
                r.seo_plugin = Some(seo.to_string());
            }
            r.push(
                "Companion plugin",
                Level::Ok,
                format!("Version {} answered a signed request", r.companion.clone().unwrap_or_default()),
                "",
            );
        }
        Err(e) if e.code() == "igny8_bad_signature" => r.push(
            "Companion plugin",
            Level::Warn,
            "Installed, but the secret does not match",
            "Copy the secret from Settings → IGNY8 in WordPress into this site's form again (check the server's clock too).",
        ),
        Err(e) => r.push("Companion plugin", Level::Warn, format!("Installed, but its status check failed: {e}"), ""),
    }
}

/// For the page: steps as stored JSON.
pub fn to_json(r: &Report) -> Value {
    serde_json::to_value(r).unwrap_or(Value::Null)
}
