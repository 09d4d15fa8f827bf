//! The import itself: counts and hashes of every table match the source, every skipped or repaired row is
//! reported with its reason, a second run writes nothing, a source change rewrites only that row, a dry run
//! and a failure half-way leave the workspace exactly as it was.

use std::collections::BTreeMap;
use std::process::Command;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::modules::migration::report::Report;
use igny8::modules::migration::run::{Options, import};

use super::source::{MySrc, fill};
use crate::harness::{SECRET, TestApp};

pub fn options(src: &MySrc, tenant_id: i64) -> Options {
    Options {
        mysql_url: src.url.clone(),
        tenant: tenant_id.to_string(),
        prefix: "wp_".into(),
        dry_run: false,
        site: None,
        actor: "test".into(),
    }
}

pub async fn run(app: &TestApp, opts: &Options) -> Report {
    import(&app.state, opts).await.expect("the import runs")
}

#[derive(QueryableByName)]
struct Sum {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    h: String,
}

/// Every table an import may touch: its row count and a hash of all its rows (every column, updated_at too).
pub async fn snapshot(app: &TestApp) -> BTreeMap<&'static str, (i64, String)> {
    let mut conn = app.db().await;
    let mut out = BTreeMap::new();
    for t in [
        "keywords",
        "clusters",
        "content_ideas",
        "tasks",
        "images",
        "author_profiles",
        "strategies",
        "prompt_overrides",
        "ai_settings",
        "credit_ledger",
        "tenants",
        "sites",
        "publications",
        "published_media",
        "migration_map",
        "audit_events",
    ] {
        let s: Sum = diesel::sql_query(format!(
            "SELECT count(*)::bigint AS n, coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') AS h FROM {t} x"
        ))
        .get_result(&mut conn)
        .await
        .unwrap();
        out.insert(t, (s.n, s.h));
    }
    out
}

fn table<'a>(r: &'a Report, name: &str) -> &'a igny8::modules::migration::report::TableReport {
    r.tables.iter().find(|t| t.table == name).unwrap_or_else(|| panic!("no {name} in the report: {}", r.text(0)))
}

