//! What a run of a step would take: the items (oldest or most valuable first), their price per seed §8.4, and
//! nothing already in flight (work queued by an earlier run is never picked twice). Read-only, so the dry run
//! and the real run share it.
//!
//! Pipeline order: with the images step on, publishing takes an article only once its images are finished —
//! made, or finally failed (then it is published with a warning) — never while they are still being planned or
//! rendered.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::settings::{Settings, StepSettings};
use super::step::Step;
use crate::error::AppResult;
use crate::jobs::{SubjectKind, open};
use crate::modules::planner::clustering::ai as cluster_ai;
use crate::modules::planner::ideas::generate as ideas;
use crate::modules::publish::service as publish;
use crate::modules::writer::service::TaskStatus;
use crate::modules::writer::{generate, image_jobs};

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
    /// Publish: posts out on the site whose images were finished (or regenerated) after they went out — updated in place.
    pub refresh: Vec<Item>,
    /// Why nothing can be picked now (an earlier run's work still in flight, no site chosen…).
    pub blocked: Option<String>,
}

/// Credits per item, for trimming a pick to what the budget allows.
pub fn unit_cost(step: Step, s: &StepSettings, images_per_article: i64) -> i64 {
    match step {
        Step::Cluster | Step::Publish => 0,
        Step::Ideas => s.per_item as i64,
        Step::Content => generate::CREDITS,
        Step::Images => 1 + images_per_article,
    }
}

pub fn cost_of(step: Step, n: usize, s: &StepSettings, images_per_article: i64) -> i64 {
    match step {
        Step::Cluster => cluster_ai::price(n),
        Step::Ideas | Step::Content | Step::Images | Step::Publish => unit_cost(step, s, images_per_article) * n as i64,
    }
}

async fn pending(conn: &mut AsyncPgConnection, tenant_id: i64, kind: &str) -> AppResult<i64> {
    use crate::db::schema::jobs;
    Ok(jobs::table
        .filter(jobs::tenant_id.eq(tenant_id))
        .filter(jobs::kind.eq(kind))
        .filter(jobs::status.eq_any(crate::jobs::JobStatus::OPEN))
        .count()
        .get_result(conn)
        .await?)
}

