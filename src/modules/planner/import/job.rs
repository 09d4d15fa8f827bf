//! The `planner.import` job: one phase of a CSV import — analyse the stored file, or apply its good rows.

use std::sync::Arc;

use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};

use super::scan::ScanError;
use super::{analyze, apply};
use crate::audit::Who;
use crate::error::AppResult;
use crate::jobs::{ClaimedJob, Completion, Ended, Job, JobError, Subject};
use crate::state::AppState;

crate::text_enum! {
    /// Which half of an import a job runs.
    pub enum Phase {
        Analyze = "analyze",
        Apply = "apply",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Import {
    pub import_id: i64,
    pub phase: Phase,
}

impl Job for Import {
    const KIND: &'static str = super::store::JOB_KIND;

    fn subject(&self) -> Option<Subject> {
        Some(Subject::import(self.import_id))
    }

    async fn run(self, state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
        run(state, job, self).await
    }

    /// The import shows why it stopped; nothing of it was written (apply is one transaction), and the user can
    /// upload the file again.
    async fn on_final_failure(&self, conn: &mut AsyncPgConnection, ended: &Ended<'_>) -> AppResult<()> {
        analyze::fail(
            conn,
            ended.tenant_id,
            self.import_id,
            &format!("The import could not finish: {}. Nothing was imported; try again.", ended.reason),
        )
        .await
    }
}

async fn run(state: Arc<AppState>, job: ClaimedJob, p: Import) -> Result<Completion, JobError> {
    let (tenant_id, import_id) = (job.tenant_id, p.import_id);
    let outcome = match p.phase {
        Phase::Analyze => {
            let mut conn = state.db.get().await?;
            let analysed = analyze::run(&mut conn, tenant_id, import_id).await.map(|c| serde_json::json!({ "analysed": c }));
            crate::db::retire(conn);
            analysed
        }
        Phase::Apply => {
            let who = Who { tenant_id, user_id: None, label: format!("import #{import_id}"), ip: None };
            apply::run(&state.db, &who, import_id).await.map(|a| serde_json::json!({ "applied": a }))
        }
    };
    // The step's working set (a whole file's keys, parsed records) is freed now: hand it back.
    crate::memory::give_back();
    match outcome {
        Ok(result) => Ok(Completion::result(result)),
        // No keyword column: keep the file and ask the user which columns to use.
        Err(ScanError::File(super::csv_stream::FileError::NoKeywordColumn { headers })) if !headers.is_empty() => {
            let message = super::csv_stream::FileError::NoKeywordColumn { headers: headers.clone() }.to_string();
            let mut conn = state.db.get().await?;
            analyze::needs_columns(&mut conn, tenant_id, import_id, &headers, &message).await?;
            Ok(Completion::result(serde_json::json!({ "needs_columns": message })))
        }
        // A file problem is the import's outcome, not the job's: the import says why; nothing was written.
        Err(ScanError::File(e)) => {
            let message = e.to_string();
            let mut conn = state.db.get().await?;
            analyze::fail(&mut conn, tenant_id, import_id, &message).await?;
            apply::drop_chunks(&mut conn, tenant_id, import_id).await?;
            Ok(Completion::result(serde_json::json!({ "failed": message })))
        }
        Err(ScanError::Db(e)) => Err(JobError::from(e)),
    }
}
