//! What a run of a step would take: the items (oldest or most valuable first), their price per seed §8.4, and
//! nothing already in flight (work queued by an earlier run is never picked twice). Read-only, so the dry run
//! and the real run share it.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::settings::{Settings, StepSettings};
use crate::error::AppResult;
use crate::modules::planner::clustering::ai as cluster_ai;
use crate::modules::writer::generate;

#[derive(Debug, Clone, QueryableByName, Serialize)]
pub struct Item {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub label: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Pick {
    pub items: Vec<Item>,
    /// Credits the run would reserve (images: the images the prompts step will order).
    pub cost: i64,
    /// New ideas the content step first turns into tasks (free).
    pub ideas_to_send: Vec<Item>,
    /// Why nothing can be picked now (an earlier run's work still in flight, no site chosen…).
    pub blocked: Option<String>,
}

/// Credits per item, for trimming a pick to what the budget allows.
pub fn unit_cost(step: &str, s: &StepSettings, images_per_article: i64) -> i64 {
    match step {
        "ideas" => s.per_item as i64,
        "content" => generate::CREDITS,
        "images" => 1 + images_per_article,
        _ => 0,
    }
}

pub fn cost_of(step: &str, n: usize, s: &StepSettings, images_per_article: i64) -> i64 {
    if step == "cluster" { cluster_ai::price(n) } else { unit_cost(step, s, images_per_article) * n as i64 }
}

async fn pending(conn: &mut AsyncPgConnection, tenant_id: i64, kind: &str) -> AppResult<i64> {
    use crate::db::schema::jobs;
    Ok(jobs::table
        .filter(jobs::tenant_id.eq(tenant_id))
        .filter(jobs::kind.eq(kind))
        .filter(jobs::status.eq_any(["queued", "running"]))
        .count()
        .get_result(conn)
        .await?)
}

pub async fn pick(
    conn: &mut AsyncPgConnection,
    tenant_id: i64,
    settings: &Settings,
    step: &str,
    limit: i64,
    images_per_article: i64,
) -> AppResult<Pick> {
    let s = settings.step(step);
    let mut out = Pick::default();
    out.items = match step {
        "cluster" => {
            if pending(conn, tenant_id, cluster_ai::JOB_KIND).await? > 0 {
                out.blocked = Some("AI clustering from an earlier run is still running".into());
                return Ok(out);
            }
            diesel::sql_query(
                "SELECT id, keyword AS label FROM keywords WHERE tenant_id = $1 AND cluster_id IS NULL AND status = 'new'
                 ORDER BY volume DESC, id LIMIT $2",
            )
            .bind::<BigInt, _>(tenant_id)
            .bind::<BigInt, _>(limit)
            .load(conn)
            .await?
        }
        "ideas" => {
            diesel::sql_query(
                "SELECT c.id, c.name AS label FROM clusters c
                 WHERE c.tenant_id = $1 AND c.status = 'active' AND (cardinality($3::bigint[]) = 0 OR c.id = ANY($3))
                   AND NOT EXISTS (SELECT 1 FROM content_ideas i WHERE i.tenant_id = c.tenant_id AND i.cluster_id = c.id)
                   AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = c.tenant_id AND j.kind = 'planner.ideas'
                                   AND j.status IN ('queued', 'running') AND (j.payload->>'cluster_id')::bigint = c.id)
                 ORDER BY c.id LIMIT $2",
            )
            .bind::<BigInt, _>(tenant_id)
            .bind::<BigInt, _>(limit)
            .bind::<Array<BigInt>, _>(&s.cluster_ids)
            .load(conn)
            .await?
        }
        "content" => {
            out.ideas_to_send = diesel::sql_query(
                "SELECT id, title AS label FROM content_ideas WHERE tenant_id = $1 AND status = 'new' ORDER BY id LIMIT $2",
            )
            .bind::<BigInt, _>(tenant_id)
            .bind::<BigInt, _>(limit.max(100))
            .load(conn)
            .await?;
            let mut items: Vec<Item> =
                diesel::sql_query("SELECT id, title AS label FROM tasks WHERE tenant_id = $1 AND status = ANY($3) ORDER BY id LIMIT $2")
                    .bind::<BigInt, _>(tenant_id)
                    .bind::<BigInt, _>(limit)
                    .bind::<Array<Text>, _>(&s.statuses)
                    .load(conn)
                    .await?;
            // The ideas become queued tasks first; a dry run counts them as such.
            if s.statuses.iter().any(|x| x == "queued") {
                let room = (limit as usize).saturating_sub(items.len());
                items.extend(out.ideas_to_send.iter().take(room).map(|i| Item { id: 0, label: format!("{} (from a new idea)", i.label) }));
            }
            items
        }
        "images" => {
            diesel::sql_query(
                "SELECT t.id, t.title AS label FROM tasks t
                 WHERE t.tenant_id = $1 AND t.status = ANY($3) AND t.word_count > 0
                   AND NOT EXISTS (SELECT 1 FROM images i WHERE i.tenant_id = t.tenant_id AND i.task_id = t.id)
                   AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = t.tenant_id AND j.kind = 'writer.image_prompts'
                                   AND j.status IN ('queued', 'running') AND (j.payload->>'task_id')::bigint = t.id)
                 ORDER BY t.id LIMIT $2",
            )
            .bind::<BigInt, _>(tenant_id)
            .bind::<BigInt, _>(limit)
            .bind::<Array<Text>, _>(&s.statuses)
            .load(conn)
            .await?
        }
        _ => {
            if settings.publish_site_id.is_none() {
                out.blocked = Some("Choose the site to publish to in the automation settings".into());
                return Ok(out);
            }
            // Only articles never sent to a site: not one already there (as a draft too, or unpublished on purpose),
            // trashed or deleted there, being published, or refused before — those are the editors' to decide.
            // Never with images still rendering.
            diesel::sql_query(
                "SELECT t.id, t.title AS label FROM tasks t
                 WHERE t.tenant_id = $1 AND t.status = ANY($3) AND t.word_count > 0
                   AND NOT EXISTS (SELECT 1 FROM publications p WHERE p.tenant_id = t.tenant_id AND p.task_id = t.id)
                   AND NOT EXISTS (SELECT 1 FROM images i WHERE i.tenant_id = t.tenant_id AND i.task_id = t.id AND i.status = 'queued')
                 ORDER BY t.id LIMIT $2",
            )
            .bind::<BigInt, _>(tenant_id)
            .bind::<BigInt, _>(limit)
            .bind::<Array<Text>, _>(&s.statuses)
            .load(conn)
            .await?
        }
    };
    out.cost = cost_of(step, out.items.len(), &s, images_per_article);
    Ok(out)
}
