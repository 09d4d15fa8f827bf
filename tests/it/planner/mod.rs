//! The planner end to end: imports, keywords list, clustering (local, by meaning and AI), clusters, ideas, roles.

mod clustering;
mod clusters_list;
mod ideas;
mod import_bad_files;
mod import_fidelity;
mod import_formats;
mod import_rows;
mod keywords_list;
mod roles;
mod semantic;
pub mod support;
