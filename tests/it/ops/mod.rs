//! Operations: backups and the restore drill, /metrics, the access log, a hung Redis, the upload quota and the
//! schema rule that keeps distribution by tenant possible.

mod access_log;
mod backup;
mod metrics;
mod redis_hang;
mod schema_rule;
mod upload_quota;
