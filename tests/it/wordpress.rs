//! Publishing against the real WordPress that `scripts/wordpress-up.sh` runs on loopback (the test command
//! starts it): the self-test's specific messages, a full publish (images, terms, featured media, SEO meta read
//! back), no duplicate after a crash between "created" and "id stored", update in place, trash and delete
//! seen by status sync and never re-created, unpublish, a site without the companion plugin, and private
//! addresses refused when the setting is off.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::{jobs, publications, tasks};
use serde_json::{Value, json};

use crate::harness::{Browser, SECRET, TestApp};
use crate::planner::support::{balance, wait_job};
use crate::wp_site::{WpSite, add_png, unique, wp_site};

/// Talks to WordPress directly, as the site's admin, to check what IGNY8 did there.
pub struct WpAdmin {
    http: reqwest::Client,
    base: String,
    user: String,
    password: String,
}

impl WpAdmin {
    pub fn new(site: &WpSite) -> WpAdmin {
        WpAdmin { http: reqwest::Client::new(), base: site.url.clone(), user: site.user.clone(), password: site.password.clone() }
    }
    pub async fn get(&self, route: &str) -> Value {
        let r = self.http.get(format!("{}/wp-json{route}", self.base)).basic_auth(&self.user, Some(&self.password)).send().await.unwrap();
        assert!(r.status().is_success() || r.status() == 404, "{route}: {}", r.status());
        r.json().await.unwrap()
    }
    pub async fn delete(&self, route: &str) -> u16 {
        self.http
            .delete(format!("{}/wp-json{route}", self.base))
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
    /// Every post with this slug, trash included (trashed posts get `__trashed` appended).
    pub async fn posts_with_slug(&self, slug: &str) -> Vec<Value> {
        let mut all = self
            .get(&format!("/wp/v2/posts?slug={slug}&status=publish,future,draft,pending,private&context=edit"))
            .await
            .as_array()
            .cloned()
            .unwrap_or_default();
        let trashed = self.get(&format!("/wp/v2/posts?slug={slug}__trashed&status=trash&context=edit")).await;
        all.extend(trashed.as_array().cloned().unwrap_or_default());
        all
    }
}

pub async fn app() -> TestApp {
    let env: HashMap<&str, String> = HashMap::from([("IGNY8_WORKERS", "2".to_string()), ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())]);
    TestApp::spawn_with(&crate::harness::redis_url(), env).await
}

/// A written article with a featured image and two in-article images, straight into the tables (the writer's
/// own tests cover writing it); returns (task id, slug).
pub async fn article_task(app: &TestApp, tenant_id: i64, tag: &str) -> (i64, String) {
    let slug = unique(tag);
    let title = format!("Trail shoes guide {slug}");
    let p = |n: usize| format!("<p>{}</p>", vec!["grippy"; n].join(" "));
    let html = format!("<p>Intro.</p><h2>Grip</h2>{}<h2>Fit</h2>{}<h2>Care</h2>{}", p(60), p(60), p(60));
    let mut conn = app.db().await;
    let task: i64 = diesel::insert_into(tasks::table)
        .values((
            tasks::tenant_id.eq(tenant_id),
            tasks::title.eq(&title),
            tasks::status.eq("ready"),
            tasks::slug.eq(&slug),
            tasks::meta_title.eq(format!("Meta {slug}")),
            tasks::meta_description.eq(format!("How to choose trail shoes ({slug}).")),
            tasks::primary_keyword.eq("trail shoes"),
            tasks::target_keywords.eq(vec!["trail shoes".to_string()]),
            tasks::content_html.eq(&html),
            tasks::word_count.eq(183),
        ))
        .returning(tasks::id)
        .get_result(&mut conn)
        .await
        .unwrap();
    for (pos, alt) in [(0, "A runner on a trail"), (1, "Outsole close-up"), (2, "Lacing a shoe")] {
        add_png(&mut conn, tenant_id, task, pos, alt, pos as u8 * 40 + (task % 40) as u8).await;
    }
    igny8::modules::writer::images::place_in_task(SECRET, &mut conn, tenant_id, task).await.unwrap();
    (task, slug)
}

pub async fn add_site(b: &Browser, url: &str, user: &str, password: &str, secret: &str) -> (i64, Value) {
    let r = b.api_post("/api/sites", json!({ "name": unique("site"), "base_url": url, "username": user, "app_password": password, "plugin_secret": secret, "default_status": "publish" })).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = b.api_post(&format!("/api/sites/{id}/check"), json!({})).await;
    assert_eq!(r.status(), 200);
    (id, r.json().await.unwrap())
}

