//! Migration from the IGNY8 WordPress plugin (seed §2, §7): `igny8 import-wp` reads the plugin's tables and
//! IGNY8's parts of WordPress from MySQL/MariaDB, maps them onto the workspace's tables, validates them
//! (counts and content hashes), and switches the site over to Remote Mode. Settings → Migration shows the
//! reports. docs/MIGRATION.md describes the assumed plugin schema and every rule.

pub mod mapping;
mod page;
pub mod php;
pub mod report;
pub mod run;
mod settings;
pub mod source;
mod switch;
pub mod transform;
pub mod values;
pub mod write;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/migration", web::get().to(page::page)).route("/api/settings/migration", web::get().to(page::api));
}
