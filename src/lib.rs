//! IGNY8: a multi-tenant AI SEO content platform in one binary.

pub mod ai;
pub mod app;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod billing;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod jobs;
pub mod kv;
pub mod listing;
pub mod mail;
pub mod memory;
pub mod modules;
pub mod outbound;
pub mod state;
pub mod tenancy;
pub mod validate;
pub mod web;
pub mod wordpress;

use crate::config::{Config, LogFormat};

/// Logs go to stdout: JSON when it is not a terminal (unless `IGNY8_LOG_FORMAT` says otherwise), and colour
/// codes only on a terminal, so files and log collectors never see escape sequences.
pub fn init_tracing(config: &Config) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,actix_server=warn"));
    let terminal = std::io::stdout().is_terminal();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(terminal);
    let json = match config.log_format {
        LogFormat::Auto => !terminal,
        LogFormat::Json => true,
        LogFormat::Text => false,
    };
    let _ =
        if json { builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init() } else { builder.try_init() };
}

/// The property tests' settings (`props.rs` beside the parsers): `cases` each, no regression files — the test
/// command fixes the seed instead, so a failure there can be replayed.
#[cfg(test)]
pub(crate) fn props_config(cases: u32) -> proptest::prelude::ProptestConfig {
    proptest::prelude::ProptestConfig { cases, failure_persistence: None, ..Default::default() }
}
