//! Publishing to WordPress (seed §2.3, §5): publish, update, unpublish and status sync as jobs, over the
//! `wordpress` client. Pages and the JSON API (`/api/publish/…`) queue them through `service`.

pub mod api;
pub mod content;
pub mod job;
pub mod media;
pub mod pages;
pub mod remote;
pub mod service;
pub mod sync;

use actix_web::web;

use crate::jobs::Registry;

pub fn routes(cfg: &mut web::ServiceConfig) {
    pages::routes(cfg);
    api::routes(cfg);
}

pub fn register_jobs(r: &mut Registry) {
    r.add::<job::PublishPost>().add::<sync::Unpublish>().add::<sync::Sync>();
}