pub async fn pick(
    conn: &mut AsyncPgConnection,
    tenant_id: i64,
    settings: &Settings,
    step: Step,
    limit: i64,
    images_per_article: i64,
) -> AppResult<Pick> {
    let s = settings.step(step);
    let mut out = Pick::default();
    out.items = match step {
        Step::Cluster => {
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
        Step::Ideas => {
            diesel::sql_query(format!(
                "SELECT c.id, c.name AS label FROM clusters c
                 WHERE c.tenant_id = $1 AND c.status = 'active' AND (cardinality($3::bigint[]) = 0 OR c.id = ANY($3))
                   AND NOT EXISTS (SELECT 1 FROM content_ideas i WHERE i.tenant_id = c.tenant_id AND i.cluster_id = c.id)
                   AND NOT {}
                 ORDER BY c.id LIMIT $2",
                open::exists_sql("c", "$4", "$5")
            ))
            .bind::<BigInt, _>(tenant_id)
            .bind::<BigInt, _>(limit)
            .bind::<Array<BigInt>, _>(&s.cluster_ids)
            .bind::<Text, _>(SubjectKind::Cluster.as_str())
            .bind::<Text, _>(ideas::JOB_KIND)
            .load(conn)
            .await?
        }
        Step::Content => {
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
            if s.statuses.iter().any(|x| TaskStatus::parse(x) == Some(TaskStatus::Queued)) {
                let room = (limit as usize).saturating_sub(items.len());
                items.extend(out.ideas_to_send.iter().take(room).map(|i| Item { id: 0, label: format!("{} (from a new idea)", i.label) }));
            }
            items
        }
        Step::Images => {
            diesel::sql_query(format!(
                "SELECT t.id, t.title AS label FROM tasks t
                 WHERE t.tenant_id = $1 AND t.status = ANY($3) AND t.word_count > 0
                   AND NOT EXISTS (SELECT 1 FROM images i WHERE i.tenant_id = t.tenant_id AND i.task_id = t.id)
                   AND NOT {}
                 ORDER BY t.id LIMIT $2",
                open::exists_sql("t", "$4", "$5")
            ))
            .bind::<BigInt, _>(tenant_id)
            .bind::<BigInt, _>(limit)
            .bind::<Array<Text>, _>(&s.statuses)
            .bind::<Text, _>(SubjectKind::Task.as_str())
            .bind::<Text, _>(image_jobs::PROMPTS_KIND)
            .load(conn)
            .await?
        }
        Step::Publish => {
            if settings.publish_site_id.is_none() {
                out.blocked = Some("Choose the site to publish to in the automation settings".into());
                return Ok(out);
            }
            // Never sample text from the dev provider. Only articles never sent to a site: not one already there (as a draft too, or unpublished on purpose),
            // trashed or deleted there, being published, or refused before — those are the editors' to decide.
            // Never with images still being planned or rendered; with the images step on, only once they are made
            // (or their planning failed for good — then the post goes out with a warning).
            let fresh = diesel::sql_query(format!(
                "SELECT t.id, t.title AS label FROM tasks t
                 WHERE t.tenant_id = $1 AND t.status = ANY($3) AND t.word_count > 0 AND NOT t.sample
                   AND NOT EXISTS (SELECT 1 FROM publications p WHERE p.tenant_id = t.tenant_id AND p.task_id = t.id)
                   AND NOT {open_prompts}
                   AND NOT EXISTS (SELECT 1 FROM images i WHERE i.tenant_id = t.tenant_id AND i.task_id = t.id AND i.status = 'queued')
                   AND (NOT $6
                        OR EXISTS (SELECT 1 FROM images i WHERE i.tenant_id = t.tenant_id AND i.task_id = t.id)
                        OR EXISTS (SELECT 1 FROM jobs fj WHERE fj.tenant_id = t.tenant_id AND fj.subject_type = $4
                                     AND fj.subject_id = t.id AND fj.kind = $5 AND fj.status IN ('failed', 'dead')))
                 ORDER BY t.id LIMIT $2",
                open_prompts = open::exists_sql("t", "$4", "$5")
            ))
            .bind::<BigInt, _>(tenant_id)
            .bind::<BigInt, _>(limit)
            .bind::<Array<Text>, _>(&s.statuses)
            .bind::<Text, _>(SubjectKind::Task.as_str())
            .bind::<Text, _>(image_jobs::PROMPTS_KIND)
            .bind::<Bool, _>(settings.step(Step::Images).enabled)
            .load(conn)
            .await?;
            // Posts out on the site whose task has a finished image the site does not have (made after the post went
            // out, or regenerated since): updated in place.
            out.refresh = diesel::sql_query(format!(
                "SELECT t.id, t.title || ' (adding its images)' AS label FROM tasks t
                   JOIN publications p ON p.tenant_id = t.tenant_id AND p.task_id = t.id
                 WHERE t.tenant_id = $1 AND p.remote_id IS NOT NULL AND p.state = 'done'
                   AND p.remote_status NOT IN ('trash', 'deleted')
                   AND NOT {open_prompts} AND NOT {open_publish} AND NOT {open_unpublish}
                   AND NOT EXISTS (SELECT 1 FROM images i WHERE i.tenant_id = t.tenant_id AND i.task_id = t.id AND i.status = 'queued')
                   AND EXISTS (SELECT 1 FROM images i WHERE i.tenant_id = t.tenant_id AND i.task_id = t.id AND i.status = 'ready'
                                 AND NOT EXISTS (SELECT 1 FROM published_media m WHERE m.tenant_id = i.tenant_id AND m.image_id = i.id
                                                   AND m.site_id = p.site_id AND m.sha256 = i.sha256))
                 ORDER BY t.id LIMIT $2",
                open_prompts = open::exists_sql("t", "$3", "$4"),
                open_publish = open::exists_sql("t", "$3", "$5"),
                open_unpublish = open::exists_sql("t", "$3", "$6"),
            ))
            .bind::<BigInt, _>(tenant_id)
            .bind::<BigInt, _>(limit)
            .bind::<Text, _>(SubjectKind::Task.as_str())
            .bind::<Text, _>(image_jobs::PROMPTS_KIND)
            .bind::<Text, _>(publish::PUBLISH_KIND)
            .bind::<Text, _>(publish::UNPUBLISH_KIND)
            .load(conn)
            .await?;
            fresh
        }
    };
    out.cost = cost_of(step, out.items.len(), &s, images_per_article);
    Ok(out)
}
