//! The plugin's settings (its `igny8_*` options and settings table) and prompts: AI provider, model and keys
//! into Settings → AI (keys sealed), the credit balance as an opening ledger row, author profiles and
//! strategies from their serialized arrays, prompts as the workspace's own versions of the built-ins.
//! Like the tables, each is written only when new or changed since the last run, and read back.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};

use super::mapping::{self as map, Setting};
use super::php::{self, Php};
use super::report::{Report, TableReport};
use super::run::write_rows;
use super::source::{Raw, SourceRow};
use super::transform::{self, Cx};
use super::values::{self, cut};
use super::write::Scope;
use crate::ai::prompts::Library;
use crate::db::schema::{ai_settings, migration_map, prompt_overrides};
use crate::modules::thinker::service as prompts_service;
use crate::state::AppState;

fn sha(s: &str) -> String {
    Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The map row of (table, id) for this source: (target id, hash).
async fn known(conn: &mut AsyncPgConnection, scope: &Scope<'_>, table: &str, id: &str) -> anyhow::Result<Option<(i64, String)>> {
    Ok(migration_map::table
        .filter(migration_map::tenant_id.eq(scope.tenant_id))
        .filter(migration_map::source.eq(scope.source))
        .filter(migration_map::source_table.eq(table))
        .filter(migration_map::source_id.eq(id))
        .select((migration_map::target_id, migration_map::row_hash))
        .first(conn)
        .await
        .optional()?)
}

async fn remember(conn: &mut AsyncPgConnection, scope: &Scope<'_>, table: &str, id: &str, target: i64, hash: &str) -> anyhow::Result<()> {
    diesel::insert_into(migration_map::table)
        .values((
            migration_map::tenant_id.eq(scope.tenant_id),
            migration_map::source.eq(scope.source),
            migration_map::source_table.eq(table),
            migration_map::source_id.eq(id),
            migration_map::target_id.eq(target),
            migration_map::row_hash.eq(hash),
        ))
        .on_conflict((migration_map::tenant_id, migration_map::source, migration_map::source_table, migration_map::source_id))
        .do_update()
        .set((migration_map::target_id.eq(target), migration_map::row_hash.eq(hash), migration_map::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await?;
    Ok(())
}

/// A setting that maps onto one column of `ai_settings`.
#[derive(Debug, Clone, PartialEq)]
enum AiValue {
    TextKey(String),
    TextModel(String),
    ImageProvider(&'static str),
    ImageKey(String),
    ImageModel(String),
    ImagesPerArticle(i16),
}

/// Settings, credits, author profiles and strategies. `items` are (source id, key, value).
pub async fn import(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    report: &mut Report,
    scope: &Scope<'_>,
    cx: &mut Cx,
    items: Vec<(String, String, Raw)>,
) -> anyhow::Result<()> {
    let label = format!("{}options igny8_* + {}igny8_settings", report.prefix, report.prefix);
    let mut t = TableReport {
        table: label.clone(),
        target: "ai_settings, credit_ledger".into(),
        source_rows: items.len() as i64,
        ..Default::default()
    };
    let (mut profiles, mut strategies) = (vec![], vec![]);
    let mut ai: Vec<(String, AiValue)> = vec![];
    let mut credits: Option<(String, i64)> = None;
    let (mut expected, mut found) = (vec![], vec![]);
    for (sid, key, raw) in items {
        let mut notes = vec![];
        let value = values::text(&raw, &key, &mut notes).unwrap_or_default();
        let v = value.trim();
        let skip = |t: &mut TableReport, r: &mut Report, why: String| {
            t.skipped += 1;
            r.skip(&label, &sid, format!("{key}: {why}"));
        };
        match map::setting(&key) {
            None => skip(&mut t, report, "no counterpart in IGNY8".into()),
            Some(Setting::Ignored(why)) => skip(&mut t, report, why.into()),
            Some(Setting::AuthorProfiles | Setting::Strategies) if v.is_empty() => skip(&mut t, report, "empty".into()),
            Some(s @ (Setting::AuthorProfiles | Setting::Strategies)) => match php::unserialize(v.as_bytes()) {
                Ok(Php::Array(list)) => {
                    // Counted here as imported; its elements are reported under their own table.
                    expected.push(sha(&key));
                    found.push(sha(&key));
                    for (k, item) in list {
                        let id = format!("{key}[{}]", k.as_text().unwrap_or_default());
                        if s == Setting::Strategies { strategies.push((id, item)) } else { profiles.push((id, item)) }
                    }
                }
                Ok(_) => skip(&mut t, report, "not a list".into()),
                Err(e) => skip(&mut t, report, format!("not a readable PHP serialized array ({e})")),
            },
            Some(_) if v.is_empty() => skip(&mut t, report, "empty".into()),
            Some(Setting::Credits) => match v.replace(',', "").parse::<f64>() {
                Ok(n) if (0.0..1e12).contains(&n) => credits = Some((sid.clone(), n.round() as i64)),
                _ => skip(&mut t, report, format!("“{}” is not a credit balance", cut(v, 40))),
            },
            Some(Setting::TextKey) => ai.push((sid.clone(), AiValue::TextKey(v.to_string()))),
            Some(Setting::ImageKey) => ai.push((sid.clone(), AiValue::ImageKey(v.to_string()))),
            Some(Setting::TextModel) => ai.push((sid.clone(), AiValue::TextModel(cut(v, 100)))),
            Some(Setting::ImageModel) => ai.push((sid.clone(), AiValue::ImageModel(cut(v, 100)))),
            Some(Setting::ImageProvider) => match v.to_ascii_lowercase().as_str() {
                "openai" | "dalle" | "dall-e" | "dall-e-3" => ai.push((sid.clone(), AiValue::ImageProvider("openai"))),
                "runware" => ai.push((sid.clone(), AiValue::ImageProvider("runware"))),
                other => skip(&mut t, report, format!("unknown image service “{}”", cut(other, 40))),
            },
            Some(Setting::ImagesPerArticle) => match v.parse::<i64>() {
                Ok(n) => {
                    if !(0..=4).contains(&n) {
                        notes.push(format!("{key}: {n} is outside 0–4; clamped"));
                    }
                    ai.push((sid.clone(), AiValue::ImagesPerArticle(n.clamp(0, 4) as i16)))
                }
                Err(_) => skip(&mut t, report, format!("“{}” is not a number", cut(v, 40))),
            },
        }
        if !notes.is_empty() {
            t.repaired += 1;
            report.repaired(&label, &sid, &notes);
        }
    }

    // Settings → AI: one column per setting, written when new or changed since the last run.
    if !ai.is_empty() {
        diesel::insert_into(ai_settings::table)
            .values(ai_settings::tenant_id.eq(scope.tenant_id))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    let target = ai_settings::table.filter(ai_settings::tenant_id.eq(scope.tenant_id));
    let mut written = vec![];
    for (sid, v) in &ai {
        let hash = sha(&format!("{v:?}"));
        expected.push(hash.clone());
        match known(conn, scope, "settings", sid).await? {
            Some((_, h)) if h == hash => {
                t.unchanged += 1;
                written.push(false);
            }
            before => {
                written.push(true);
                match v {
                    AiValue::TextKey(k) => {
                        diesel::update(target)
                            .set((ai_settings::text_api_key_enc.eq(state.vault.seal(k)), ai_settings::text_provider.eq("openai")))
                            .execute(conn)
                            .await?
                    }
                    AiValue::ImageKey(k) => {
                        diesel::update(target).set(ai_settings::image_api_key_enc.eq(state.vault.seal(k))).execute(conn).await?
                    }
                    AiValue::TextModel(m) => diesel::update(target).set(ai_settings::text_model.eq(m)).execute(conn).await?,
                    AiValue::ImageModel(m) => diesel::update(target).set(ai_settings::image_model.eq(m)).execute(conn).await?,
                    AiValue::ImageProvider(p) => diesel::update(target).set(ai_settings::image_provider.eq(*p)).execute(conn).await?,
                    AiValue::ImagesPerArticle(n) => {
                        diesel::update(target).set(ai_settings::images_per_article.eq(*n)).execute(conn).await?
                    }
                };
                diesel::update(target).set(ai_settings::updated_at.eq(diesel::dsl::now)).execute(conn).await?;
                remember(conn, scope, "settings", sid, scope.tenant_id, &hash).await?;
                if before.is_some() { t.updated += 1 } else { t.inserted += 1 }
            }
        }
    }
    // Read back what Settings → AI now holds (keys opened with the vault).
    if !ai.is_empty() {
        let s = crate::ai::settings::load(conn, scope.tenant_id).await?;
        let open = |k: &Option<String>| k.as_ref().and_then(|k| state.vault.open(k).ok()).unwrap_or_default();
        for (i, (sid, v)) in ai.iter().enumerate() {
            let stored = match v {
                AiValue::TextKey(_) => AiValue::TextKey(open(&s.text_api_key_enc)),
                AiValue::ImageKey(_) => AiValue::ImageKey(open(&s.image_api_key_enc)),
                AiValue::TextModel(_) => AiValue::TextModel(s.text_model.clone()),
                AiValue::ImageModel(_) => AiValue::ImageModel(s.image_model.clone()),
                AiValue::ImageProvider(_) => AiValue::ImageProvider(if s.image_provider == "runware" {
                    "runware"
                } else if s.image_provider == "openai" {
                    "openai"
                } else {
                    "dev"
                }),
                AiValue::ImagesPerArticle(_) => AiValue::ImagesPerArticle(s.images_per_article),
            };
            found.push(sha(&format!("{stored:?}")));
            if &stored != v {
                if written[i] {
                    t.mismatched.push(sid.clone());
                } else {
                    // Unchanged in the plugin, changed on Settings → AI since: kept.
                    t.edited += 1;
                }
            }
        }
    }

    // Credits: the plugin's balance as an opening ledger row; a later change as the difference.
    if let Some((sid, balance)) = credits {
        let hash = sha(&balance.to_string());
        expected.push(sha(&format!("credits {balance}")));
        match known(conn, scope, "settings", &sid).await? {
            Some((_, h)) if h == hash => t.unchanged += 1,
            before => {
                let already = before.as_ref().map(|(b, _)| *b).unwrap_or(0);
                if balance != already {
                    let reference = if before.is_none() {
                        format!("opening:{}", scope.source)
                    } else {
                        format!("opening:{}:{}", scope.source, &hash[..12])
                    };
                    crate::billing::ledger::post_in_tx(conn, scope.tenant_id, balance - already, "migration", &reference).await?;
                }
                remember(conn, scope, "settings", &sid, balance, &hash).await?;
                if before.is_some() { t.updated += 1 } else { t.inserted += 1 }
            }
        }
        let prefix = format!("opening:{}", scope.source);
        let posted: Posted = diesel::sql_query(
            "SELECT coalesce(sum(delta), 0)::bigint AS n FROM credit_ledger WHERE tenant_id = $1 AND reason = 'migration' AND left(reference, length($2)) = $2",
        )
        .bind::<diesel::sql_types::BigInt, _>(scope.tenant_id)
        .bind::<diesel::sql_types::Text, _>(&prefix)
        .get_result(conn)
        .await?;
        found.push(sha(&format!("credits {}", posted.n)));
    }
    t.imported = found.len() as i64;
    t.source_hash = super::write::table_hash(expected.clone());
    t.imported_hash = super::write::table_hash(found.clone());
    t.ok = t.mismatched.is_empty() && t.source_rows == t.imported + t.skipped && (t.source_hash == t.imported_hash || t.edited > 0);
    if t.source_rows > 0 {
        report.tables.push(t);
    }

    // Author profiles and strategies, one row per element of their arrays.
    for (items, target, label) in
        [(profiles, &transform::PROFILES_T, "author_profiles"), (strategies, &transform::STRATEGIES_T, "strategies")]
    {
        if items.is_empty() {
            continue;
        }
        let full = format!("{}options igny8_{label}", report.prefix);
        let (mut rows, mut skipped) = (vec![], 0);
        let n = items.len() as i64;
        for (id, item) in items {
            let made = if label == "strategies" { cx.strategy_row(&id, &item) } else { cx.profile_row(&id, &item) };
            match made {
                Ok(r) => rows.push(r),
                Err(why) => {
                    skipped += 1;
                    report.skip(&full, &id, why);
                }
            }
        }
        write_rows(conn, report, scope, full, label, n, target, rows, skipped, 0).await?;
    }
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct Posted {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The plugin's prompts: each one a new version of the matching built-in prompt (when it passes the same
/// placeholder checks as the Thinker page), written when new or changed.
pub async fn prompts(
    library: &Library,
    conn: &mut AsyncPgConnection,
    report: &mut Report,
    scope: &Scope<'_>,
    label: String,
    n: i64,
    rows: &[SourceRow],
) -> anyhow::Result<()> {
    let mut t = TableReport { table: label.clone(), target: "prompt_overrides".into(), source_rows: n, ..Default::default() };
    let (mut expected, mut found) = (vec![], vec![]);
    let mut taken: std::collections::HashMap<&'static str, i64> = Default::default();
    for r in rows {
        let mut notes = vec![];
        let kind = values::text_nonempty(&r.vals[0], "prompt_type", &mut notes).unwrap_or_default();
        let body = values::text(&r.vals[1], "prompt_value", &mut notes).unwrap_or_default();
        let system = values::text_nonempty(r.vals.get(2).unwrap_or(&None), "system_prompt", &mut notes);
        let Some(key) = map::lookup(map::PROMPT_KEY, &kind) else {
            t.skipped += 1;
            report.skip(&label, r.id, format!("unknown prompt type “{}”", cut(&kind, 40)));
            continue;
        };
        if let Some(first) = taken.get(key) {
            t.skipped += 1;
            report.skip(&label, r.id, format!("another {key} prompt (row {first}) was imported"));
            continue;
        }
        let b = library.builtin(key).expect("mapped prompt keys exist");
        let (system, template) = match prompts_service::check(b, system.as_deref().unwrap_or(b.system), &body) {
            Ok(ok) => ok,
            Err(e) => {
                t.skipped += 1;
                report.skip(&label, r.id, format!("{key}: {}", e.summary()));
                continue;
            }
        };
        taken.insert(key, r.id);
        report.repaired(&label, r.id, &notes);
        t.repaired += (!notes.is_empty()) as i64;
        let hash = sha(&format!("{key}\u{1f}{system}\u{1f}{template}"));
        expected.push(hash.clone());
        let sid = r.id.to_string();
        let version = match known(conn, scope, "igny8_prompts", &sid).await? {
            Some((v, h)) if h == hash => {
                t.unchanged += 1;
                v as i32
            }
            before => {
                let next: i32 = prompt_overrides::table
                    .filter(prompt_overrides::tenant_id.eq(scope.tenant_id))
                    .filter(prompt_overrides::key.eq(key))
                    .select(diesel::dsl::max(prompt_overrides::version))
                    .first::<Option<i32>>(conn)
                    .await?
                    .unwrap_or(0)
                    + 1;
                diesel::insert_into(prompt_overrides::table)
                    .values((
                        prompt_overrides::tenant_id.eq(scope.tenant_id),
                        prompt_overrides::key.eq(key),
                        prompt_overrides::version.eq(next),
                        prompt_overrides::system.eq(&system),
                        prompt_overrides::template.eq(&template),
                        prompt_overrides::created_by.eq("import from the WordPress plugin"),
                    ))
                    .execute(conn)
                    .await?;
                remember(conn, scope, "igny8_prompts", &sid, next as i64, &hash).await?;
                if before.is_some() {
                    t.updated += 1
                } else {
                    t.inserted += 1
                }
                next
            }
        };
        let stored: Option<(String, String)> = prompt_overrides::table
            .filter(prompt_overrides::tenant_id.eq(scope.tenant_id))
            .filter(prompt_overrides::key.eq(key))
            .filter(prompt_overrides::version.eq(version))
            .select((prompt_overrides::system, prompt_overrides::template))
            .first(conn)
            .await
            .optional()?;
        if let Some((s, tpl)) = stored {
            found.push(sha(&format!("{key}\u{1f}{s}\u{1f}{tpl}")));
        }
    }
    t.imported = found.len() as i64;
    t.source_hash = super::write::table_hash(expected);
    t.imported_hash = super::write::table_hash(found);
    t.ok = t.source_hash == t.imported_hash && t.source_rows == t.imported + t.skipped;
    report.tables.push(t);
    Ok(())
}
