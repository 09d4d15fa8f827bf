//! Hostile values in every field: each form found on the app's pages and each documented JSON field of every
//! POST/PUT/PATCH API route gets control characters, huge strings, odd unicode, markup, SQL-ish quotes, odd
//! numbers, wrong JSON types, deep nesting and bodies that are no object at all, one field at a time. The
//! routes come from the source and the forms from the rendered pages, so new ones are covered without editing
//! this test. No answer may be a 5xx or a dropped connection, and the server still answers afterwards.

mod docs;
mod forms;
mod routes;
mod values;

use std::collections::BTreeMap;
use std::time::Instant;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};

use crate::billing::fake_stripe::{FakeStripe, SECRET_KEY};
use crate::billing::support::app_with;
use crate::harness::Browser;
use forms::{Fields, Form};
use routes::{Route, has_params, matches};

/// Requests in flight at once: more than the test app's pool of 6 database connections, so a handler that holds
/// one connection while waiting for another starves the pool and shows up as a 503.
const PARALLEL: usize = 8;

/// Paths whose forms end the session, move it to another workspace, remove what other forms act on or take the
/// workspace away are swept after everything else.
fn destructive(path: &str) -> bool {
    let words = [
        "delete",
        "remove",
        "revoke",
        "revoke-all",
        "discard",
        "cancel",
        "leave",
        "logout",
        "status",
        "plan",
        "members",
        "tenants",
        "switch",
        "workspace",
        "workspaces",
    ];
    path.split(['/', '?']).any(|segment| words.contains(&segment))
}

struct Outcome {
    what: String,
    status: Result<u16, String>,
}

/// Adds the forms of `pages` not yet in `out` nor in `except` (the same form shows on several pages).
fn add_forms(pages: &BTreeMap<String, String>, except: &[Form], out: &mut Vec<Form>) {
    let key = |f: &Form| (f.method.clone(), f.action.clone());
    for (path, html) in pages {
        for f in forms::forms(html, path) {
            if !out.iter().chain(except).any(|g| key(g) == key(&f)) {
                out.push(f);
            }
        }
    }
}

/// A page's or error's text without markup, cut short.
fn gist(body: &str) -> String {
    let main = body.split_once("<main").map_or(body, |(_, m)| m);
    let mut text = String::new();
    let mut in_tag = false;
    for c in main.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(300).collect()
}

async fn send(req: reqwest::RequestBuilder, what: String) -> Outcome {
    let status = match req.send().await {
        // The body is read whole, so a connection dropped mid-answer counts too.
        Ok(r) => {
            let s = r.status().as_u16();
            match r.bytes().await {
                // What a 5xx said, to find its cause from the list.
                Ok(body) if s >= 500 => Err(format!("{s}: {}", gist(&String::from_utf8_lossy(&body)))),
                Ok(_) => Ok(s),
                Err(e) => Err(format!("answer cut off: {e}")),
            }
        }
        Err(e) => Err(format!("no answer: {e}")),
    };
    Outcome { what, status }
}

/// The pages reachable from the route list: parameterless GET routes first, then each parameterised one at the
/// first link to it found on a page (so its ids are real objects of the workspace), and `extra` (links only a mail
/// carries).
async fn crawl(b: &Browser, all: &[Route], extra: &[String], outcomes: &mut Vec<Outcome>) -> (BTreeMap<String, String>, Vec<String>) {
    let pages: Vec<&Route> = all.iter().filter(|r| r.method == "GET" && !r.pattern.starts_with("/api/")).collect();
    let mut queue: Vec<String> = pages.iter().filter(|r| !has_params(&r.pattern)).map(|r| r.pattern.clone()).collect();
    queue.extend_from_slice(extra);
    let (mut html, mut links, mut done) = (BTreeMap::new(), Vec::<String>::new(), Vec::<String>::new());
    while !queue.is_empty() {
        for path in std::mem::take(&mut queue) {
            let r = b.client.get(b.url(&path)).send().await;
            let Ok(r) = r else {
                outcomes.push(Outcome { what: format!("GET {path}"), status: Err("no answer".into()) });
                continue;
            };
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            outcomes.push(Outcome { what: format!("GET {path}"), status: Ok(status) });
            for l in routes::links(&text) {
                if !links.contains(&l) {
                    links.push(l);
                }
            }
            html.insert(path, text);
        }
        for r in pages.iter().filter(|r| has_params(&r.pattern)) {
            if !done.contains(&r.pattern)
                && let Some(l) = links.iter().find(|l| matches(&r.pattern, l))
            {
                done.push(r.pattern.clone());
                queue.push(l.clone());
            }
        }
    }
    (html, links)
}

