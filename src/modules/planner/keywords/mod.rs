//! Keywords: the filtered list, add/edit/delete, bulk actions and CSV export.

pub mod bulk;
pub mod count;
pub mod export;
pub mod filter;
pub mod service;