fn reason<'a>(r: &'a Report, table: &str, id: &str) -> &'a str {
    r.issues
        .iter()
        .find(|i| i.table == table && i.source_id == id)
        .map(|i| i.reason.as_str())
        .unwrap_or_else(|| panic!("no issue for {table} #{id}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn import_wp_matches_the_source_table_by_table_and_explains_every_skip() {
    let app = TestApp::spawn().await;
    let (owner, tenant_id) = app.signup("Olive Owner", "owner-import@example.com", "Imported Co").await;
    app.set_plan(tenant_id, "agency").await;
    let viewer = app.join(&owner, "viewer-import@example.com", "viewer").await;
    let mut src = MySrc::create("cmd").await;
    let made = fill(&mut src, 3000, 300, &[]).await;

    // Through the command, as an operator runs it (workspace named by its name).
    let out = Command::new(env!("CARGO_BIN_EXE_igny8"))
        .args(["import-wp", "--mysql", &src.url, "--tenant", "imported co", "--prefix", "wp_"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.db_url)
        .env("REDIS_URL", crate::harness::redis_url())
        .env("IGNY8_SECRET_KEY", SECRET)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("counts and hashes check out"), "{stdout}");
    assert!(!stdout.contains("mysql://igny8_src:igny8-src-local"), "the password is never printed: {stdout}");

    // The kept report: every table's hashes match, and source = imported + skipped.
    let mut conn = app.db().await;
    use igny8::db::schema::migration_runs;
    let report: serde_json::Value = migration_runs::table
        .filter(migration_runs::tenant_id.eq(tenant_id))
        .select(migration_runs::report)
        .first(&mut conn)
        .await
        .unwrap();
    let r: Report = serde_json::from_value(report).unwrap();
    let mut r = r;
    let run_id: i64 =
        migration_runs::table.filter(migration_runs::tenant_id.eq(tenant_id)).select(migration_runs::id).first(&mut conn).await.unwrap();
    use igny8::db::schema::migration_issues;
    let all: Vec<(String, String, String, String)> = migration_issues::table
        .filter(migration_issues::tenant_id.eq(tenant_id))
        .filter(migration_issues::run_id.eq(run_id))
        .order(migration_issues::seq)
        .select((migration_issues::source_table, migration_issues::source_id, migration_issues::kind, migration_issues::reason))
        .load(&mut conn)
        .await
        .unwrap();
    r.issues = all
        .into_iter()
        .map(|(table, source_id, kind, reason)| igny8::modules::migration::report::Issue { table, source_id, kind, reason })
        .collect();
    assert!(r.ok && r.error.is_none());
    for t in &r.tables {
        assert!(t.ok && t.hashes_equal() && t.mismatched.is_empty(), "{}", r.text(0));
        assert_eq!(t.source_rows, t.imported + t.skipped, "{}", t.table);
    }
    let kw = table(&r, "wp_igny8_keywords");
    assert_eq!(
        (kw.source_rows, kw.skipped, kw.imported),
        (made.keywords as i64, made.keyword_skips as i64, (made.keywords - made.keyword_skips) as i64)
    );
    assert_eq!(app.count("keywords").await, (made.keywords - made.keyword_skips) as i64);
    assert_eq!(table(&r, "wp_igny8_clusters").imported, made.clusters as i64 - 1);
    assert_eq!(table(&r, "wp_igny8_tasks + wp_posts").imported, made.tasks as i64);
    assert_eq!(app.count("tasks").await, made.tasks as i64);
    assert_eq!(r.not_imported, vec![("wp_igny8_logs".to_string(), 2, igny8::modules::migration::mapping::NOT_IMPORTED[1].1.to_string())]);

    // Each bad case, imported sensibly or skipped, with its line.
    assert!(reason(&r, "wp_igny8_keywords", "2").contains("duplicate of keyword 1"));
    assert!(reason(&r, "wp_igny8_keywords", "3").contains("duplicate of keyword 1"));
    assert!(reason(&r, "wp_igny8_keywords", "4").contains("cluster 99999 does not exist"));
    assert!(reason(&r, "wp_igny8_keywords", "7").contains("zero date"));
    assert!(reason(&r, "wp_igny8_clusters", "1").contains("not UTF-8"));
    assert!(reason(&r, "wp_igny8_clusters", "3").contains("duplicate of cluster 2"));
    assert!(reason(&r, "wp_igny8_content_ideas", "1").contains("not UTF-8"));
    assert!(reason(&r, "wp_igny8_content_ideas", "2").contains("NUL characters removed"));
    assert!(reason(&r, "wp_igny8_tasks + wp_posts", "6").contains("post 66666 does not exist"));
    assert!(reason(&r, "wp_igny8_tasks + wp_posts", "8").contains("idea 5 already has a task"));
    assert!(reason(&r, "wp_posts", "900001").contains("task 424242"));
    assert!(reason(&r, "wp_igny8_images", "999001").contains("task 88888 does not exist"));
    assert!(reason(&r, "wp_igny8_images", "999002").contains("second featured image"));
    assert!(
        r.issues.iter().any(|i| i.reason.contains("igny8_strategies") && i.reason.contains("does not match")),
        "broken serialized array skipped"
    );
    assert!(r.issues.iter().any(|i| i.reason.contains("igny8_unheard_of") && i.reason.contains("no counterpart")));
    assert!(r.issues.iter().any(|i| i.table == "wp_igny8_prompts" && i.reason.contains("[IGNY8_FOO]")));

    // What landed: repaired text, the case-duplicate merged, the article cleaned, settings, credits.
    #[derive(QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    let one = |sql: &str| diesel::sql_query(sql.to_string());
    let name: T = one("SELECT name AS t FROM clusters WHERE name LIKE 'Caf%'").get_result(&mut conn).await.unwrap();
    assert_eq!(name.t, "Café guides");
    let kw5: T =
        one("SELECT c.name AS t FROM keywords k JOIN clusters c ON c.id = k.cluster_id WHERE k.keyword = 'keyword in a duplicate cluster'")
            .get_result(&mut conn)
            .await
            .unwrap();
    assert_eq!(kw5.t, "running shoes", "a keyword of the duplicate cluster goes to the first one");
    let desc: T = one("SELECT description AS t FROM content_ideas WHERE title LIKE 'Idea 1:%'").get_result(&mut conn).await.unwrap();
    assert_eq!(desc.t, "old ét Ã");
    let html: T = one("SELECT content_html || '|' || meta_title || '|' || meta_description || '|' || slug || '|' || status AS t FROM tasks WHERE title LIKE 'Task 1:%'")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert!(!html.t.contains("<script"), "{}", html.t);
    assert!(html.t.ends_with("|Meta title 1|Description of article 1.|task-1-article|ready"), "{}", html.t);
    let marker: T = one("SELECT slug AS t FROM tasks WHERE title LIKE 'Task 4:%'").get_result(&mut conn).await.unwrap();
    assert_eq!(marker.t, "task-4-article", "found through its post's marker meta");
    let s = igny8::ai::settings::load(&mut conn, tenant_id).await.unwrap();
    assert_eq!(
        (s.text_provider.as_str(), s.text_model.as_str(), s.image_model.as_str(), s.images_per_article),
        ("openai", "gpt-4o", "dall-e-3", 4)
    );
    assert_eq!(app.state.vault.open(s.text_api_key_enc.as_deref().unwrap()).unwrap(), "sk-test-plugin-key-0001");
    let bal: T =
        one(&format!("SELECT string_agg(reason || ':' || delta, ',' ORDER BY id) AS t FROM credit_ledger WHERE tenant_id = {tenant_id}"))
            .get_result(&mut conn)
            .await
            .unwrap();
    assert_eq!(bal.t, "plan_grant:25,migration:1234");
    let names: T = one(
        "SELECT string_agg(name, ',' ORDER BY name) AS t FROM (SELECT name FROM author_profiles UNION ALL SELECT name FROM strategies) x",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(names.t, "Coach,Pillar hub,Review,Zoë M");
    let prompt: T = one("SELECT key || ':' || template AS t FROM prompt_overrides").get_result(&mut conn).await.unwrap();
    assert_eq!(prompt.t, "clustering:Group these keywords by topic: [IGNY8_KEYWORDS]");

    // Settings → Migration: owners and admins see the report and each skipped row with its reason.
    let (status, page) = owner.get_text("/settings/migration?kind=skipped&per_page=200").await;
    assert_eq!(status, 200);
    for needle in
        ["wp_igny8_keywords", "duplicate of keyword 1 (differs at most in case)", "its task 88888 does not exist in the source", "match"]
    {
        assert!(page.contains(needle), "page lacks {needle}");
    }
    assert_eq!(viewer.get("/settings/migration").await.status(), 403);
    src.drop_db().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_run_writes_only_what_changed_and_a_dry_run_writes_nothing() {
    let app = TestApp::spawn().await;
    let (_, tenant_id) = app.signup("Olive Owner", "owner-again@example.com", "Again Co").await;
    let mut src = MySrc::create("again").await;
    fill(&mut src, 1200, 60, &[]).await;
    let opts = options(&src, tenant_id);
    // A keyword typed in IGNY8 before the import: the plugin's copy is left out, and said so.
    let mut conn = app.db().await;
    diesel::sql_query(format!("INSERT INTO keywords (tenant_id, keyword) VALUES ({tenant_id}, 'Keyword 13 TRAIL')"))
        .execute(&mut conn)
        .await
        .unwrap();
    let r = run(&app, &opts).await;
    assert!(r.ok, "{}", r.text(5));
    assert!(reason(&r, "wp_igny8_keywords", "13").contains("already in the workspace"));
    assert_eq!(table(&r, "wp_igny8_keywords").skipped, 4);
    let first = snapshot(&app).await;
    let runs = app.count("migration_runs").await;

    // Again, unchanged: nothing is written, nothing duplicated.
    let r = run(&app, &opts).await;
    assert!(r.ok, "{}", r.text(5));
    for t in &r.tables {
        assert_eq!((t.inserted, t.updated), (0, 0), "{}", t.table);
        assert!(t.hashes_equal(), "{}", t.table);
    }
    let mut after = snapshot(&app).await;
    after.remove("audit_events");
    let mut before = first.clone();
    before.remove("audit_events");
    assert_eq!(before, after, "an unchanged source changes no row");

    // One keyword changed and one added in WordPress.
    src.exec("UPDATE wp_igny8_keywords SET search_volume = 4242 WHERE id = 100").await;
    src.exec("INSERT INTO wp_igny8_keywords (id, keyword, search_volume) VALUES (5000, 'brand new keyword', 10)").await;

    // The dry run shows exactly that, and keeps nothing (not even its report).
    let before = snapshot(&app).await;
    let runs_before = app.count("migration_runs").await;
    let dry = run(&app, &Options { dry_run: true, ..opts.clone() }).await;
    assert!(dry.ok && dry.dry_run);
    let kw = table(&dry, "wp_igny8_keywords");
    assert_eq!((kw.inserted, kw.updated), (1, 1));
    assert_eq!(snapshot(&app).await, before, "a dry run writes nothing");
    assert_eq!(app.count("migration_runs").await, runs_before);
    assert!(runs_before > runs);

    #[derive(QueryableByName, Debug, PartialEq)]
    struct K {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let dump = || async {
        let mut conn = app.db().await;
        diesel::sql_query("SELECT id, k::text AS row FROM keywords k ORDER BY id").load::<K>(&mut conn).await.unwrap()
    };
    let old = dump().await;
    let r = run(&app, &opts).await;
    assert!(r.ok, "{}", r.text(5));
    let kw = table(&r, "wp_igny8_keywords");
    assert_eq!((kw.inserted, kw.updated, kw.unchanged), (1, 1, kw.imported - 2));
    let new = dump().await;
    assert_eq!(new.len(), old.len() + 1);
    let changed: Vec<&K> = new.iter().filter(|n| !old.contains(n)).collect();
    assert_eq!(changed.len(), 2, "{changed:?}");
    assert!(changed.iter().any(|k| k.row.contains("brand new keyword")));
    assert!(changed.iter().any(|k| k.row.contains("4242")));
    for t in r.tables.iter().filter(|t| t.table != "wp_igny8_keywords") {
        assert_eq!((t.inserted, t.updated), (0, 0), "{}", t.table);
    }

    // Edited in IGNY8 since, unchanged in WordPress: kept, and said so.
    let mut conn = app.db().await;
    let n = diesel::sql_query("UPDATE keywords SET volume = 1 WHERE keyword = 'keyword 11 gear'").execute(&mut conn).await.unwrap();
    assert_eq!(n, 1);
    let r = run(&app, &opts).await;
    assert!(r.ok, "{}", r.text(5));
    assert_eq!(table(&r, "wp_igny8_keywords").edited, 1);
    assert!(r.text(0).contains("1 edited in IGNY8 since, kept"));
    let kept: i64 = igny8::db::schema::keywords::table
        .filter(igny8::db::schema::keywords::keyword.eq("keyword 11 gear"))
        .select(igny8::db::schema::keywords::volume.assume_not_null())
        .first::<i32>(&mut conn)
        .await
        .unwrap()
        .into();
    assert_eq!(kept, 1);
    src.drop_db().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_table_that_cannot_be_read_rolls_the_whole_import_back() {
    let app = TestApp::spawn().await;
    let (_, tenant_id) = app.signup("Olive Owner", "owner-fail@example.com", "Fail Co").await;
    let mut src = MySrc::create("fail").await;
    fill(&mut src, 600, 30, &[]).await;

    // The first run into an empty workspace fails at the tasks (after keywords were written): nothing stays.
    src.exec("RENAME TABLE wp_igny8_tasks TO wp_igny8_tasks_real").await;
    src.exec("CREATE TABLE gone (id INT)").await;
    src.exec("CREATE VIEW wp_igny8_tasks AS SELECT id, id AS title FROM gone").await;
    src.exec("DROP TABLE gone").await;
    let empty = snapshot(&app).await;
    let r = run(&app, &options(&src, tenant_id)).await;
    let err = r.error.clone().expect("the run fails");
    assert!(err.contains("wp_igny8_tasks"), "{err}");
    assert!(r.tables.iter().any(|t| t.table == "wp_igny8_keywords" && t.inserted > 0), "keywords had been written before the failure");
    assert_eq!(snapshot(&app).await, empty, "nothing of the failed run is kept");
    assert!(r.text(0).contains("Nothing of this run was kept"));

    // A good run, then a change and the broken table again: the workspace stays as the good run left it.
    src.exec("DROP VIEW wp_igny8_tasks").await;
    src.exec("RENAME TABLE wp_igny8_tasks_real TO wp_igny8_tasks").await;
    assert!(run(&app, &options(&src, tenant_id)).await.ok);
    let good = snapshot(&app).await;
    src.exec("INSERT INTO wp_igny8_keywords (id, keyword) VALUES (7001, 'added before the failure')").await;
    src.exec("UPDATE wp_igny8_clusters SET description = 'changed' WHERE id = 5").await;
    src.exec("RENAME TABLE wp_igny8_tasks TO wp_igny8_tasks_real").await;
    src.exec("CREATE TABLE gone (id INT)").await;
    src.exec("CREATE VIEW wp_igny8_tasks AS SELECT id, id AS title FROM gone").await;
    src.exec("DROP TABLE gone").await;
    let r = run(&app, &options(&src, tenant_id)).await;
    assert!(r.error.is_some());
    assert_eq!(snapshot(&app).await, good, "the workspace is as the last good run left it");

    // The failure is kept for Settings → Migration.
    #[derive(QueryableByName)]
    struct F {
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        error: Option<String>,
    }
    let mut conn = app.db().await;
    let runs: Vec<F> = diesel::sql_query("SELECT status, error FROM migration_runs ORDER BY id").load(&mut conn).await.unwrap();
    assert_eq!(runs.iter().map(|f| f.status.as_str()).collect::<Vec<_>>(), ["failed", "done", "failed"]);
    assert!(runs[2].error.as_deref().unwrap().contains("wp_igny8_tasks"));
    src.drop_db().await;
}