pub async fn publish(app: &TestApp, b: &Browser, task: i64, body: Value) -> (String, Value, Option<String>) {
    let r = b.api_post(&format!("/api/publish/tasks/{task}"), body).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let job = r.json::<Value>().await.unwrap()["job_id"].as_i64().unwrap();
    wait_job(app, job).await
}

async fn publication(b: &Browser, task: i64) -> Value {
    b.get(&format!("/api/publish/tasks/{task}")).await.json().await.unwrap()
}

fn failing_step(report: &Value) -> Value {
    report["steps"].as_array().unwrap().iter().find(|s| s["level"] == "fail").cloned().unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread")]
async fn self_test_names_the_wrong_password_the_user_name_typo_and_a_blocked_rest_api() {
    let began = chrono::Utc::now() - chrono::Duration::seconds(2);
    let wp = wp_site();
    let app = app().await;
    let (b, tid) = app.signup("Sel", "sel@example.com", "Sel Co").await;
    app.set_plan(tid, "agency").await;

    let (site, ok) = add_site(&b, &wp.url, &wp.user, &wp.password, &wp.secret).await;
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(ok["root"], "wp-json");
    assert_eq!(ok["companion"], "1.0.0", "the companion plugin answered a signed request: {ok}");
    let names: Vec<&str> = ok["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Reachable", "REST API", "Sign in", "Permissions", "Media upload", "Draft post", "Companion plugin", "SEO plugin"]);

    // Wrong application password, then the application password's name typed as the user name: the same
    // site edited, each save followed by the test.
    let recheck = |user: String, password: String| {
        let (b, wp_url) = (&b, wp.url.clone());
        async move {
            let r = b
                .api(reqwest::Method::PUT, &format!("/api/sites/{site}"), Some(json!({ "name": "Checked", "base_url": wp_url, "username": user, "app_password": password, "default_status": "publish" })))
                .await;
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
            b.api_post(&format!("/api/sites/{site}/check"), json!({})).await.json::<Value>().await.unwrap()
        }
    };
    let r = recheck(wp.user.clone(), "abcd efgh ijkl mnop qrst uvwx".into()).await;
    let step = failing_step(&r);
    assert_eq!((r["ok"].clone(), step["name"].clone()), (json!(false), json!("Sign in")), "{r}");
    assert!(step["detail"].as_str().unwrap().contains("refused the application password"), "{step}");
    assert!(step["fix"].as_str().unwrap().contains("Application Passwords"), "{step}");

    let r = recheck("igny8".to_string(), wp.password.clone()).await;
    let step = failing_step(&r);
    assert!(step["detail"].as_str().unwrap().contains("no user named 'igny8'"), "{r}");
    assert!(step["fix"].as_str().unwrap().contains("not the name you gave the application password"), "{step}");
    // A subscriber signs in but may neither publish nor upload: the test says so and what role is needed.
    let r = recheck(wp.reader.clone(), wp.reader_password.clone()).await;
    let step = failing_step(&r);
    assert_eq!(step["name"], "Permissions", "{r}");
    assert!(
        step["detail"].as_str().unwrap().contains("subscriber")
            && step["detail"].as_str().unwrap().contains("cannot publish posts or upload files"),
        "{step}"
    );
    assert!(step["fix"].as_str().unwrap().contains("Author, Editor or Administrator"), "{step}");
    // Back to the typo, whose report the site's page must show.
    recheck("igny8".to_string(), wp.password.clone()).await;

    let (_, page) = b.get_text(&format!("/sites/{site}")).await;
    assert!(
        page.contains("no user named &#39;igny8&#39;") || page.contains("no user named &#x27;igny8&#x27;"),
        "the report shows on the site's page"
    );

    // A firewall answering 403 to every REST request.
    let (_, r) = add_site(&b, &wp.blocked_url, &wp.user, &wp.password, "").await;
    let step = failing_step(&r);
    assert_eq!(step["name"], "REST API", "{r}");
    assert!(step["detail"].as_str().unwrap().contains("blocked") && step["detail"].as_str().unwrap().contains("403"), "{step}");
    assert!(step["fix"].as_str().unwrap().contains("firewall"), "{step}");

    // Without pretty permalinks /wp-json/ is a 404: the REST API is found at /?rest_route= instead.
    let (_, r) = add_site(&b, &wp.nopretty_url, &wp.user, &wp.password, "").await;
    assert_eq!((r["ok"].clone(), r["root"].clone()), (json!(true), json!("rest_route")), "{r}");

    // Without the plugin WordPress 6.1 reports every refused login alike; the site's public user list still tells
    // a wrong application password (the user exists) from a typo in the user name (no such user listed).
    let r = b
        .api_post("/api/sites", json!({ "name": "Plain, wrong password", "base_url": wp.plain_url, "username": wp.user, "app_password": "abcd efgh ijkl mnop qrst uvwx" }))
        .await;
    assert_eq!(r.status(), 201);
    let plain_id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r: Value = b.api_post(&format!("/api/sites/{plain_id}/check"), json!({})).await.json().await.unwrap();
    let step = failing_step(&r);
    assert_eq!(step["name"], "Sign in", "{r}");
    assert!(
        step["detail"].as_str().unwrap().contains(&format!("has a user named '{}' but did not accept the application password", wp.user)),
        "{step}"
    );
    assert!(step["fix"].as_str().unwrap().contains("Create a new application password"), "{step}");
    let r = b
        .api(
            reqwest::Method::PUT,
            &format!("/api/sites/{plain_id}"),
            Some(json!({ "name": "Plain, typo", "base_url": wp.plain_url, "username": "igny8", "app_password": wp.password })),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r: Value = b.api_post(&format!("/api/sites/{plain_id}/check"), json!({})).await.json().await.unwrap();
    let step = failing_step(&r);
    assert!(step["detail"].as_str().unwrap().contains("no user named 'igny8'"), "{step}");
    assert!(step["fix"].as_str().unwrap().contains("not the name you gave the application password"), "{step}");
    assert_eq!(b.api(reqwest::Method::DELETE, &format!("/api/sites/{plain_id}"), None).await.status(), 204);

    // The site without the plugin says so (a warning, not a failure).
    let (_, r) = add_site(&b, &wp.plain_url, &wp.user, &wp.password, "").await;
    assert_eq!(r["ok"], true, "{r}");
    let comp = r["steps"].as_array().unwrap().iter().find(|s| s["name"] == "Companion plugin").unwrap().clone();
    assert_eq!(comp["level"], "warn");
    assert!(comp["detail"].as_str().unwrap().starts_with("Not installed"), "{comp}");

    // The report is kept on the site and shown on its page; the test created nothing that stays.
    let sites: Value = b.get("/api/sites").await.json().await.unwrap();
    assert!(sites["sites"].as_array().unwrap().iter().all(|s| s["checked_at"].is_string()), "{sites}");
    // (Other tests run self-tests at the same time: their test drafts live for a moment, so wait for none made
    // since this test began.)
    let admin = WpAdmin::new(&wp);
    let start = std::time::Instant::now();
    loop {
        let leftovers = admin
            .get(&format!(
                "/wp/v2/posts?search=IGNY8%20connection%20test&status=draft,publish&context=edit&after={}",
                began.format("%Y-%m-%dT%H:%M:%S")
            ))
            .await;
        if leftovers.as_array().is_some_and(|a| a.is_empty()) {
            break;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "test drafts left behind: {leftovers}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_article_is_published_once_with_images_terms_featured_media_and_seo_meta_then_updated_in_place() {
    let wp = wp_site();
    let admin = WpAdmin::new(&wp);
    let app = app().await;
    let (b, tid) = app.signup("Pub", "pub@example.com", "Pub Co").await;
    let (site, _) = add_site(&b, &wp.url, &wp.user, &wp.password, &wp.secret).await;
    let (task, slug) = article_task(&app, tid, "full").await;
    let before = balance(&b).await;
    let new_cat = unique("Trail running");
    let tags = [unique("grip"), unique("fit"), unique("care")];

    let (status, result, err) =
        publish(&app, &b, task, json!({ "site_id": site, "status": "publish", "categories": ["News", new_cat], "tags": tags })).await;
    assert_eq!(status, "succeeded", "{err:?}");
    assert_eq!(balance(&b).await, before, "publishing costs no credits");
    assert_eq!(result["warning"], Value::Null, "{result}");

    let found = admin.posts_with_slug(&slug).await;
    assert_eq!(found.len(), 1, "exactly one post: {found:?}");
    let post = &found[0];
    let post_id = post["id"].as_i64().unwrap();
    assert_eq!(post["status"], "publish");
    assert_eq!(result["post_id"], post_id);

    // Terms: "News" existed (its id reused), the new category and the three tags were created.
    let news = admin.get("/wp/v2/categories?search=News").await;
    let news_id = news.as_array().unwrap().iter().find(|c| c["name"] == "News").unwrap()["id"].as_i64().unwrap();
    let cats: Vec<i64> = post["categories"].as_array().unwrap().iter().map(|c| c.as_i64().unwrap()).collect();
    assert_eq!(cats.len(), 2);
    assert!(cats.contains(&news_id));
    let cat_names: Vec<String> = {
        let mut v = vec![];
        for c in &cats {
            v.push(admin.get(&format!("/wp/v2/categories/{c}")).await["name"].as_str().unwrap().to_string());
        }
        v
    };
    assert!(cat_names.contains(&new_cat), "{cat_names:?}");
    let mut tag_names = vec![];
    for t in post["tags"].as_array().unwrap() {
        tag_names.push(admin.get(&format!("/wp/v2/tags/{t}")).await["name"].as_str().unwrap().to_string());
    }
    tag_names.sort();
    let mut want = tags.to_vec();
    want.sort();
    assert_eq!(tag_names, want);

    // Images: three attached to the post, the featured one set, the content pointing at the site's copies.
    let media = admin.get(&format!("/wp/v2/media?parent={post_id}&per_page=20")).await;
    let media = media.as_array().unwrap();
    assert_eq!(media.len(), 3, "{media:?}");
    let featured = post["featured_media"].as_i64().unwrap();
    let fm = media.iter().find(|m| m["id"].as_i64() == Some(featured)).expect("featured media is one of the attachments");
    assert_eq!(fm["alt_text"], "A runner on a trail");
    let content = post["content"]["raw"].as_str().unwrap();
    assert!(!content.contains("/media/images/"), "{content}");
    for m in media.iter().filter(|m| m["id"].as_i64() != Some(featured)) {
        assert!(content.contains(m["source_url"].as_str().unwrap()), "content uses {}: {content}", m["source_url"]);
        assert!(content.contains(&format!("wp-image-{}", m["id"])), "{content}");
    }

    // SEO meta readable back through REST (the companion plugin registers the keys).
    assert_eq!(post["meta"]["igny8_meta_title"], format!("Meta {slug}"));
    assert_eq!(post["meta"]["igny8_meta_description"], format!("How to choose trail shoes ({slug})."));
    assert_eq!(post["meta"]["igny8_focus_keyword"], "trail shoes");
    assert_eq!(post["meta"]["igny8_task_id"], format!("{tid}:{task}"));
    assert_eq!(post["excerpt"]["raw"], format!("How to choose trail shoes ({slug})."));

    // IGNY8 keeps the remote id, URL and every step; the task reads published.
    let p = publication(&b, task).await;
    assert_eq!((p["remote_id"].as_i64(), p["remote_status"].as_str(), p["state"].as_str()), (Some(post_id), Some("publish"), Some("done")));
    assert_eq!(p["remote_url"], post["link"]);
    let steps: Vec<&str> = p["steps"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(steps, ["media", "content", "terms", "post", "attach", "seo"]);
    let t: Value = b.get(&format!("/api/writer/tasks/{task}")).await.json().await.unwrap();
    assert_eq!(t["status"], "published");
    let (_, page) = b.get_text(&format!("/writer/tasks/{task}/publishing")).await;
    assert!(page.contains(&format!("#{post_id}")) && page.contains("Update the post") && page.contains("Unpublish"), "{page}");

    // The companion plugin's signed endpoint lists the post with its task marker; unsigned or badly signed → 401.
    let route = "/igny8/v1/pull-updates";
    let since = (chrono::Utc::now() - chrono::Duration::minutes(2)).format("%Y-%m-%dT%H:%M:%S");
    let url = format!("{}/wp-json{route}?since={since}", wp.url);
    let http = reqwest::Client::new();
    let mut req = http.get(&url);
    for (k, v) in igny8::wordpress::sign::headers(&wp.secret, "GET", route, chrono::Utc::now().timestamp()) {
        req = req.header(k, v);
    }
    let updates: Value = req.send().await.unwrap().json().await.unwrap();
    let mine =
        updates["posts"].as_array().unwrap().iter().find(|p| p["id"].as_i64() == Some(post_id)).cloned().expect("our post in pull-updates");
    assert_eq!((mine["task_id"].clone(), mine["status"].clone()), (json!(format!("{tid}:{task}")), json!("publish")));
    assert_eq!(http.get(&url).send().await.unwrap().status(), 401);
    let mut forged = http.get(&url);
    for (k, v) in igny8::wordpress::sign::headers("not-the-secret", "GET", route, chrono::Utc::now().timestamp()) {
        forged = forged.header(k, v);
    }
    assert_eq!(forged.send().await.unwrap().status(), 401);

    // Publishing again (after an edit) updates the same post: no second post, no second upload.
    let r = b
        .api(reqwest::Method::PUT, &format!("/api/writer/tasks/{task}"), Some(json!({ "title": format!("Trail shoes guide, updated {slug}"), "slug": slug, "content_html": t["content_html"], "meta_title": format!("Meta {slug}"), "meta_description": "Updated description.", "status": "ready", "primary_keyword": "trail shoes" })))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (status, result, err) =
        publish(&app, &b, task, json!({ "site_id": site, "status": "publish", "categories": ["News"], "tags": tags })).await;
    assert_eq!(status, "succeeded", "{err:?}");
    assert_eq!(result["created"], false);
    let found = admin.posts_with_slug(&slug).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["id"].as_i64(), Some(post_id));
    assert!(found[0]["title"]["raw"].as_str().unwrap().contains("updated"));
    assert_eq!(found[0]["meta"]["igny8_meta_description"], "Updated description.");
    assert_eq!(
        admin.get(&format!("/wp/v2/media?parent={post_id}&per_page=20")).await.as_array().unwrap().len(),
        3,
        "images are not uploaded twice"
    );
    let steps = publication(&b, task).await["steps"].clone();
    assert!(steps.to_string().contains("0 uploaded, 3 already on the site"), "{steps}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_between_creating_the_post_and_storing_its_id_still_leaves_one_post() {
    let wp = wp_site();
    let admin = WpAdmin::new(&wp);
    // Web only: the job is queued here, then changed, then run by a replica's workers.
    let web = TestApp::spawn_with(&crate::harness::redis_url(), HashMap::from([("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())])).await;
    let (b, tid) = web.signup("Cra", "cra@example.com", "Cra Co").await;
    web.set_plan(tid, "agency").await;
    for (url, secret) in [(wp.url.clone(), wp.secret.clone()), (wp.plain_url.clone(), String::new())] {
        let (site, _) = add_site(&b, &url, &wp.user, &wp.password, &secret).await;
        let (task, slug) = article_task(&web, tid, "crash").await;
        let r = b.api_post(&format!("/api/publish/tasks/{task}"), json!({ "site_id": site, "status": "draft" })).await;
        assert_eq!(r.status(), 202);
        let job = r.json::<Value>().await.unwrap()["job_id"].as_i64().unwrap();
        // The first attempt stops right after WordPress created the post, as a killed process would.
        let mut conn = web.db().await;
        diesel::sql_query(format!("UPDATE jobs SET payload = payload || '{{\"crash_after_create_attempts\": 1}}' WHERE id = {job}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let worker =
            web.replica(HashMap::from([("IGNY8_WORKERS", "1".to_string()), ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())])).await;
        let (status, result, err) = wait_job(&worker, job).await;
        assert_eq!(status, "succeeded", "{url}: {err:?}");
        let attempts: i32 = jobs::table.filter(jobs::id.eq(job)).select(jobs::attempts).first(&mut conn).await.unwrap();
        assert_eq!(attempts, 2, "the first attempt was the rehearsed crash");
        let found = admin.posts_with_slug(&slug).await;
        assert_eq!(found.len(), 1, "{url}: one post after the retry: {found:?}");
        assert_eq!(result["post_id"], found[0]["id"]);
        assert_eq!(result["created"], false, "the retry adopted the post the crashed attempt made");
        let remote: Option<i64> =
            publications::table.filter(publications::task_id.eq(task)).select(publications::remote_id).first(&mut conn).await.unwrap();
        assert_eq!(remote, found[0]["id"].as_i64());
        let steps = publication(&b, task).await["steps"].to_string();
        assert!(steps.contains("adopted"), "{steps}");
        worker.kill_workers();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_upload_cut_short_by_a_crash_is_found_on_the_site_not_uploaded_twice() {
    let wp = wp_site();
    let admin = WpAdmin::new(&wp);
    let web = TestApp::spawn_with(&crate::harness::redis_url(), HashMap::from([("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())])).await;
    let (b, tid) = web.signup("Med", "med@example.com", "Med Co").await;
    let (site, _) = add_site(&b, &wp.url, &wp.user, &wp.password, &wp.secret).await;
    let (task, slug) = article_task(&web, tid, "media-crash").await;
    let r = b.api_post(&format!("/api/publish/tasks/{task}"), json!({ "site_id": site, "status": "draft" })).await;
    assert_eq!(r.status(), 202);
    let job = r.json::<Value>().await.unwrap()["job_id"].as_i64().unwrap();
    // The first attempt stops right after WordPress stored the first image, before IGNY8 noted it.
    let mut conn = web.db().await;
    diesel::sql_query(format!("UPDATE jobs SET payload = payload || '{{\"crash_after_upload_attempts\": 1}}' WHERE id = {job}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let worker = web.replica(HashMap::from([("IGNY8_WORKERS", "1".to_string()), ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())])).await;
    let (status, result, err) = wait_job(&worker, job).await;
    assert_eq!(status, "succeeded", "{err:?}");
    let attempts: i32 = jobs::table.filter(jobs::id.eq(job)).select(jobs::attempts).first(&mut conn).await.unwrap();
    assert_eq!(attempts, 2, "the first attempt was the rehearsed crash");
    // Each image is in the media library once, under its marker, and attached to the one post.
    let install = worker.state.install_id().await.unwrap();
    let imgs: Vec<(i64, String)> = igny8::db::schema::images::table
        .filter(igny8::db::schema::images::task_id.eq(task))
        .select((igny8::db::schema::images::id, igny8::db::schema::images::sha256))
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(imgs.len(), 3);
    for (id, sha) in &imgs {
        let marker = igny8::modules::publish::media::media_slug(&install, tid, *id, sha);
        let found = admin.get(&format!("/wp/v2/media?slug={marker}&context=edit")).await;
        let found = found.as_array().unwrap();
        assert_eq!(found.len(), 1, "image {id}: one media item: {found:?}");
        assert_eq!(found[0]["post"], result["post_id"], "attached to the post");
    }
    let post = admin.posts_with_slug(&slug).await;
    assert_eq!(post.len(), 1);
    let steps = publication(&b, task).await["steps"].to_string();
    assert!(steps.contains("1 found on the site from an interrupted attempt"), "{steps}");
    worker.kill_workers();
}

#[tokio::test(flavor = "multi_thread")]
async fn trashed_and_deleted_posts_are_seen_by_status_sync_and_never_recreated() {
    let wp = wp_site();
    let admin = WpAdmin::new(&wp);
    let app = app().await;
    let (b, tid) = app.signup("Syn", "syn@example.com", "Syn Co").await;
    app.set_plan(tid, "agency").await;
    let (site, _) = add_site(&b, &wp.url, &wp.user, &wp.password, &wp.secret).await;
    let (trashed, slug_t) = article_task(&app, tid, "trash").await;
    let (deleted, slug_d) = article_task(&app, tid, "gone").await;
    let (kept, _) = article_task(&app, tid, "kept").await;
    for t in [trashed, deleted, kept] {
        assert_eq!(publish(&app, &b, t, json!({ "site_id": site, "status": "publish" })).await.0, "succeeded");
    }
    let id_t = publication(&b, trashed).await["remote_id"].as_i64().unwrap();
    let id_d = publication(&b, deleted).await["remote_id"].as_i64().unwrap();
    assert_eq!(admin.delete(&format!("/wp/v2/posts/{id_t}")).await, 200, "moved to the trash");
    assert_eq!(admin.delete(&format!("/wp/v2/posts/{id_d}?force=true")).await, 200, "deleted for good");

    let r = b.api_post(&format!("/api/sites/{site}/sync"), json!({})).await;
    assert_eq!(r.status(), 202);
    let (status, result, err) = wait_job(&app, r.json::<Value>().await.unwrap()["job_id"].as_i64().unwrap()).await;
    assert_eq!(status, "succeeded", "{err:?}");
    assert_eq!((result["checked"].as_i64(), result["changed"].as_i64()), (Some(3), Some(2)), "{result}");
    assert_eq!(publication(&b, trashed).await["remote_status"], "trash");
    assert_eq!(publication(&b, deleted).await["remote_status"], "deleted");
    assert_eq!(publication(&b, kept).await["remote_status"], "publish");
    let status_of = |t: i64| {
        let b = &b;
        async move { b.get(&format!("/api/writer/tasks/{t}")).await.json::<Value>().await.unwrap()["status"].clone() }
    };
    assert_eq!(status_of(trashed).await, "ready");
    assert_eq!(status_of(kept).await, "published");
    let (_, page) = b.get_text(&format!("/writer/tasks/{trashed}/publishing")).await;
    assert!(page.contains("moved to the trash") && page.contains("Publish as a new post"), "{page}");

    // Publishing again (what automation calls) refuses: nothing is re-created on the site.
    for t in [trashed, deleted] {
        let r = b.api_post(&format!("/api/publish/tasks/{t}"), json!({ "site_id": site, "status": "publish" })).await;
        assert_eq!(r.status(), 409, "{}", r.text().await.unwrap());
    }
    assert_eq!(admin.posts_with_slug(&slug_t).await.len(), 1, "still only the trashed one");
    assert!(admin.posts_with_slug(&slug_d).await.is_empty());

    // Asked for explicitly, it becomes a new post.
    let (status, result, _) = publish(&app, &b, deleted, json!({ "site_id": site, "status": "publish", "as_new_post": true })).await;
    assert_eq!((status.as_str(), result["created"].as_bool()), ("succeeded", Some(true)));
    assert_eq!(admin.posts_with_slug(&slug_d).await.len(), 1);

    // A live article cannot move to another site; once unpublished it can.
    let (other_site, _) = add_site(&b, &wp.plain_url, &wp.user, &wp.password, "").await;
    let r = b.api_post(&format!("/api/publish/tasks/{kept}"), json!({ "site_id": other_site, "status": "draft" })).await;
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().await.unwrap()["error"]["fields"]["site_id"].as_str().unwrap().contains("live on another site"));

    // Unpublish takes a live post back to draft.
    let r = b.api_post(&format!("/api/publish/tasks/{kept}/unpublish"), json!({})).await;
    assert_eq!(r.status(), 202);
    assert_eq!(wait_job(&app, r.json::<Value>().await.unwrap()["job_id"].as_i64().unwrap()).await.0, "succeeded");
    let id_k = publication(&b, kept).await["remote_id"].as_i64().unwrap();
    assert_eq!(admin.get(&format!("/wp/v2/posts/{id_k}?context=edit")).await["status"], "draft");
    assert_eq!(status_of(kept).await, "ready");
    let r = b.api_post(&format!("/api/publish/tasks/{kept}"), json!({ "site_id": other_site, "status": "draft" })).await;
    assert_eq!(r.status(), 202, "unpublished, it may go to the other site");
    assert_eq!(publication(&b, kept).await["site_id"].as_i64(), Some(other_site));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_companion_plugin_the_post_is_published_and_the_dropped_seo_meta_is_a_warning() {
    let wp = wp_site();
    let admin = WpAdmin::new(&wp);
    let app = app().await;
    let (b, tid) = app.signup("Pla", "pla@example.com", "Pla Co").await;
    let (site, _) = add_site(&b, &wp.plain_url, &wp.user, &wp.password, "").await;
    let (task, slug) = article_task(&app, tid, "plain").await;
    let (status, result, err) = publish(&app, &b, task, json!({ "site_id": site, "status": "draft" })).await;
    assert_eq!(status, "succeeded", "{err:?}");
    let warning = result["warning"].as_str().expect("a warning about the SEO meta");
    assert!(warning.contains("SEO meta not saved") && warning.contains("companion plugin"), "{warning}");
    let p = publication(&b, task).await;
    assert_eq!(p["warning"].as_str(), Some(warning));
    assert_eq!(admin.posts_with_slug(&slug).await.len(), 1);
    // A draft on the site: the task keeps its own status.
    let t: Value = b.get(&format!("/api/writer/tasks/{task}")).await.json().await.unwrap();
    assert_eq!(t["status"], "ready");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_private_address_is_refused_when_the_setting_is_off_even_for_a_stored_site() {
    let wp = wp_site();
    let web = TestApp::spawn_with(&crate::harness::redis_url(), HashMap::from([("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())])).await;
    let (b, tid) = web.signup("Prv", "prv@example.com", "Prv Co").await;
    let (site, _) = add_site(&b, &wp.url, &wp.user, &wp.password, "").await;
    let (task, slug) = article_task(&web, tid, "private").await;
    let r = b.api_post(&format!("/api/publish/tasks/{task}"), json!({ "site_id": site, "status": "publish" })).await;
    assert_eq!(r.status(), 202);
    let job = r.json::<Value>().await.unwrap()["job_id"].as_i64().unwrap();
    // A replica with the setting off runs the job: refused before any call, nothing on the site.
    let strict = web.replica(HashMap::from([("IGNY8_WORKERS", "1".to_string())])).await;
    let (status, _, err) = wait_job(&strict, job).await;
    assert_eq!(status, "failed", "{err:?}");
    assert!(err.unwrap().contains("private or local address"));
    assert!(WpAdmin::new(&wp).posts_with_slug(&slug).await.is_empty());
    let p = publication(&b, task).await;
    assert_eq!(p["state"], "failed");
    let t: Value = b.get(&format!("/api/writer/tasks/{task}")).await.json().await.unwrap();
    assert_eq!(t["status"], "ready", "the task gets its status back");
    strict.kill_workers();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_post_goes_out_as_future_with_its_date_and_author_through_rest_route() {
    let wp = wp_site();
    let admin = WpAdmin::new(&wp);
    let app = app().await;
    let (b, tid) = app.signup("Sch", "sch@example.com", "Sch Co").await;
    let author = admin.get("/wp/v2/users?slug=igny8-author&context=edit").await[0]["id"].as_i64().expect("the author user");
    let r = b
        .api_post("/api/sites", json!({ "name": "No permalinks", "base_url": wp.nopretty_url, "username": wp.user, "app_password": wp.password, "default_author": author }))
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let site = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let report: Value = b.api_post(&format!("/api/sites/{site}/check"), json!({})).await.json().await.unwrap();
    assert_eq!(report["root"], "rest_route", "{report}");
    let (task, slug) = article_task(&app, tid, "sched").await;

    // Validation first: a date in the past, or none, is refused with the field named; nothing is queued.
    for when in ["2020-01-01T10:00", ""] {
        let r =
            b.api_post(&format!("/api/publish/tasks/{task}"), json!({ "site_id": site, "status": "future", "scheduled_at": when })).await;
        assert_eq!(r.status(), 422);
        assert!(r.json::<Value>().await.unwrap()["error"]["fields"]["scheduled_at"].is_string());
    }
    let r = b
        .api_post(&format!("/api/publish/tasks/{task}"), json!({ "site_id": site, "status": "sometime", "tags": ["x".repeat(101)] }))
        .await;
    assert_eq!(r.status(), 422);
    let fields = r.json::<Value>().await.unwrap()["error"]["fields"].clone();
    assert!(fields["status"].is_string() && fields["tags"].is_string(), "{fields}");
    assert_eq!(app.count("publications").await, 0);

    let at = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%dT%H:%M:00Z").to_string();
    let (status, _, err) = publish(&app, &b, task, json!({ "site_id": site, "status": "future", "scheduled_at": at })).await;
    assert_eq!(status, "succeeded", "{err:?}");
    let found = admin.posts_with_slug(&slug).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["status"], "future");
    assert_eq!(found[0]["date_gmt"].as_str().unwrap(), &at[..19]);
    assert_eq!(found[0]["author"].as_i64(), Some(author));
    let t: Value = b.get(&format!("/api/writer/tasks/{task}")).await.json().await.unwrap();
    assert_eq!(t["status"], "published", "scheduled counts as published");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_publish_job_does_not_leave_the_article_stuck() {
    let wp = wp_site();
    // Web only: the publish job stays queued until it is cancelled.
    let web = TestApp::spawn_with(&crate::harness::redis_url(), HashMap::from([("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())])).await;
    let (b, tid) = web.signup("Can", "can@example.com", "Can Co").await;
    let (site, _) = add_site(&b, &wp.url, &wp.user, &wp.password, "").await;
    let (task, _) = article_task(&web, tid, "cancel").await;
    let r = b.api_post(&format!("/api/publish/tasks/{task}"), json!({ "site_id": site, "status": "draft" })).await;
    let job = r.json::<Value>().await.unwrap()["job_id"].as_i64().unwrap();
    let (_, panel) = b.get_text(&format!("/writer/tasks/{task}/publishing")).await;
    assert!(panel.contains("Working on it") && panel.contains("every 2s"), "{panel}");
    assert_eq!(b.api_post(&format!("/api/publish/tasks/{task}"), json!({ "site_id": site })).await.status(), 409, "one run at a time");

    assert_eq!(b.api_post(&format!("/api/system/jobs/{job}/cancel"), json!({})).await.status(), 200);
    let (_, panel) = b.get_text(&format!("/writer/tasks/{task}/publishing")).await;
    assert!(!panel.contains("Working on it") && panel.contains(">Publish</button>"), "{panel}");
    let r = b.api_post(&format!("/api/publish/tasks/{task}"), json!({ "site_id": site, "status": "draft" })).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
}
