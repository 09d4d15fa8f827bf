//! Modules not built yet: an honest "coming next" page inside the real layout, saying what will be here.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::rbac::Perm;
use crate::error::AppResult;
use crate::web::page::PageCtx;
use crate::web::render;

struct Upcoming {
    path: &'static str,
    title: &'static str,
    summary: &'static str,
}

const UPCOMING: &[Upcoming] = &[
    Upcoming { path: "/automation", title: "Automation", summary: "Run the whole pipeline on a schedule, within limits and a credit budget." },
];

#[derive(Template)]
#[template(path = "coming_next.html")]
struct ComingPage {
    page: PageCtx,
    title: &'static str,
    summary: &'static str,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    for u in UPCOMING {
        cfg.route(u.path, web::get().to(move |page: PageCtx| async move { show(page, u) }));
    }
}

fn show(page: PageCtx, u: &'static Upcoming) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    render(&ComingPage { page, title: u.title, summary: u.summary })
}
