//! Clustering keywords, three ways: the free lexical clusterer (instant, in the request), the free local meaning
//! model (`semantic`, a job) and the AI (a job, 1 credit per 30 keywords). All write through
//! `clusters::service::ensure` and the keywords' bulk move.

pub mod ai;
pub mod eval;
pub mod local;
pub mod mapping;
pub mod semantic;
pub mod service;
