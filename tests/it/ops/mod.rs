//! Operations: backups and the restore drill, /metrics, the access log and a hung Redis.

mod access_log;
mod backup;
mod metrics;
mod redis_hang;
