//! Integration tests: the real app on a random port, real Postgres, real Redis.

mod harness;
mod jobs;

mod ai;
mod auth;
mod automation;
mod bad_input;
mod cli;
mod csrf;
mod escaping;
mod fake_ai;
mod limits_and_ledger;
mod migration;
mod pages;
mod planner;
mod rbac;
mod readiness;
mod sites;
mod team;
mod tenancy;
mod thinker;
mod wordpress;
mod wp_site;
mod writer;
