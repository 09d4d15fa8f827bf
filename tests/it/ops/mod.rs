//! Operations: backups and the restore drill, /metrics, the access log, a hung Redis, the upload quota, the schema
//! rule that keeps distribution by tenant possible, and the clean-context Docker build check.

mod access_log;
mod backup;
mod docker_context;
mod metrics;
mod redis_hang;
mod schema_rule;
mod upload_quota;
