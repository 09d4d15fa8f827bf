//! The restore drill (`igny8 backup`, then `igny8 restore` into a new database: the same rows, table by table)
//! and retention (only backups past the limit are removed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use igny8::crypto::secrets::random_token;

use crate::harness::{SECRET, TestApp};

fn igny8(db_url: &str, args: &[&str], extra: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_igny8"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url)
        .env("REDIS_URL", crate::harness::redis_url())
        .env("IGNY8_SECRET_KEY", SECRET)
        .current_dir(std::env::temp_dir());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("igny8-{tag}-{}", random_token(6).replace(['-', '_'], "x")));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Fingerprint {
    #[diesel(sql_type = BigInt)]
    rows: i64,
    #[diesel(sql_type = Text)]
    checksum: String,
}

/// Row count and a checksum of every row's text (in a fixed order) of every table, and each sequence's state.
async fn fingerprint(url: &str) -> BTreeMap<String, (i64, String)> {
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    let tables: Vec<Name> = diesel::sql_query("SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        .load(&mut conn)
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for t in tables {
        let sql = format!(
            "SELECT count(*)::bigint AS rows, md5(COALESCE(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS checksum FROM \"{}\" t",
            t.name
        );
        let f: Fingerprint = diesel::sql_query(sql).get_result(&mut conn).await.unwrap();
        out.insert(t.name, (f.rows, f.checksum));
    }
    let seqs: Vec<Name> = diesel::sql_query(
        "SELECT sequencename || '=' || COALESCE(last_value::text, 'unused') AS name FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1",
    )
    .load(&mut conn)
    .await
    .unwrap();
    out.insert("(sequences)".into(), (seqs.len() as i64, seqs.into_iter().map(|s| s.name).collect::<Vec<_>>().join(",")));
    out
}

fn printed(out: &std::process::Output, prefix: &str) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.strip_prefix(prefix)).map(str::to_string).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_then_restore_into_a_new_database_gives_the_same_rows_in_every_table() {
    let app = TestApp::spawn().await;
    // Data of several kinds: accounts and workspaces, keywords with nulls and odd text, a binary upload chunk.
    let (b, tid) = app.signup("Rita Restore", "rita@example.com", "Restore Co").await;
    let r = b.api_post("/api/planner/keywords", serde_json::json!({ "keyword": "café crème “quoted”", "volume": 1200 })).await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let mut conn = app.db().await;
    diesel::sql_query(format!(
        "INSERT INTO keywords (tenant_id, keyword, volume, difficulty, cpc, intent, country)
         SELECT {tid}, 'keyword ' || g, CASE WHEN g % 7 = 0 THEN NULL ELSE g * 10 END, g % 101, (g % 500) / 100.0,
                (ARRAY['informational','navigational','commercial','transactional'])[1 + g % 4], 'US'
         FROM generate_series(1, 2500) g"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query(format!("INSERT INTO keyword_imports (tenant_id, filename, created_by) VALUES ({tid}, 'x.csv', 'test')"))
        .execute(&mut conn)
        .await
        .unwrap();
    diesel::sql_query(format!(
        "INSERT INTO keyword_import_chunks (tenant_id, import_id, seq, data)
         SELECT {tid}, id, 0, decode(repeat('00ff10e2', 5000), 'hex') FROM keyword_imports WHERE tenant_id = {tid}"
    ))
    .execute(&mut conn)
    .await
    .unwrap();

    let dir = temp_dir("backup");
    let out = igny8(&app.db_url, &["backup", "--dir", dir.to_str().unwrap()], &[]);
    assert!(out.status.success(), "backup failed: {}", String::from_utf8_lossy(&out.stderr));
    let file = printed(&out, "backup: ")
        .into_iter()
        .next()
        .as_deref()
        .and_then(|l| l.split(" (").next())
        .map(PathBuf::from)
        .expect("backup path printed");
    assert!(file.starts_with(&dir) && file.is_file(), "{}", file.display());
    assert!(std::fs::read_dir(&dir).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".partial")));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "only its owner may read a backup");

    // A new, empty database; restore into it.
    let restored_db = format!("{}_r", app.db_url.rsplit('/').next().unwrap());
    let restored_url = format!("{}/{restored_db}", app.db_url.rsplit_once('/').unwrap().0);
    let mut admin = AsyncPgConnection::establish(&format!("{}/postgres", app.db_url.rsplit_once('/').unwrap().0)).await.unwrap();
    diesel::sql_query(format!("CREATE DATABASE {restored_db} TEMPLATE template0")).execute(&mut admin).await.unwrap();
    let out = igny8(&app.db_url, &["restore", "--file", file.to_str().unwrap(), "--database-url", &restored_url], &[]);
    assert!(out.status.success(), "restore failed: {}", String::from_utf8_lossy(&out.stderr));

    let before = fingerprint(&app.db_url).await;
    let after = fingerprint(&restored_url).await;
    assert!(before.len() > 30, "tables compared: {}", before.len());
    assert_eq!(before["keywords"].0, 2501);
    assert_eq!(before["keyword_import_chunks"].0, 1);
    for (table, f) in &before {
        assert_eq!(after.get(table), Some(f), "table {table} differs after the restore");
    }
    assert_eq!(before.len(), after.len());

    // The restored database is complete as far as the app can tell: no migration is pending.
    let out = igny8(&restored_url, &["migrate"], &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("none pending"), "{}", String::from_utf8_lossy(&out.stderr));

    // Restoring over a database that has data is refused, and changes nothing.
    let out = igny8(&app.db_url, &["restore", "--file", file.to_str().unwrap()], &[]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("restore into a new, empty database"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fingerprint(&app.db_url).await, before);

    let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {restored_db} WITH (FORCE)")).execute(&mut admin).await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn touch(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, b"x").unwrap();
    p
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_removes_only_backups_past_the_limit() {
    let app = TestApp::spawn().await;
    let dir = temp_dir("retention");
    let db = app.db_url.rsplit('/').next().unwrap().to_string();
    let now = chrono::Utc::now();
    let name = |days: i64, hours: i64| {
        igny8::backup::retention::file_name(&db, now - chrono::Duration::days(days) - chrono::Duration::hours(hours))
    };
    let expired = [touch(&dir, &name(8, 0)), touch(&dir, &name(7, 1))];
    let kept = [
        touch(&dir, &name(6, 23)),
        touch(&dir, &name(1, 0)),
        // Not backups, or not finished ones: never touched, however old they look.
        touch(&dir, &format!("{}.partial", name(30, 0))),
        touch(&dir, "notes.txt"),
        // Another database's only backup stays even when old (the newest of each database is kept).
        touch(&dir, &igny8::backup::retention::file_name("otherdb", now - chrono::Duration::days(40))),
    ];
    let out = igny8(&app.db_url, &["backup"], &[("IGNY8_BACKUP_DIR", dir.to_str().unwrap()), ("IGNY8_BACKUP_KEEP_DAYS", "7")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let new = PathBuf::from(printed(&out, "backup: ")[0].split(" (").next().unwrap());
    let mut removed: Vec<PathBuf> = printed(&out, "removed: ").iter().map(|l| PathBuf::from(l.split(" (").next().unwrap())).collect();
    removed.sort();
    let mut want = expired.to_vec();
    want.sort();
    assert_eq!(removed, want);
    for p in &expired {
        assert!(!p.exists(), "{} should be gone", p.display());
    }
    for p in kept.iter().chain([&new]) {
        assert!(p.exists(), "{} should be kept", p.display());
    }

    // Without a folder the command says how to give one.
    let out = igny8(&app.db_url, &["backup"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("IGNY8_BACKUP_DIR"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_scheduled_backup_writes_to_the_configured_folder_or_says_why_not() {
    let dir = temp_dir("scheduled");
    let app = TestApp::spawn_with(&crate::harness::redis_url(), [("IGNY8_BACKUP_DIR", dir.display().to_string())].into()).await;
    let result = igny8::backup::run_scheduled(&app.state).await.unwrap();
    let file = PathBuf::from(result["file"].as_str().unwrap());
    assert!(file.is_file() && file.starts_with(&dir), "{result}");
    assert!(result["bytes"].as_u64().unwrap() > 1000);

    let without = TestApp::spawn().await;
    let result = igny8::backup::run_scheduled(&without.state).await.unwrap();
    assert_eq!(result["skipped"], "IGNY8_BACKUP_DIR is not set");
    let _ = std::fs::remove_dir_all(&dir);
}
