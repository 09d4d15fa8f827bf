//! Integration tests: the real app on a random port, real Postgres, real Redis.

mod harness;
mod jobs;
mod layers;
mod smtp;

mod accounts;
mod ai;
mod auth;
mod automation;
mod bad_input;
mod billing;
mod cli;
mod csrf;
mod escaping;
mod fake_ai;
mod hardening;
mod limits_and_ledger;
mod migration;
mod ops;
mod overlong;
mod pages;
mod planner;
mod platform_ai;
mod process;
mod rate_limits;
mod rbac;
mod readiness;
mod sites;
mod team;
mod tenancy;
mod thinker;
mod unattended;
mod wordpress;
mod workspaces;
mod wp_site;
mod writer;
