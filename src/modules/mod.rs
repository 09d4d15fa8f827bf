//! Product modules: one folder each, with its routes, handlers and services.

pub mod automation;
pub mod billing_page;
pub mod dashboard;
pub mod migration;
pub mod planner;
pub mod publish;
pub mod settings;
pub mod sites;
pub mod system;
pub mod team;
pub mod thinker;
pub mod writer;
