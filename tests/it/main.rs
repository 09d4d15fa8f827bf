//! Integration tests: the real app on a random port, real Postgres, real Redis.

mod harness;
mod jobs;

mod ai;
mod automation;
mod auth;
mod cli;
mod bad_input;
mod csrf;
mod escaping;
mod fake_ai;
mod limits_and_ledger;
mod pages;
mod planner;
mod rbac;
mod sites;
mod readiness;
mod team;
mod thinker;
mod writer;
mod tenancy;
mod wordpress;
mod wp_site;
