//! The import (seed §7.3): extraction → transformation → import → validation → sync, as one service function
//! (`igny8 import-wp` calls it). Every table is written inside ONE Postgres transaction: any failure — a
//! table that cannot be read, a required column missing, a row that does not read back as written — rolls
//! the whole run back, so the workspace is exactly as before; the failed run and its reason are kept. A dry
//! run does all of it and rolls back at the end, so it shows exactly what would happen and keeps nothing.

use std::collections::HashMap;
use std::time::Instant;

use chrono::Utc;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use super::mapping::{self as map, SourceTable};
use super::report::{self, Report, TableReport};
use super::source::{Source, SourceRow, redact};
use super::transform::{self, Cx};
use super::write::{self, Row, Scope, Target};
use super::{settings, switch};
use crate::audit::{self, Who};
use crate::db::schema::tenants;
use crate::state::AppState;

/// The WordPress site to connect after the import (the plugin's database holds no application password).
#[derive(Debug, Clone, Default)]
pub struct SiteLogin {
    /// The site's address; empty = the `siteurl` option of the source.
    pub url: String,
    pub user: String,
    pub app_password: String,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub mysql_url: String,
    /// The workspace: its id, or its exact name.
    pub tenant: String,
    pub prefix: String,
    pub dry_run: bool,
    pub site: Option<SiteLogin>,
    /// Who runs it (audit trail, run history).
    pub actor: String,
}

