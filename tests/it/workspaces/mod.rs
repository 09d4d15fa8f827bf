//! Workspaces over their life: created by any user (0 credits, no second trial), left, exported as a zip with
//! every tenant table, deleted with every row — and a user with none left still signs in and starts over.

mod data;
mod lifecycle;
pub mod support;
