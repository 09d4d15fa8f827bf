//! Hostile values in every field: each form found on the app's pages and each documented JSON field of every
//! POST/PUT/PATCH API route gets control characters, huge strings, odd unicode, markup, SQL-ish quotes, odd
//! numbers, wrong JSON types, deep nesting and bodies that are no object at all, one field at a time. The
//! routes come from the source and the forms from the rendered pages, so new ones are covered without editing
//! this test. No answer may be a 5xx or a dropped connection, and the server still answers afterwards.

mod crawl;
mod docs;
mod forms;
mod requests;
mod routes;
mod values;

use std::collections::BTreeMap;
use std::time::Instant;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::billing::fake_stripe::{FakeStripe, SECRET_KEY};
use crate::billing::support::app_with;
use crawl::{add_forms, crawl, resolve};
use forms::Form;
use requests::{form_requests, json_requests, run};
use routes::{Route, matches};

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
    // Every page again, requested several times at once: a handler that holds a connection while taking another
    // starves the pool when many of its requests meet.
    let burst: Vec<_> =
        pages.keys().flat_map(|p| (0..requests::PARALLEL).map(move |i| (b.client.get(b.url(p)), format!("GET {p} [burst {i}]")))).collect();
    let burst_requests = burst.len();
    run(burst, &mut outcomes).await;
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
        "hostile sweep: {} pages ({burst_requests} burst requests), {form_count} forms ({form_requests_sent} requests), {} JSON routes ({json_requests_sent} requests), {} s",
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
