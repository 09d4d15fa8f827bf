//! Publishing to WordPress (seed §2.3, §5): publish, update, unpublish and status sync as jobs, over the
//! `wordpress` client. Pages and the JSON API (`/api/publish/…`) queue them through `service`.

pub mod api;
pub mod content;
pub mod job;
pub mod pages;
pub mod service;
pub mod sync;

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::web;
use futures_util::FutureExt;

use crate::jobs::kinds::Handler;

pub fn routes(cfg: &mut web::ServiceConfig) {
    pages::routes(cfg);
    api::routes(cfg);
}

pub fn register_jobs(handlers: &mut HashMap<&'static str, Handler>) {
    handlers.insert(service::PUBLISH_KIND, Arc::new(|state, job| job::run(state, job).boxed()));
    handlers.insert(service::UNPUBLISH_KIND, Arc::new(|state, job| sync::unpublish(state, job).boxed()));
    handlers.insert(service::SYNC_KIND, Arc::new(|state, job| sync::run(state, job).boxed()));
    handlers
        .insert(crate::modules::sites::selftest::JOB_KIND, Arc::new(|state, job| crate::modules::sites::selftest::job(state, job).boxed()));
}