/// The workspace named by `--tenant`: an id, or a name that exactly one workspace has (case aside).
pub async fn find_tenant(conn: &mut AsyncPgConnection, tenant: &str) -> anyhow::Result<(i64, String)> {
    let t = tenant.trim();
    if let Ok(id) = t.parse::<i64>() {
        let name: Option<String> = tenants::table.find(id).select(tenants::name).first(conn).await.optional()?;
        return name.map(|n| (id, n)).ok_or_else(|| anyhow::anyhow!("--tenant: no workspace has id {id}"));
    }
    let found: Vec<(i64, String)> = tenants::table
        .filter(diesel::dsl::sql::<Bool>("lower(name) = lower(").bind::<Text, _>(t).sql(")"))
        .select((tenants::id, tenants::name))
        .load(conn)
        .await?;
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => anyhow::bail!("--tenant: no workspace is named “{t}” (give its id or its exact name)"),
        many => anyhow::bail!(
            "--tenant: {} workspaces are named “{t}”; give the id of one: {}",
            many.len(),
            many.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Runs the import. `Err` only for what stops it before a workspace is chosen (bad arguments); every
/// later failure comes back as a report with `error` set (and is kept, unless it was a dry run).
pub async fn import(state: &AppState, opts: &Options) -> anyhow::Result<Report> {
    if opts.prefix.len() > 32 || !opts.prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        anyhow::bail!("--prefix: letters, digits and underscores only (WordPress's $table_prefix, e.g. wp_)");
    }
    let mut conn = state.db.get().await?;
    let (tenant_id, tenant_name) = find_tenant(&mut conn, &opts.tenant).await?;
    let clock = Instant::now();
    let mut report = Report {
        tenant_id,
        tenant_name,
        prefix: opts.prefix.clone(),
        dry_run: opts.dry_run,
        source_url: redact(&opts.mysql_url),
        source: redact(&opts.mysql_url),
        started_at: Some(Utc::now()),
        ..Default::default()
    };
    let mut src = match Source::open(&opts.mysql_url, &opts.prefix).await {
        Ok(s) => s,
        Err(e) => {
            report.error = Some(format!("{e:#}"));
            return finish_failed(&mut conn, report, opts, clock).await;
        }
    };
    conn.batch_execute("BEGIN; SET LOCAL idle_in_transaction_session_timeout = 0; SET LOCAL statement_timeout = 0").await?;
    let result = steps(state, &mut conn, &mut src, opts, &mut report).await;
    src.close().await;
    report.seconds = clock.elapsed().as_secs_f64();
    let bad: Vec<String> = report.tables.iter().filter(|t| !t.ok).map(|t| t.table.clone()).collect();
    match result {
        Err(e) => {
            conn.batch_execute("ROLLBACK").await?;
            report.error = Some(format!("{e:#}"));
            finish_failed(&mut conn, report, opts, clock).await
        }
        Ok(()) if !bad.is_empty() => {
            conn.batch_execute("ROLLBACK").await?;
            report.error = Some(format!("validation failed: imported rows do not match the source in {}", bad.join(", ")));
            finish_failed(&mut conn, report, opts, clock).await
        }
        Ok(()) if opts.dry_run => {
            conn.batch_execute("ROLLBACK").await?;
            report.ok = true;
            Ok(report)
        }
        Ok(()) => {
            report.ok = true;
            let stored = async {
                let who = Who { tenant_id, user_id: None, label: opts.actor.clone(), ip: None };
                let detail = serde_json::json!({ "source": report.source, "rows": report.rows(), "issues": report.issues.len() });
                audit::record(&mut conn, &who, "migration.imported", ("tenant", tenant_id.to_string()), detail).await?;
                report::store(&mut conn, &report, &opts.actor).await
            }
            .await;
            if let Err(e) = stored {
                conn.batch_execute("ROLLBACK").await?;
                report.ok = false;
                report.error = Some(format!("the run could not be recorded: {e}"));
                return finish_failed(&mut conn, report, opts, clock).await;
            }
            conn.batch_execute("COMMIT").await?;
            state.ai_settings.forget(tenant_id);
            drop(conn);
            // Remote Mode from day one: read back the status of every linked post.
            if let Some(site_id) = report.site.as_ref().and_then(|s| s.site_id)
                && report.site.as_ref().is_some_and(|s| s.linked + s.already_linked > 0)
            {
                let queued = crate::modules::publish::service::enqueue_sync_as(state, tenant_id, &opts.actor, Some(site_id)).await;
                if let Some(s) = report.site.as_mut() {
                    match queued {
                        Ok(job) => s.sync_job = Some(job),
                        // The import is committed; the scheduler's sync (or the Sync button) reads the statuses later.
                        Err(e) => s.outcome.push_str(&format!("; the status sync could not be queued ({e}): use Sync on the site's page")),
                    }
                }
            }
            Ok(report)
        }
    }
}

/// A failed run is kept (unless it was a dry run) in its own transaction, after the import's was rolled back.
async fn finish_failed(conn: &mut AsyncPgConnection, mut report: Report, opts: &Options, clock: Instant) -> anyhow::Result<Report> {
    report.ok = false;
    report.seconds = clock.elapsed().as_secs_f64();
    if !opts.dry_run {
        conn.batch_execute("BEGIN").await?;
        match report::store(conn, &report, &opts.actor).await {
            Ok(_) => conn.batch_execute("COMMIT").await?,
            Err(e) => {
                conn.batch_execute("ROLLBACK").await?;
                tracing::warn!(error = %e, "a failed import could not be recorded");
            }
        }
    }
    Ok(report)
}

#[derive(diesel::QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

async fn steps(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    src: &mut Source,
    opts: &Options,
    report: &mut Report,
) -> anyhow::Result<()> {
    let tenant_id = report.tenant_id;
    let lock: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock(hashtextextended('igny8.import-wp', $1)) AS locked")
        .bind::<BigInt, _>(tenant_id)
        .get_result(conn)
        .await?;
    if !lock.locked {
        anyhow::bail!("another import into this workspace is running; try again when it has finished");
    }

    // The site's own options name the source (so a second run from a moved database still finds its rows).
    let options = src.options(map::SITE_OPTIONS, map::OPTION_PREFIX).await?;
    let site_option = |name: &str| {
        options.iter().find(|(_, n, _)| n == name).and_then(|(_, _, v)| v.as_ref()).map(|v| String::from_utf8_lossy(v).trim().to_string())
    };
    let site_url = site_option("siteurl").or_else(|| site_option("home")).filter(|u| !u.is_empty());
    report.source = match &site_url {
        Some(u) => u.trim_end_matches('/').to_lowercase(),
        None => src.location.clone(),
    };
    let source = report.source.clone();
    let scope = Scope { tenant_id, source: &source };
    let mut cx = Cx::default();

    // Settings: the plugin's options and its settings table (AI settings, credits, profiles, strategies).
    let mut items: Vec<(String, String, super::source::Raw)> = options
        .iter()
        .filter(|(_, n, _)| n.starts_with(map::OPTION_PREFIX))
        .map(|(id, n, v)| (format!("option:{id}"), n.clone(), v.clone()))
        .collect();
    if src.has_table(map::SETTINGS.name) {
        let (_, rows, _) = read(src, &map::SETTINGS).await?;
        for r in rows {
            let mut notes = vec![];
            let key = super::values::text_nonempty(&r.vals[0], "setting_key", &mut notes).unwrap_or_default();
            items.push((format!("setting:{}", r.id), key, r.vals.get(1).cloned().flatten()));
        }
    }
    settings::import(state, conn, report, &scope, &mut cx, items).await?;

    let at = (Instant::now(), report.tables.len());
    if let Some((rows, n)) = maybe_read(src, &map::CLUSTERS).await? {
        cx.cluster_rows = rows.iter().map(|r| r.id).collect();
        let ids = apply(conn, report, &scope, src.full(map::CLUSTERS.name), n, &transform::CLUSTERS_T, &rows, |r, notes| {
            cx.cluster_row(&map::CLUSTERS, r, notes)
        })
        .await?;
        cx.clusters = ids;
    }
    timed(report, at);
    let at = (Instant::now(), report.tables.len());
    if let Some((rows, n)) = maybe_read(src, &map::KEYWORDS).await? {
        apply(conn, report, &scope, src.full(map::KEYWORDS.name), n, &transform::KEYWORDS_T, &rows, |r, notes| {
            cx.keyword_row(&map::KEYWORDS, r, notes)
        })
        .await?;
    }
    timed(report, at);
    let at = (Instant::now(), report.tables.len());
    if let Some((rows, n)) = maybe_read(src, &map::IDEAS).await? {
        cx.idea_rows = rows.iter().map(|r| r.id).collect();
        cx.ideas = apply(conn, report, &scope, src.full(map::IDEAS.name), n, &transform::IDEAS_T, &rows, |r, notes| {
            cx.idea_row(&map::IDEAS, r, notes)
        })
        .await?;
    }
    timed(report, at);
    let at = (Instant::now(), report.tables.len());
    if let Some((rows, n)) = maybe_read(src, &map::TASKS).await? {
        cx.task_rows = rows.iter().map(|r| r.id).collect();
        // The articles: the posts the tasks point at, and those whose marker meta points at a task.
        let post_field = map::TASKS.fields.iter().position(|f| f.name == "post");
        let mut post_ids: Vec<i64> = rows
            .iter()
            .filter_map(|r| post_field.and_then(|i| r.vals[i].as_ref()))
            .filter_map(|v| std::str::from_utf8(v).ok()?.trim().parse::<i64>().ok())
            .filter(|p| *p > 0)
            .collect();
        if src.has_table("postmeta") {
            for (post, _, v) in src.postmeta(&[map::META_TASK_ID], None).await? {
                let task = v.and_then(|v| String::from_utf8(v).ok()).and_then(|s| s.trim().parse::<i64>().ok());
                if let Some(task) = task {
                    cx.post_of_task.entry(task).or_insert(post);
                    post_ids.push(post);
                }
            }
        }
        post_ids.sort_unstable();
        post_ids.dedup();
        if src.has_table("posts") {
            cx.posts = src.posts(&post_ids).await?;
        }
        if src.has_table("postmeta") {
            let ids: Vec<i64> = cx.posts.keys().copied().collect();
            for (post, key, v) in src.postmeta(&map::meta_keys(), Some(&ids)).await? {
                let mut notes = vec![];
                if let Some(v) = super::values::text(&v, &key, &mut notes) {
                    cx.meta.entry(post).or_default().entry(key).or_insert(v);
                }
            }
        }
        let label = format!("{} + {}posts", src.full(map::TASKS.name), src.prefix);
        cx.tasks = apply(conn, report, &scope, label, n, &transform::TASKS_T, &rows, |r, notes| cx.task_row(&map::TASKS, r, notes)).await?;
        // Marker meta on a post whose task is gone: nothing to link it to.
        let mut orphans: Vec<(i64, i64)> =
            cx.post_of_task.iter().filter(|(t, _)| !cx.task_rows.contains(t)).map(|(t, p)| (*t, *p)).collect();
        orphans.sort_unstable();
        for (task, post) in orphans {
            report.skip(
                &format!("{}posts", src.prefix),
                post,
                format!("its {} meta names task {task}, which does not exist in the source", map::META_TASK_ID),
            );
        }
    }
    timed(report, at);
    let at = (Instant::now(), report.tables.len());
    if let Some((rows, n)) = maybe_read(src, &map::IMAGES).await? {
        cx.images = apply(conn, report, &scope, src.full(map::IMAGES.name), n, &transform::IMAGES_T, &rows, |r, notes| {
            cx.image_row(&map::IMAGES, r, notes)
        })
        .await?;
    }
    timed(report, at);
    let at = (Instant::now(), report.tables.len());
    if let Some((rows, n)) = maybe_read(src, &map::PROMPTS).await? {
        settings::prompts(&state.prompts, conn, report, &scope, src.full(map::PROMPTS.name), n, &rows).await?;
    }

    timed(report, at);

    // Plugin tables that are counted but not imported.
    for t in src.plugin_tables() {
        let bare = t.get(src.prefix.len()..).unwrap_or(&t).to_ascii_lowercase();
        let known = [&map::CLUSTERS, &map::KEYWORDS, &map::IDEAS, &map::TASKS, &map::IMAGES, &map::PROMPTS, &map::SETTINGS]
            .iter()
            .any(|s| s.name == bare);
        if known {
            continue;
        }
        let why =
            map::NOT_IMPORTED.iter().find(|(n, _)| *n == bare).map(|(_, w)| w.to_string()).unwrap_or_else(|| "unknown plugin table".into());
        let n = src.count(&t).await?;
        report.not_imported.push((t, n, why));
    }

    // Remote Mode: the site joins the workspace, its existing posts are linked to the imported tasks.
    switch::connect(state, conn, src, report, &scope, &cx, opts.site.as_ref(), site_url.as_deref(), site_option("blogname")).await?;
    Ok(())
}

/// A plugin table's rows and its row count, or None when the database has no such table.
async fn maybe_read(src: &mut Source, t: &SourceTable) -> anyhow::Result<Option<(Vec<SourceRow>, i64)>> {
    if !src.has_table(t.name) {
        return Ok(None);
    }
    let (_, rows, n) = read(src, t).await?;
    Ok(Some((rows, n)))
}

/// Gives the table reported since `at` the time it took (reading, transforming, writing, checking).
fn timed(report: &mut Report, at: (Instant, usize)) {
    if report.tables.len() > at.1
        && let Some(t) = report.tables.last_mut()
    {
        t.seconds = at.0.elapsed().as_secs_f64();
    }
}

async fn read(src: &mut Source, t: &SourceTable) -> anyhow::Result<(super::source::Found, Vec<SourceRow>, i64)> {
    let clock = Instant::now();
    let found = src.find(t).await?;
    let rows = src.rows(&found).await?;
    tracing::debug!(table = found.table, read = ?clock.elapsed(), "import: rows read");
    let n = src.count(&found.table).await?;
    if n != rows.len() as i64 {
        anyhow::bail!("{}: counted {n} rows but read {}", found.table, rows.len());
    }
    Ok((found, rows, n))
}

/// Transforms a table's rows, writes them, checks them, and adds the table to the report.
/// Returns source id → our id for every imported row.
#[allow(clippy::too_many_arguments)]
pub async fn apply<F>(
    conn: &mut AsyncPgConnection,
    report: &mut Report,
    scope: &Scope<'_>,
    label: String,
    source_rows: i64,
    target: &Target,
    rows: &[SourceRow],
    mut f: F,
) -> anyhow::Result<HashMap<i64, i64>>
where
    F: FnMut(&SourceRow, &mut Vec<String>) -> Result<Row, String>,
{
    let key = label.split_whitespace().next().unwrap_or(&label).trim_start_matches(&report.prefix).to_string();
    let clock = Instant::now();
    let mut out = Vec::with_capacity(rows.len());
    let (mut skipped, mut repaired) = (0i64, 0i64);
    for r in rows {
        let mut notes = vec![];
        match f(r, &mut notes) {
            Ok(row) => {
                repaired += (!notes.is_empty()) as i64;
                report.repaired(&label, r.id, &notes);
                out.push(row);
            }
            Err(reason) => {
                skipped += 1;
                report.skip(&label, r.id, reason);
            }
        }
    }
    tracing::debug!(table = target.table, transformed = ?clock.elapsed(), "import: rows transformed");
    Ok(write_rows(conn, report, scope, label, &key, source_rows, target, out, skipped, repaired)
        .await?
        .into_iter()
        .filter_map(|(k, v)| k.parse::<i64>().ok().map(|k| (k, v)))
        .collect())
}

/// Writes transformed rows through `write::sync_table` and reports the table.
#[allow(clippy::too_many_arguments)]
pub async fn write_rows(
    conn: &mut AsyncPgConnection,
    report: &mut Report,
    scope: &Scope<'_>,
    label: String,
    key: &str,
    source_rows: i64,
    target: &Target,
    rows: Vec<Row>,
    skipped_before: i64,
    repaired: i64,
) -> anyhow::Result<HashMap<String, i64>> {
    let o = write::sync_table(conn, scope, key, target, rows)
        .await
        .map_err(|e| anyhow::anyhow!("{label}: writing {} failed: {e}", target.table))?;
    for (sid, reason) in &o.skipped {
        report.skip(&label, sid, reason.clone());
    }
    let skipped = skipped_before + o.skipped.len() as i64;
    let ok = o.mismatched.is_empty() && o.found == o.expected && source_rows == o.found + skipped;
    report.tables.push(TableReport {
        table: label,
        target: target.table.to_string(),
        source_rows,
        imported: o.found,
        inserted: o.inserted,
        updated: o.updated,
        unchanged: o.unchanged,
        skipped,
        repaired,
        edited: o.edited,
        source_hash: o.source_hash,
        imported_hash: o.imported_hash,
        mismatched: o.mismatched,
        ok,
        seconds: 0.0,
    });
    Ok(o.ids)
}
