//! Accounts and mail: the loopback SMTP server receives what the app sends (reset, verification, invitation,
//! "you already have an account"), an SMTP outage only delays mail, and sign-up / sign-in resist abuse.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::crypto::secrets::sha256_hex;
use igny8::db::schema::{account_tokens, jobs, users};

use crate::harness::{Browser, PASSWORD, TestApp, redis_url};
use crate::smtp::{SmtpSink, env_for, free_port};

async fn app_with(env: HashMap<&'static str, String>) -> TestApp {
    TestApp::spawn_with(&redis_url(), env.into_iter().collect()).await
}

/// The path of an absolute link of the app.
fn path_of(app: &TestApp, link: &str) -> String {
    link.strip_prefix(&app.config.base_url).unwrap_or(link).to_string()
}

/// A page without its per-browser CSRF value, to compare two answers.
fn without_csrf(html: &str) -> String {
    html.lines().filter(|l| !l.contains("csrf")).collect::<Vec<_>>().join("\n")
}

/// Jobs of kind mail.send addressed to `to`, as (status, attempts, last_error).
async fn mail_jobs(app: &TestApp, to: &str) -> Vec<(String, i32, Option<String>)> {
    let mut conn = app.db().await;
    jobs::table
        .filter(jobs::kind.eq("mail.send"))
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!("payload->>'to' = '{to}'")))
        .select((jobs::status, jobs::attempts, jobs::last_error))
        .order(jobs::id.asc())
        .load(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mail_server_that_is_down_delays_mail_and_nothing_else_fails() {
    let port = free_port();
    let app = app_with(env_for(port)).await;
    // Sign-up, sign-in and pages work while the SMTP server is unreachable.
    let (b, _) = app.signup("Dora Down", "dora@example.com", "Down Co").await;
    assert_eq!(b.get("/dashboard").await.status(), 200);
    let start = Instant::now();
    loop {
        let j = mail_jobs(&app, "dora@example.com").await;
        assert_eq!(j.len(), 1, "one verification mail queued");
        let (status, attempts, err) = &j[0];
        if *attempts >= 2 && status == "queued" {
            assert!(err.as_deref().unwrap_or("").contains("SMTP"), "{err:?}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "the mail job did not retry: {j:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(b.get("/dashboard").await.status(), 200, "the app still serves");
    // The server comes back: the next retry delivers.
    let sink = SmtpSink::start_on(port).await;
    let got = sink.wait_for("dora@example.com", 1).await;
    assert!(got[0].subject.contains("Confirm your email"));
    let start = Instant::now();
    while mail_jobs(&app, "dora@example.com").await[0].0 != "succeeded" {
        assert!(start.elapsed() < Duration::from_secs(30), "the delivered job did not succeed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn password_reset_mail_link_works_once_expires_after_an_hour_and_ends_other_sessions() {
    let sink = SmtpSink::start().await;
    let app = app_with(sink.env()).await;
    let (first, _) = app.signup("Rena Reset", "rena@example.com", "Reset Co").await;
    let second = app.browser();
    assert_eq!(second.post_form("/login", &[("email", "rena@example.com"), ("password", PASSWORD)]).await.status(), 303);

    // Known and unknown emails get the same page; only the known one gets a mail.
    let anon = app.browser();
    let known = anon.post_form("/password/forgot", &[("email", "rena@example.com")]).await;
    assert_eq!(known.status(), 200);
    let known = known.text().await.unwrap();
    let unknown = anon.post_form("/password/forgot", &[("email", "nobody@example.com")]).await;
    assert_eq!(unknown.status(), 200);
    assert_eq!(without_csrf(&known), without_csrf(&unknown.text().await.unwrap()));
    assert!(known.contains("If an account uses this address"));
    assert!(mail_jobs(&app, "nobody@example.com").await.is_empty(), "no mail for an unknown email");

    let mails = sink.wait_for("rena@example.com", 2).await; // verification, then reset
    let reset = mails.iter().find(|m| m.subject.contains("Reset your IGNY8 password")).expect("reset mail");
    assert!(reset.html.contains("/password/reset/"), "an HTML part too");
    let link = reset.link("/password/reset/").expect("a reset link");
    let secret = link.rsplit('/').next().unwrap().to_string();
    // Hashed at rest: the table holds the digest, never the secret.
    let mut conn = app.db().await;
    let hashes: Vec<String> = account_tokens::table.select(account_tokens::token_hash).load(&mut conn).await.unwrap();
    assert!(hashes.contains(&sha256_hex(&secret)) && !hashes.contains(&secret));

    let path = path_of(&app, &link);
    assert_eq!(anon.get(&path).await.status(), 200);
    let r = anon.post_form(&path, &[("new", "password12"), ("confirm", "password12")]).await;
    assert_eq!(r.status(), 422, "the password rules apply");
    let r = anon.post_form(&path, &[("new", "a fresh long secret"), ("confirm", "a fresh long secret")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(first.get("/dashboard").await.status(), 303, "other sessions ended");
    assert_eq!(second.get("/dashboard").await.status(), 303, "other sessions ended");
    // Once only.
    let r = anon.post_form(&path, &[("new", "another long secret"), ("confirm", "another long secret")]).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("expired or was already used"));
    let fresh = Browser::new(&app.base);
    assert_eq!(fresh.post_form("/login", &[("email", "rena@example.com"), ("password", PASSWORD)]).await.status(), 401);
    assert_eq!(fresh.post_form("/login", &[("email", "rena@example.com"), ("password", "a fresh long secret")]).await.status(), 303);

    // A new link, an hour later (moved back in the table rather than waited for), no longer works.
    assert_eq!(anon.post_form("/password/forgot", &[("email", "rena@example.com")]).await.status(), 200);
    let mails = sink.wait_for("rena@example.com", 3).await;
    let link = mails.iter().rev().find(|m| m.subject.contains("Reset")).unwrap().link("/password/reset/").unwrap();
    let path = path_of(&app, &link);
    assert_eq!(anon.get(&path).await.status(), 200, "usable within the hour");
    diesel::sql_query(
        "UPDATE account_tokens SET created_at = created_at - interval '61 minutes', expires_at = expires_at - interval '61 minutes'",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    assert_eq!(anon.get(&path).await.status(), 400);
    let r = anon.post_form(&path, &[("new", "yet another secret"), ("confirm", "yet another secret")]).await;
    assert_eq!(r.status(), 400, "expired after an hour");
    assert_eq!(fresh.post_form("/login", &[("email", "rena@example.com"), ("password", "a fresh long secret")]).await.status(), 303);
}

#[tokio::test(flavor = "multi_thread")]
async fn verification_link_marks_verified_unverified_cannot_invite_and_the_invitation_mail_is_accepted() {
    let sink = SmtpSink::start().await;
    let app = app_with(sink.env()).await;
    let (owner, tid) = app.signup("Vera Verify", "vera@example.com", "Verify Co").await;
    app.set_plan(tid, "agency").await;
    let verified = async || -> bool {
        let mut conn = app.db().await;
        let at: Option<chrono::DateTime<chrono::Utc>> =
            users::table.filter(users::email.eq("vera@example.com")).select(users::email_verified_at).first(&mut conn).await.unwrap();
        at.is_some()
    };
    assert!(!verified().await);
    // Unverified: works, but cannot invite (API and page).
    assert_eq!(owner.get("/planner/keywords").await.status(), 200);
    let r = owner.api_post("/api/team/invites", serde_json::json!({ "email": "ivan@example.com", "role": "editor" })).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Confirm your email address"));
    assert_eq!(owner.post_form("/team/invites", &[("email", "ivan@example.com"), ("role", "editor")]).await.status(), 403);
    assert_eq!(app.count("invitations").await, 0);
    let (_, account) = owner.get_text("/account/notifications").await;
    assert!(account.contains("not confirmed yet"));
    // A lost link can be mailed again (the newest replaces the first).
    assert_eq!(owner.post_form("/account/verify/resend", &[]).await.status(), 303);
    let mails = sink.wait_for("vera@example.com", 2).await;
    let first = path_of(&app, &mails[0].link("/verify/").unwrap());
    assert_eq!(app.browser().get(&first).await.status(), 400, "the first link was replaced");
    assert_eq!(app.browser().post_form(&first, &[]).await.status(), 400, "the first link was replaced");

    let mail = sink.wait_for("vera@example.com", 2).await.remove(1);
    assert!(mail.subject.contains("Confirm your email"));
    let path = path_of(&app, &mail.link("/verify/").expect("a verification link"));
    // Opening the link (as a mail scanner does) shows a button and uses nothing up; the button confirms.
    let visitor = app.browser();
    for _ in 0..2 {
        let (status, html) = visitor.get_text(&path).await;
        assert_eq!(status, 200);
        assert!(html.contains("Confirm my email") && html.contains("vera@example.com"), "{html}");
    }
    assert!(!verified().await, "opening the link confirms nothing");
    let page = visitor.post_form(&path, &[]).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Your email is confirmed"));
    assert!(verified().await);
    assert_eq!(app.browser().get(&path).await.status(), 400, "single use");
    assert_eq!(app.browser().post_form(&path, &[]).await.status(), 400, "single use");
    assert!(!owner.get_text("/account/notifications").await.1.contains("not confirmed yet"));

    // Verified: the invitation is mailed, and its link is still shown once to the inviter.
    let r = owner.api_post("/api/team/invites", serde_json::json!({ "email": "ivan@example.com", "role": "editor" })).await;
    assert_eq!(r.status(), 201);
    let shown = r.json::<serde_json::Value>().await.unwrap()["accept_url"].as_str().unwrap().to_string();
    let invite = sink.wait_for("ivan@example.com", 1).await.remove(0);
    assert!(invite.subject.contains("Vera Verify invited you to Verify Co"), "{}", invite.subject);
    let link = invite.link("/invite/").expect("an invitation link");
    assert_eq!(link, shown);
    let ivan = app.browser();
    let r = ivan.post_form(&path_of(&app, &link), &[("name", "Ivan Invited"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), 303);
    let me: serde_json::Value = ivan.get("/api/me").await.json().await.unwrap();
    assert_eq!(me["tenant"]["id"].as_i64(), Some(tid));
    assert_eq!(me["role"], "editor");
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_up_answers_the_same_for_new_and_known_emails_and_mails_the_known_owner() {
    let sink = SmtpSink::start().await;
    let app = app_with(sink.env()).await;
    let fields = |email: &'static str| [("name", "Sam Same"), ("email", email), ("workspace", "Same Co"), ("password", PASSWORD)];
    let b = app.browser();
    let new = b.post_form("/signup", &fields("sam@example.com")).await;
    let known = b.post_form("/signup", &fields("sam@example.com")).await;
    for r in [&new, &known] {
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/signup/sent");
        assert!(r.headers().get("set-cookie").is_none_or(|c| !c.to_str().unwrap().contains("igny8_session")));
    }
    assert_eq!(app.count("users").await, 1);
    assert_eq!(app.count("tenants").await, 1);
    let mails = sink.wait_for("sam@example.com", 2).await;
    let mut subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    subjects.sort();
    assert_eq!(subjects, ["Confirm your email address for IGNY8", "You already have an IGNY8 account"]);
    let (status, page) = b.get_text("/signup/sent").await;
    assert_eq!(status, 200);
    assert!(page.contains("Check your inbox"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sign_up_burst_from_one_ip_is_throttled() {
    let app = app_with(HashMap::from([("IGNY8_SIGNUP_MAX_PER_IP", "3".to_string())])).await;
    let b = app.browser();
    for i in 0..3 {
        let email = format!("burst{i}@example.com");
        let r = b.post_form("/signup", &[("name", "B"), ("email", &email), ("workspace", "B"), ("password", PASSWORD)]).await;
        assert_eq!(r.status(), 303, "sign-up {i}");
    }
    let r = b.post_form("/signup", &[("name", "B"), ("email", "burst9@example.com"), ("workspace", "B"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(app.count("users").await, 3);
    assert_eq!(app.count("tenants").await, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn common_and_one_character_passwords_are_refused() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    for (pw, msg) in [("password12", "most common"), ("          ", "repeated"), ("zzzzzzzzzzzz", "repeated")] {
        let r = b.post_form("/signup", &[("name", "P"), ("email", "p@example.com"), ("workspace", "P"), ("password", pw)]).await;
        assert_eq!(r.status(), 422, "{pw:?}");
        assert!(r.text().await.unwrap().contains(msg), "{pw:?}");
    }
    assert_eq!(app.count("users").await, 0);
    let (owner, _) = app.signup("P", "p@example.com", "P").await;
    let r = owner.post_form("/account/password", &[("current", PASSWORD), ("new", "password12"), ("confirm", "password12")]).await;
    assert_eq!(r.status(), 422, "the same rules on change");
}

/// A form post from a given client address (the app trusts the proxy header in this test).
async fn login_from(b: &Browser, ip: &str, email: &str, password: &str) -> reqwest::Response {
    let token = b.csrf().await;
    b.client
        .post(b.url("/login"))
        .header("x-forwarded-for", ip)
        .form(&[("csrf_token", token.as_str()), ("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_passwords_slow_down_that_network_only_and_the_owner_still_signs_in_from_theirs() {
    let app = app_with(HashMap::from([("IGNY8_TRUST_PROXY", "on".to_string())])).await;
    app.signup("Owen Owner", "owen@example.com", "Owen Co").await;
    let attacker = app.browser();
    for _ in 0..5 {
        assert_eq!(login_from(&attacker, "203.0.113.9", "owen@example.com", "not the password").await.status(), 401);
    }
    let r = login_from(&attacker, "203.0.113.9", "owen@example.com", PASSWORD).await;
    assert_eq!(r.status(), 429, "that network now waits");
    let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=15).contains(&wait), "a short first delay, not a lock: {wait}");
    // The owner, from their own network, is not locked out.
    let owner = app.browser();
    assert_eq!(login_from(&owner, "198.51.100.7", "owen@example.com", PASSWORD).await.status(), 303);
}

#[tokio::test(flavor = "multi_thread")]
async fn profile_name_email_change_from_the_new_address_and_sign_out_everywhere() {
    let sink = SmtpSink::start().await;
    let app = app_with(sink.env()).await;
    let (b, _) = app.signup("Pat Profile", "pat@example.com", "Profile Co").await;
    let other = app.browser();
    assert_eq!(other.post_form("/login", &[("email", "pat@example.com"), ("password", PASSWORD)]).await.status(), 303);

    // Display name.
    assert_eq!(b.post_form("/account/profile/name", &[("name", "")]).await.status(), 422);
    assert_eq!(b.post_form("/account/profile/name", &[("name", "Pat Renamed")]).await.status(), 303);
    let me: serde_json::Value = b.get("/api/me").await.json().await.unwrap();
    assert_eq!(me["actor"]["name"], "Pat Renamed");

    // Sessions: both browsers are listed.
    let (status, page) = b.get_text("/account/profile").await;
    assert_eq!(status, 200);
    assert_eq!(page.matches("<tr><td>").count(), 2, "two sessions listed");
    assert!(page.contains("this browser"));

    // Email change: a wrong password or a bad address changes nothing; the link goes to the new address only.
    let r = b.post_form("/account/profile/email", &[("email", "pat.new@example.com"), ("password", "not my password")]).await;
    assert_eq!(r.status(), 422);
    assert_eq!(b.post_form("/account/profile/email", &[("email", "pat.new@example.com"), ("password", PASSWORD)]).await.status(), 303);
    let mail = sink.wait_for("pat.new@example.com", 1).await.remove(0);
    assert!(mail.subject.contains("Confirm your new email"));
    let email_now = async || -> String {
        let mut conn = app.db().await;
        users::table.select(users::email).first(&mut conn).await.unwrap()
    };
    assert_eq!(email_now().await, "pat@example.com", "unchanged until the link is used");
    let path = path_of(&app, &mail.link("/account/email/").expect("a confirmation link"));
    let (status, html) = app.browser().get_text(&path).await;
    assert_eq!(status, 200);
    assert!(html.contains("pat.new@example.com") && html.contains("Use this address"), "{html}");
    assert_eq!(email_now().await, "pat@example.com", "opening the link changes nothing");
    assert_eq!(app.browser().post_form(&path, &[]).await.status(), 200);
    assert_eq!(email_now().await, "pat.new@example.com");
    assert_eq!(app.browser().get(&path).await.status(), 400, "single use");
    assert_eq!(app.browser().post_form(&path, &[]).await.status(), 400, "single use");
    let fresh = app.browser();
    assert_eq!(fresh.post_form("/login", &[("email", "pat@example.com"), ("password", PASSWORD)]).await.status(), 401);
    assert_eq!(fresh.post_form("/login", &[("email", "pat.new@example.com"), ("password", PASSWORD)]).await.status(), 303);

    // Sign out everywhere ends every session, this one included.
    let r = b.post_form("/account/sessions/revoke-all", &[]).await;
    assert_eq!(r.status(), 303);
    for browser in [&b, &other, &fresh] {
        assert_eq!(browser.get("/dashboard").await.status(), 303);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn owners_and_admins_rename_their_workspace_and_nobody_else_does() {
    let app = TestApp::spawn().await;
    let team = app.team("ren").await;
    let (other, other_tid) = app.signup("Ona Other", "ona@example.com", "Other Co").await;
    assert_eq!(team.owner.post_form("/tenants/rename", &[("name", "")]).await.status(), 422);
    assert_eq!(team.owner.post_form("/tenants/rename", &[("name", "Renamed Co")]).await.status(), 303);
    let me: serde_json::Value = team.editor.get("/api/me").await.json().await.unwrap();
    assert_eq!(me["tenant"]["name"], "Renamed Co");
    let r = team.admin.api(reqwest::Method::PATCH, "/api/workspace", Some(serde_json::json!({ "name": "Admin Named" }))).await;
    assert_eq!(r.status(), 200);
    let r = team.editor.api(reqwest::Method::PATCH, "/api/workspace", Some(serde_json::json!({ "name": "Editor Named" }))).await;
    assert_eq!(r.status(), 403);
    let me: serde_json::Value = team.viewer.get("/api/me").await.json().await.unwrap();
    assert_eq!(me["tenant"]["name"], "Admin Named");
    let me: serde_json::Value = other.get("/api/me").await.json().await.unwrap();
    assert_eq!(
        (me["tenant"]["id"].as_i64(), me["tenant"]["name"].as_str()),
        (Some(other_tid), Some("Other Co")),
        "another workspace is untouched"
    );
}

/// Someone who left every workspace still gets account mail: no workspace's queue can hold it, so it is sent at
/// once — the reset link, and the "you already have an account" answer to a sign-up with their address.
#[tokio::test(flavor = "multi_thread")]
async fn an_account_in_no_workspace_still_gets_its_reset_and_sign_up_mail() {
    let sink = SmtpSink::start().await;
    let app = app_with(sink.env()).await;
    let (owner, tid) = app.signup("Olga Owner", "olga@example.com", "Olga Co").await;
    app.set_plan(tid, "agency").await; // room for a second member
    let mut conn = app.db().await;
    diesel::update(users::table.filter(users::email.eq("olga@example.com")))
        .set(users::email_verified_at.eq(diesel::dsl::now))
        .execute(&mut conn)
        .await
        .unwrap();
    let lone = app.join(&owner, "lone@example.com", "editor").await;
    sink.wait_for("lone@example.com", 1).await; // the invitation
    assert_eq!(lone.api_post("/api/workspace/leave", serde_json::json!({})).await.status(), 200);
    let memberships: i64 = igny8::db::schema::memberships::table
        .inner_join(users::table)
        .filter(users::email.eq("lone@example.com"))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(memberships, 0, "in no workspace now");

    let anon = app.browser();
    assert_eq!(anon.post_form("/password/forgot", &[("email", "lone@example.com")]).await.status(), 200);
    let mails = sink.wait_for("lone@example.com", 2).await;
    let reset = mails.iter().find(|m| m.subject.contains("Reset your IGNY8 password")).expect("a reset mail");
    let path = path_of(&app, &reset.link("/password/reset/").expect("a reset link"));
    let r = anon.post_form(&path, &[("new", "a fresh lone pass"), ("confirm", "a fresh lone pass")]).await;
    assert_eq!(r.status(), 303, "the link sets the password");
    let fresh = app.browser();
    assert_eq!(fresh.post_form("/login", &[("email", "lone@example.com"), ("password", "a fresh lone pass")]).await.status(), 303);

    let r = app
        .browser()
        .post_form(
            "/signup",
            &[("name", "Lone"), ("email", "lone@example.com"), ("workspace", "Lone Co"), ("password", "another long pass")],
        )
        .await;
    assert!(r.status().is_redirection() || r.status() == 200, "{}", r.status());
    let mails = sink.wait_for("lone@example.com", 3).await;
    assert!(mails.iter().any(|m| m.subject.contains("You already have an IGNY8 account")), "the sign-up answer is mailed");
}