fn multipart(fields: &[(String, String)], files: &[String], file_body: &str) -> (String, Vec<u8>) {
    let boundary = "hostileBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (n, v) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n").into_bytes());
    }
    for n in files {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{n}\"; filename=\"k.csv\"\r\nContent-Type: text/csv\r\n\r\n{file_body}\r\n")
                .into_bytes(),
        );
    }
    body.extend(format!("--{boundary}--\r\n").into_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Percent-encoded bytes that are no UTF-8 in place of the marker value (a `String` cannot hold them).
fn invalid_utf8(encoded: String) -> String {
    encoded.replace(&serde_urlencoded::to_string([("", values::INVALID_UTF8)]).unwrap()[1..], "%FF%FE%C3")
}

/// Every variant of one form: each field (and each file) in turn set to each hostile value, and sent twice.
fn form_requests(b: &Browser, csrf: &str, form: &Form) -> Vec<(reqwest::RequestBuilder, String)> {
    let mutable: Vec<usize> = (0..form.fields.len()).filter(|&i| form.fields[i].0 != "csrf_token").collect();
    // (field, value kind, all fields, file content)
    let mut variants: Vec<(String, String, Fields, String)> = vec![];
    let base = form.fields.clone();
    let mut file_body = "keyword\nseo tools\n".to_string();
    for &i in &mutable {
        let name = &form.fields[i].0;
        for (kind, v) in values::form_values() {
            let mut fields = base.clone();
            fields[i].1 = v;
            variants.push((name.clone(), kind.to_string(), fields, file_body.clone()));
        }
        // Array-style repeats of the field.
        let mut twice = base.clone();
        twice.push((name.clone(), "2".into()));
        twice.push((format!("{name}[]"), "3".into()));
        variants.push((name.clone(), "repeated".into(), twice, file_body.clone()));
    }
    if form.multipart {
        for n in &form.files {
            for (kind, v) in values::form_values() {
                file_body = v;
                variants.push((n.clone(), kind.to_string(), base.clone(), file_body.clone()));
            }
        }
    }
    if variants.is_empty() {
        variants.push(("-".into(), "as shown".into(), base, file_body));
    }
    let mut out = vec![];
    for (field, kind, fields, file) in variants {
        let what = format!("{} {} [{field} = {kind}]", form.method, form.action);
        let url = b.url(&form.action);
        let req = if form.method == "GET" {
            if fields.iter().any(|(_, v)| v.len() > values::QUERY_MAX) {
                continue;
            }
            let sep = if url.contains('?') { '&' } else { '?' };
            b.client.get(format!("{url}{sep}{}", invalid_utf8(serde_urlencoded::to_string(&fields).unwrap())))
        } else if form.multipart {
            let (ct, body) = multipart(&fields, &form.files, &file);
            b.client.post(url).header("content-type", ct).header("x-csrf-token", csrf).body(body)
        } else {
            let body = invalid_utf8(serde_urlencoded::to_string(&fields).unwrap());
            b.client.post(url).header("content-type", "application/x-www-form-urlencoded").header("x-csrf-token", csrf).body(body)
        };
        out.push((req, what));
    }
    out
}

/// A concrete path for a route: the page link to the same object when there is one, else the first id (or key)
/// its API collection lists, else `1` (answered 404, which is fine).
async fn resolve(b: &Browser, pattern: &str, links: &[String]) -> String {
    let page = pattern.strip_prefix("/api").unwrap_or(pattern);
    if let Some(l) = links.iter().find(|l| matches(page, l)) {
        return format!("/api{}", l.split('?').next().unwrap_or_default());
    }
    let mut out: Vec<String> = vec![];
    for seg in pattern.split('/') {
        if !seg.starts_with('{') {
            out.push(seg.to_string());
            continue;
        }
        let value = match seg {
            "{step}" => "cluster".to_string(),
            "{key}" => "content".to_string(),
            _ => {
                let list = out.join("/");
                let list = if list.starts_with("/api/") { list } else { format!("/api{list}") };
                let list: Value = b.get(&list).await.json().await.unwrap_or(Value::Null);
                first_id(&list).unwrap_or_else(|| "1".into())
            }
        };
        out.push(value);
    }
    out.join("/")
}

fn first_id(v: &Value) -> Option<String> {
    match v {
        Value::Object(m) => m.get("id").and_then(Value::as_i64).map(|n| n.to_string()).or_else(|| m.values().find_map(first_id)),
        Value::Array(a) => a.iter().find_map(first_id),
        _ => None,
    }
}

/// Every variant of one JSON route: each documented field in turn given each hostile value, then whole bodies
/// that are not an object.
fn json_requests(b: &Browser, csrf: &str, method: &str, path: &str, fields: &[String]) -> Vec<(reqwest::RequestBuilder, String)> {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut bodies: Vec<(String, Vec<u8>)> = vec![];
    let base: serde_json::Map<String, Value> = fields.iter().map(|f| (f.clone(), values::plausible(f))).collect();
    for f in fields {
        for (kind, raw) in values::json_values() {
            let mut body = base.clone();
            body.insert(f.clone(), Value::String("\u{1}HOSTILE\u{1}".into()));
            let text = serde_json::to_string(&body).unwrap().replace("\"\\u0001HOSTILE\\u0001\"", &raw);
            bodies.push((format!("{f} = {kind}"), text.into_bytes()));
        }
    }
    for (kind, raw) in values::json_bodies() {
        bodies.push((kind.to_string(), raw));
    }
    bodies
        .into_iter()
        .map(|(what, body)| {
            let req = b
                .client
                .request(method.clone(), b.url(path))
                .header("content-type", "application/json")
                .header("x-csrf-token", csrf)
                .body(body);
            (req, format!("{method} {path} [{what}]"))
        })
        .collect()
}

async fn run(requests: Vec<(reqwest::RequestBuilder, String)>, outcomes: &mut Vec<Outcome>) {
    let mut s = futures_util::stream::iter(requests.into_iter().map(|(req, what)| send(req, what))).buffer_unordered(PARALLEL);
    while let Some(o) = s.next().await {
        outcomes.push(o);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_hostile_value_in_any_form_or_json_field_gets_a_5xx() {
    let started = Instant::now();
    // The harness already lifts the per-IP, per-token and AI rate limits far above what this sweep sends. Payments
    // go to the fake Stripe, so the billing forms answer as on a configured server.
    let stripe = FakeStripe::start();
    let app = app_with(&[
        ("IGNY8_STRIPE_API_BASE", stripe.base.clone()),
        ("IGNY8_STRIPE_SECRET_KEY", SECRET_KEY.to_string()),
        ("IGNY8_STRIPE_PACK_PRICE", "price_pack_test".to_string()),
        // A platform AI provider on a closed local port (nothing is ever sent to it: no workers run here).
        ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string()),
        // Mail is set up (no worker runs to send it, so nothing listens on the port).
        ("IGNY8_SMTP_HOST", "127.0.0.1".to_string()),
        ("IGNY8_SMTP_PORT", crate::smtp::free_port().to_string()),
        ("IGNY8_SMTP_TLS", "none".to_string()),
        ("IGNY8_MAIL_FROM", "IGNY8 <no-reply@igny8.test>".to_string()),
    ])
    .await;
    // A team as `app.team` builds it, the owner's address confirmed first (with mail set up, inviting needs it).
    let (owner, tenant_id) = app.signup("Olive Owner", "owner-hostile@example.com", "Workspace hostile").await;
    app.set_plan(tenant_id, "agency").await;
    let mut conn = app.db().await;
    use igny8::db::schema::users;
    diesel::update(users::table.filter(users::email.eq("owner-hostile@example.com")))
        .set(users::email_verified_at.eq(diesel::dsl::now))
        .execute(&mut conn)
        .await
        .unwrap();
    for role in ["admin", "editor", "viewer"] {
        app.join(&owner, &format!("{role}-hostile@example.com"), role).await;
    }
    let b = &owner;
    // The owner is also a system administrator, so the System pages and their forms are swept too.
    let user_id: i64 = diesel::update(users::table.filter(users::email.eq("owner-hostile@example.com")))
        .set(users::is_system_admin.eq(true))
        .returning(users::id)
        .get_result(&mut conn)
        .await
        .unwrap();
    crate::workspaces::support::fill(&mut conn, tenant_id, user_id, "hostile").await;
    // States whose pages carry more forms: an analysed import, an article, a failed job, a second cluster to merge
    // into, a platform AI provider, an open invitation.
    let t = tenant_id;
    for sql in [
        format!("UPDATE keyword_imports SET status = 'ready', headers = ARRAY['Keyword', 'Volume'], good_rows = 1 WHERE tenant_id = {t}"),
        format!("UPDATE tasks SET word_count = 120 WHERE tenant_id = {t}"),
        format!("UPDATE jobs SET status = 'failed' WHERE tenant_id = {t}"),
    ] {
        diesel::sql_query(sql).execute(&mut conn).await.unwrap();
    }
    assert_eq!(b.api_post("/api/planner/clusters", json!({"name": "second cluster"})).await.status(), 201);
    let provider = json!({"kind": "openai", "name": "platform", "base_url": "http://127.0.0.1:9/v1", "api_key": "sk-test-0123456789"});
    let r = b.api_post("/api/system/ai-providers", provider).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let invite: Value = b.api_post("/api/team/invites", json!({"email": "new@example.com", "role": "editor"})).await.json().await.unwrap();
    let accept = invite["accept_url"].as_str().and_then(|u| u.split_once("/invite/")).map(|(_, t)| format!("/invite/{t}")).unwrap();
    let csrf = b.csrf().await;

    let all = routes::registered();
    let mut outcomes = vec![];
    // The public forms (sign-in, sign-up, password reset, accepting an invitation) are a visitor's, swept from a
    // browser of their own: accepting or signing in there would replace the owner's session.
    let visitor = app.browser();
    let visitor_csrf = visitor.csrf().await;
    let (public_pages, _) = crawl(&visitor, &all, &[accept], &mut outcomes).await;
    let mut public_forms = vec![];
    add_forms(&public_pages, &[], &mut public_forms);
    let (pages, links) = crawl(b, &all, &[], &mut outcomes).await;
    // Forms, each once (the same form shows on several pages), the destructive ones last and sign-out at the end.
    let mut forms: Vec<Form> = vec![];
    add_forms(&pages, &public_forms, &mut forms);
    // A POST route no page shows a form for (its form needs a state the workspace is not in) still gets every
    // hostile value, in a field of its own.
    let actions: Vec<String> = forms.iter().chain(&public_forms).filter(|f| f.method == "POST").map(|f| f.action.clone()).collect();
    let formless: Vec<&str> = all
        .iter()
        .filter(|r| r.method == "POST" && !r.pattern.starts_with("/api/") && !actions.iter().any(|a| matches(&r.pattern, a)))
        .map(|r| r.pattern.as_str())
        .collect();
    for pattern in &formless {
        let action = resolve(b, pattern, &links).await;
        let fields = vec![("csrf_token".to_string(), csrf.clone()), ("name".to_string(), "x".to_string())];
        forms.push(Form { action, method: "POST".into(), multipart: false, fields, files: vec![] });
    }
    forms.sort_by_key(|f| (f.action.contains("logout"), destructive(&f.action)));
    let form_count = forms.len() + public_forms.len();
    let before = outcomes.len();
    for f in &public_forms {
        run(form_requests(&visitor, &visitor_csrf, f), &mut outcomes).await;
    }

    // JSON routes before the destructive forms (which may sign the owner out).
    let docs = docs::documented();
    let writes: Vec<&Route> =
        all.iter().filter(|r| r.pattern.starts_with("/api/") && ["POST", "PUT", "PATCH"].contains(&r.method.as_str())).collect();
    let (safe_forms, late_forms): (Vec<Form>, Vec<Form>) = forms.into_iter().partition(|f| !destructive(&f.action));
    for f in &safe_forms {
        run(form_requests(b, &csrf, f), &mut outcomes).await;
    }
    // Still the owner's session in the owner's workspace, or what follows would only meet the sign-in redirect.
    let me: Value = b.get("/api/me").await.json().await.unwrap_or(Value::Null);
    assert_eq!(me["tenant"]["id"].as_i64(), Some(tenant_id), "the owner is still signed in after the forms: {me}");
    let form_requests_sent = outcomes.len() - before;
    let before = outcomes.len();
    // The AI-spending routes are refused for a lack of credits or queue work the offline dev provider would
    // answer: either way no real provider is called.
    let mut ordered = writes.clone();
    ordered.sort_by_key(|r| destructive(&r.pattern));
    let mut undocumented = vec![];
    for r in &ordered {
        let mut fields = docs::fields_for(&docs, &r.pattern);
        if fields.is_empty() {
            undocumented.push(format!("{} {}", r.method, r.pattern));
            fields = vec!["name".into()];
        }
        let path = resolve(b, &r.pattern, &links).await;
        run(json_requests(b, &csrf, &r.method, &path, &fields), &mut outcomes).await;
    }
    let json_requests_sent = outcomes.len() - before;
    let before = outcomes.len();
    for f in &late_forms {
        run(form_requests(b, &csrf, f), &mut outcomes).await;
    }
    let form_requests_sent = form_requests_sent + outcomes.len() - before;

    let health = reqwest::get(format!("{}/healthz", app.base)).await.map(|r| r.status().as_u16()).ok();
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|o| !matches!(o.status, Ok(s) if s < 500))
        .map(|o| format!("{} → {}", o.what, o.status.as_ref().map_or_else(|e| e.clone(), |s| s.to_string())))
        .collect();
    eprintln!(
        "hostile sweep: {} pages, {form_count} forms ({form_requests_sent} requests), {} JSON routes ({json_requests_sent} requests), {} s",
        pages.len() + public_pages.len(),
        writes.len(),
        started.elapsed().as_secs()
    );
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for o in &outcomes {
        *by_status.entry(o.status.as_ref().map_or_else(|_| "none".into(), |s| s.to_string())).or_default() += 1;
    }
    eprintln!("answers by status: {by_status:?}");
    let unreached: Vec<&str> = all
        .iter()
        .filter(|r| r.method == "GET" && !r.pattern.starts_with("/api/"))
        .filter(|r| !pages.keys().chain(public_pages.keys()).any(|p| matches(&r.pattern, p)))
        .map(|r| r.pattern.as_str())
        .collect();
    eprintln!("pages not reached: {unreached:?}");
    eprintln!("POST routes no page has a form for (swept with a `name` field): {formless:?}");
    if !undocumented.is_empty() {
        eprintln!("JSON routes without a documented body (swept with a `name` field): {undocumented:?}");
    }
    assert_eq!(health, Some(200), "the server answers /healthz after the sweep");
    assert!(failures.is_empty(), "{} answers were a 5xx or no answer:\n{}", failures.len(), failures.join("\n"));
    // The sweep must not quietly shrink: pages, forms and routes found.
    assert!(
        pages.len() >= 30 && form_count >= 40 && writes.len() >= 50,
        "{} pages, {form_count} forms, {} JSON routes",
        pages.len(),
        writes.len()
    );
}
