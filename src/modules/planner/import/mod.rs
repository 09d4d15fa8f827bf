//! CSV import of keywords: upload (stored in chunks) → analysis job (every row validated, rejects with
//! line and reason, preview) → the user's go-ahead → import job (one transaction).

pub mod analyze;
pub mod apply;
pub mod countries;
pub mod csv_stream;
pub mod job;
pub mod mapping;
pub mod rows;
pub mod scan;
pub mod store;
