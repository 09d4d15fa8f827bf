//! The durable job queue: every AI action, publish and cron step runs as one job.
//!
//! - `kind` — typed jobs: the `Job` trait (payload, kind name, subject, run, failure hook) and the registry.
//! - `queue` — enqueue (inside the caller's transaction, with the credit reservation), the fair claim,
//!   completion, failure, deferral and cancellation behind a fencing check, lease renewal and the reaper.
//! - `worker` — the in-process worker pool: claims in batches, runs handlers, renews leases, wakes on Redis,
//!   polls without it, and shuts down gracefully; `heartbeat` says which worker processes are alive.
//! - `open` — "is there open work for this subject?", the one query every module asks.
//! - `probe` — the self-check job; `progress` — done/total of a running job; `listing` — the System pages.

pub mod heartbeat;
pub mod kind;
pub mod listing;
pub mod open;
pub mod probe;
pub mod progress;
pub mod queue;
pub mod worker;

pub use kind::{Ended, Job, JobStatus, Registry, Subject, SubjectKind};
pub use queue::{ClaimedJob, Completion, JobError, NewJob};
