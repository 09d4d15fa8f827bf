//! Switching over against the real test WordPress: posts made there (as the plugin made them) are referenced
//! from the plugin-shaped database; after the import they are linked to their tasks, and the status sync
//! marks the published ones published — without creating a post.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::{publications, tasks};
use igny8::modules::migration::run::SiteLogin;
use serde_json::{Value, json};

use super::import::{options, run};
use super::source::{MySrc, fill};
use crate::harness::TestApp;
use crate::planner::support::wait_job;
use crate::wordpress::WpAdmin;
use crate::wp_site::{unique, wp_site};

async fn make_post(site: &crate::wp_site::WpSite, slug: &str, status: &str) -> i64 {
    let r = reqwest::Client::new()
        .post(format!("{}/wp-json/wp/v2/posts", site.url))
        .basic_auth(&site.user, Some(&site.password))
        .json(
            &json!({ "title": format!("Plugin article {slug}"), "slug": slug, "status": status, "content": "<p>Made by the plugin.</p>" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_site_is_connected_its_posts_linked_and_sync_marks_them_published_without_new_posts() {
    let site = wp_site();
    let wp = WpAdmin::new(&site);
    // Web only while the import runs, so the links are read before the queued sync runs (a replica's worker runs it).
    let app = TestApp::spawn_with(&crate::harness::redis_url(), HashMap::from([("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())])).await;
    let (_, tenant_id) = app.signup("Olive Owner", &format!("{}@example.com", unique("switch")), "Switch Co").await;
    app.set_plan(tenant_id, "agency").await;

    let mut real = vec![];
    for status in ["publish", "publish", "draft"] {
        let slug = unique("plugin-post");
        let id = make_post(&site, &slug, status).await;
        real.push((id, status.to_string(), slug));
    }
    let mut src = MySrc::create("switch").await;
    fill(&mut src, 120, 9, &real).await;
    // Only the posts above exist in this WordPress.
    src.exec("DELETE FROM wp_posts WHERE ID >= 100000").await;

    // Without the application password the site is not connected, and the report says how to.
    let r = run(&app, &options(&src, tenant_id)).await;
    assert!(r.ok, "{}", r.text(10));
    assert!(r.site.as_ref().unwrap().outcome.contains("IGNY8_WP_APP_PASSWORD"), "{:?}", r.site);
    assert_eq!(app.count("publications").await, 0);

    let login = SiteLogin { url: String::new(), user: site.user.clone(), app_password: site.password.clone() };
    let opts = igny8::modules::migration::run::Options { site: Some(login), ..options(&src, tenant_id) };
    let r = run(&app, &opts).await;
    assert!(r.ok, "{}", r.text(10));
    let s = r.site.clone().unwrap();
    assert_eq!((s.outcome.as_str(), s.linked, s.already_linked), ("connected", 3, 0), "{}", r.text(10));
    assert_eq!(s.url, site.url, "the siteurl option names the site");
    assert!(s.default_author.as_deref().unwrap().contains("editor-admin"), "{s:?}");

    // Each post is linked to its task with its remote id, as the publish job stores it.
    let mut conn = app.db().await;
    let linked: Vec<(i64, Option<i64>, String, String)> = publications::table
        .inner_join(tasks::table.on(tasks::id.eq(publications::task_id).and(tasks::tenant_id.eq(publications::tenant_id))))
        .filter(publications::tenant_id.eq(tenant_id))
        .order(publications::remote_id)
        .select((publications::task_id, publications::remote_id, publications::remote_status, tasks::status))
        .load(&mut conn)
        .await
        .unwrap();
    let mut want: Vec<(Option<i64>, String, String)> =
        real.iter().map(|(id, st, _)| (Some(*id), st.clone(), if st == "publish" { "ready" } else { "draft" }.to_string())).collect();
    want.sort();
    assert_eq!(linked.iter().map(|l| (l.1, l.2.clone(), l.3.clone())).collect::<Vec<_>>(), want);

    // The status sync the import queued marks the published ones published; no post is created.
    let worker = app.replica(HashMap::from([("IGNY8_WORKERS", "1".to_string()), ("IGNY8_ALLOW_PRIVATE_TARGETS", "on".to_string())])).await;
    let (status, result, err) = wait_job(&worker, s.sync_job.expect("sync queued")).await;
    assert_eq!(status, "succeeded", "{err:?} {result}");
    let statuses: Vec<(Option<i64>, String, String)> = publications::table
        .inner_join(tasks::table.on(tasks::id.eq(publications::task_id).and(tasks::tenant_id.eq(publications::tenant_id))))
        .filter(publications::tenant_id.eq(tenant_id))
        .order(publications::remote_id)
        .select((publications::remote_id, tasks::status, publications::remote_url))
        .load(&mut conn)
        .await
        .unwrap();
    for ((id, st, slug), (rid, task_status, url)) in real.iter().zip(statuses.iter()) {
        assert_eq!(Some(*id), *rid);
        assert_eq!(task_status, if st == "publish" { "published" } else { "draft" });
        assert!(url.contains(slug) || st != "publish", "the sync read the post's link: {url}");
        assert_eq!(wp.posts_with_slug(slug).await.len(), 1, "no duplicate of {slug}");
    }

    // Importing again links nothing twice and makes no post.
    let tables = ["tasks", "publications", "published_media", "sites", "keywords"];
    let mut before = vec![];
    for t in tables {
        before.push(app.count(t).await);
    }
    let r = run(&app, &opts).await;
    let s = r.site.clone().unwrap();
    assert_eq!((s.linked, s.already_linked), (0, 3), "{}", r.text(5));
    let (status, _, _) = wait_job(&app, s.sync_job.expect("sync queued")).await;
    assert_eq!(status, "succeeded");
    let mut after = vec![];
    for t in tables {
        after.push(app.count(t).await);
    }
    assert_eq!(after, before);
    for (_, _, slug) in &real {
        assert_eq!(wp.posts_with_slug(slug).await.len(), 1, "no duplicate of {slug}");
    }
    src.drop_db().await;
}
