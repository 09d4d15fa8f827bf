//! The planner's pages (HTML); the JSON API is in `../api.rs`. Both call the same services.

pub mod activity;
pub mod clusters;
pub mod ideas;
pub mod imports;
pub mod keywords;
