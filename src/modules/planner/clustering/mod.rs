//! Clustering keywords, two ways: the free local clusterer (instant, in the request) and the AI (a job,
//! 1 credit per 30 keywords). Both write through `clusters::service::ensure` and the keywords' bulk move.

pub mod ai;
pub mod eval;
pub mod local;
pub mod mapping;
pub mod service;
