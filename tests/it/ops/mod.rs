//! Operations: /metrics, the access log and a hung Redis.

mod access_log;
mod metrics;
mod redis_hang;
