//! IGNY8: a multi-tenant AI SEO content platform in one binary.

pub mod ai;
pub mod app;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod jobs;
pub mod kv;
pub mod listing;
pub mod modules;
pub mod outbound;
pub mod state;
pub mod tenancy;
pub mod web;
pub mod wordpress;

use crate::config::{Config, LogFormat};

pub fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,actix_server=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
