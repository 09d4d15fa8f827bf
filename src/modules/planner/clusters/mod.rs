//! Clusters of keywords: list with figures, create, rename, merge, delete.

pub mod service;
