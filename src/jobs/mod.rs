//! The durable job queue: every AI action, publish and cron step runs as one job.
//!
//! - `queue` — enqueue (inside the caller's transaction, with the credit reservation), the fair claim,
//!   completion and failure behind a fencing check, cancellation, lease renewal and the reaper.
//! - `worker` — the in-process worker pool: claims in batches, runs handlers, renews leases, wakes on Redis,
//!   polls without it, and shuts down gracefully.
//! - `kinds` — the registry of job kinds and their handlers.
//! - `progress` — done/total of a running job, for live progress bars.

pub mod kinds;
pub mod listing;
pub mod progress;
pub mod queue;
pub mod worker;

pub use queue::{ClaimedJob, JobError, NewJob};
