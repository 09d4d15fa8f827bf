//! Open work by subject: is a job for this task (image, import, cluster, site) still queued or running? Every
//! module asks this one indexed query (`jobs_open_subject_idx`), so "busy" means the same on every page.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::kind::{JobStatus, Subject, SubjectKind};
use crate::db::schema::jobs;
use crate::error::AppResult;

/// Is a job of one of `kinds` open for `subject`?
pub async fn has_open(conn: &mut AsyncPgConnection, tenant_id: i64, subject: Subject, kinds: &[&str]) -> AppResult<bool> {
    let n: i64 = jobs::table
        .filter(jobs::tenant_id.eq(tenant_id))
        .filter(jobs::subject_type.eq(subject.kind))
        .filter(jobs::subject_id.eq(subject.id))
        .filter(jobs::kind.eq_any(kinds))
        .filter(jobs::status.eq_any(JobStatus::OPEN))
        .count()
        .get_result(conn)
        .await?;
    Ok(n > 0)
}

/// Which of `ids` have an open job of one of `kinds`.
pub async fn open_among(
    conn: &mut AsyncPgConnection,
    tenant_id: i64,
    kind: SubjectKind,
    ids: &[i64],
    kinds: &[&str],
) -> AppResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let found: Vec<Option<i64>> = jobs::table
        .filter(jobs::tenant_id.eq(tenant_id))
        .filter(jobs::subject_type.eq(kind))
        .filter(jobs::subject_id.eq_any(ids))
        .filter(jobs::kind.eq_any(kinds))
        .filter(jobs::status.eq_any(JobStatus::OPEN))
        .select(jobs::subject_id)
        .distinct()
        .load(conn)
        .await?;
    Ok(found.into_iter().flatten().collect())
}

/// The SQL condition "an open job of `kind` exists for the row `alias`.id" (for raw list and pick queries);
/// `kind` and the subject type are bound by the caller as `$kind_param`/`$type_param`.
pub fn exists_sql(alias: &str, type_param: &str, kind_param: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM jobs oj WHERE oj.tenant_id = {alias}.tenant_id AND oj.subject_type = {type_param} \
         AND oj.subject_id = {alias}.id AND oj.kind = {kind_param} AND oj.status IN ('queued', 'running'))"
    )
}
