//! Operations: backups and the restore drill, /metrics, the access log, a hung Redis and the upload quota.

mod access_log;
mod backup;
mod metrics;
mod redis_hang;
mod upload_quota;
