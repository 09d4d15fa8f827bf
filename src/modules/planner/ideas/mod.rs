//! Content ideas: generated per cluster by the AI, edited by hand, sent to the writer as tasks.

pub mod generate;
pub mod service;
