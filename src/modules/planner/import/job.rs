//! The `planner.import` job: payload `{"import_id": n, "phase": "analyze" | "apply"}`.

use std::sync::Arc;

use super::scan::ScanError;
use super::{analyze, apply};
use crate::app::AppState;
use crate::audit::Who;
use crate::jobs::queue::{ClaimedJob, Completion, JobError};

pub async fn run(state: Arc<AppState>, job: ClaimedJob) -> Result<Completion, JobError> {
    let import_id =
        job.payload.get("import_id").and_then(|v| v.as_i64()).ok_or_else(|| JobError::Fatal("the job names no import".into()))?;
    let tenant_id = job.tenant_id;
    let outcome = match job.payload.get("phase").and_then(|v| v.as_str()) {
        Some("analyze") => {
            let mut conn = state.db.get().await?;
            let analysed = analyze::run(&mut conn, tenant_id, import_id).await.map(|c| serde_json::json!({ "analysed": c }));
            crate::db::retire(conn);
            analysed
        }
        Some("apply") => {
            let who = Who { tenant_id, user_id: None, label: format!("import #{import_id}"), ip: None };
            apply::run(&state.db, &who, import_id).await.map(|a| serde_json::json!({ "applied": a }))
        }
        _ => return Err(JobError::Fatal("unknown import phase".into())),
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
        Err(ScanError::Db(e)) => {
            let e = JobError::from(e);
            if job.is_final(&e)
                && let Ok(mut conn) = state.db.get().await
            {
                analyze::fail(
                    &mut conn,
                    tenant_id,
                    import_id,
                    &format!("The import could not finish: {}. Nothing was imported; try again.", e.message()),
                )
                .await
                .ok();
            }
            Err(e)
        }
    }
}
