//! The keywords list's bulk actions as one request shape, shared by the page's form and the JSON API.

use serde::{Deserialize, Serialize};

use super::filter::{KeywordFilter, KeywordStatus};
use super::service::{self, BulkAction, Selection};
use crate::error::{AppError, AppResult};
use crate::modules::planner::clustering::{ai, semantic, service as clustering};
use crate::state::AppState;
use crate::tenancy::TenantCtx;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BulkRequest {
    /// delete | set_status | move | cluster_local | cluster_semantic | cluster_ai | export
    pub action: String,
    pub ids: Vec<i64>,
    /// Every row matching `filter` instead of `ids`.
    pub all: bool,
    pub filter: KeywordFilter,
    pub status: String,
    /// A cluster id, or "none" to take keywords out of their cluster.
    pub cluster_id: String,
    pub threshold: Option<f64>,
    pub batch_size: Option<usize>,
}

impl BulkRequest {
    pub fn selection(&self) -> AppResult<Selection> {
        if self.all {
            Ok(Selection::Matching(Box::new(self.filter.clone())))
        } else if self.ids.is_empty() {
            Err(AppError::BadRequest("Select at least one keyword, or choose all matching".into()))
        } else {
            Ok(Selection::Ids(self.ids.clone()))
        }
    }

    /// Reads the page's form, where `ids` repeats once per ticked row and filters ride along as `f_*`.
    pub fn from_form(pairs: Vec<(String, String)>) -> Self {
        let mut r = BulkRequest::default();
        let mut filter_pairs = Vec::new();
        for (k, v) in pairs {
            match k.as_str() {
                "action" => r.action = v,
                "ids" => r.ids.extend(v.parse::<i64>().ok()),
                "all" => r.all = v == "1" || v == "true" || v == "on",
                "status" => r.status = v,
                "cluster_id" => r.cluster_id = v,
                "threshold" => r.threshold = v.trim().parse().ok(),
                "batch_size" => r.batch_size = v.trim().parse().ok(),
                other => {
                    if let Some(name) = other.strip_prefix("f_") {
                        filter_pairs.push((name.to_string(), v));
                    }
                }
            }
        }
        r.filter = serde_urlencoded::to_string(&filter_pairs).ok().and_then(|q| serde_urlencoded::from_str(&q).ok()).unwrap_or_default();
        r
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum BulkOutcome {
    Changed {
        action: String,
        count: usize,
    },
    Clustered(clustering::LocalResult),
    Queued {
        job_id: i64,
        keywords: usize,
        credits: i64,
    },
    /// Clustering by meaning queued (free).
    QueuedSemantic {
        job_id: i64,
        keywords: usize,
    },
}

impl BulkOutcome {
    pub fn message(&self) -> String {
        match self {
            BulkOutcome::Changed { action, count } => {
                let verb = match action.as_str() {
                    "delete" => "deleted",
                    "set_status" => "updated",
                    _ => "moved",
                };
                format!("{count} keyword{} {verb}", if *count == 1 { "" } else { "s" })
            }
            BulkOutcome::Clustered(r) => format!(
                "Clustered locally: {} keywords into {} new and {} existing clusters; {} stayed unclustered",
                r.written.keywords_clustered, r.written.clusters_created, r.written.clusters_reused, r.unclustered
            ),
            BulkOutcome::Queued { keywords, credits, .. } => {
                format!("AI clustering of {keywords} keywords queued ({credits} credit{} reserved)", if *credits == 1 { "" } else { "s" })
            }
            BulkOutcome::QueuedSemantic { keywords, .. } => {
                format!("Clustering {keywords} keywords by meaning (free); the result follows here")
            }
        }
    }
}

/// Runs every action except export (a download, handled by the caller with `service::selected_ids`).
pub async fn run(state: &AppState, ctx: &TenantCtx, req: &BulkRequest) -> AppResult<BulkOutcome> {
    let sel = req.selection()?;
    let changed = |count| Ok(BulkOutcome::Changed { action: req.action.clone(), count });
    match req.action.as_str() {
        "delete" => changed(service::bulk(state, ctx, &sel, &BulkAction::Delete).await?),
        "set_status" => {
            let status = KeywordStatus::parse(req.status.trim()).ok_or_else(|| {
                AppError::BadRequest(format!("Status “{}” is not one of {}", req.status.trim(), KeywordStatus::words().join(", ")))
            })?;
            changed(service::bulk(state, ctx, &sel, &BulkAction::SetStatus(status)).await?)
        }
        "move" => {
            let target = match req.cluster_id.trim() {
                "" => return Err(AppError::field("cluster_id", "Choose the cluster to move the keywords to")),
                "none" => None,
                raw => Some(raw.parse::<i64>().map_err(|_| AppError::field("cluster_id", "Choose one of this workspace's clusters"))?),
            };
            changed(service::bulk(state, ctx, &sel, &BulkAction::MoveTo(target)).await?)
        }
        "cluster_local" => Ok(BulkOutcome::Clustered(
            clustering::cluster_locally(
                state,
                ctx,
                &sel,
                req.threshold.unwrap_or(crate::modules::planner::clustering::local::DEFAULT_THRESHOLD),
            )
            .await?,
        )),
        "cluster_semantic" => {
            let (job_id, keywords) = semantic::job::enqueue(state, ctx, &sel, req.threshold).await?;
            Ok(BulkOutcome::QueuedSemantic { job_id, keywords })
        }
        "cluster_ai" => {
            let (job_id, keywords) = ai::enqueue(state, ctx, &sel, req.batch_size).await?;
            Ok(BulkOutcome::Queued { job_id, keywords, credits: ai::price(keywords) })
        }
        "" => Err(AppError::BadRequest("Choose an action".into())),
        other => Err(AppError::BadRequest(format!("Unknown action “{other}”"))),
    }
}
