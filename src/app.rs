//! Assembles the application — the top layer: middleware, every module's routes, job kinds, built-in prompts and
//! dev answers. Nothing below imports this file (modules use `crate::state::AppState`), so no product module sits
//! in an import cycle.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};

use crate::error::AppError;
use crate::jobs::Registry;
use crate::state::{AppState, Parts};
use crate::web::middleware;

/// Every module's routes, in one list.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/{path:.*}", web::get().to(crate::web::assets::serve));
    crate::auth::routes(cfg);
    crate::tenancy::pages::routes(cfg);
    crate::modules::dashboard::routes(cfg);
    crate::modules::team::routes(cfg);
    crate::modules::system::routes(cfg);
    crate::modules::billing_page::routes(cfg);
    crate::modules::settings::routes(cfg);
    crate::modules::migration::routes(cfg);
    crate::modules::planner::routes(cfg);
    crate::modules::writer::routes(cfg);
    crate::modules::thinker::routes(cfg);
    crate::modules::sites::routes(cfg);
    crate::modules::publish::routes(cfg);
    crate::modules::automation::routes(cfg);
}

/// Every job kind of the app. The queue knows no module; each module lists its kinds here.
pub fn job_kinds() -> Registry {
    let mut r = Registry::default();
    r.add::<crate::jobs::probe::Probe>();
    r.add::<crate::mail::MailSend>();
    crate::ai::jobs::register(&mut r);
    crate::modules::planner::register_jobs(&mut r);
    crate::modules::writer::register_jobs(&mut r);
    crate::modules::publish::register_jobs(&mut r);
    crate::modules::sites::register_jobs(&mut r);
    r
}

/// Every built-in prompt, in the order the Thinker lists them.
pub fn prompts() -> crate::ai::prompts::Library {
    let mut l = crate::ai::prompts::Library::default();
    l.add(&crate::modules::planner::prompts::BUILTINS).add(&crate::modules::writer::prompts::BUILTINS);
    l
}

/// How the offline dev provider answers each module's prompts.
pub fn dev_answers() -> crate::ai::dev::DevAnswers {
    let mut a = crate::ai::dev::DevAnswers::default();
    crate::modules::planner::dev_answers::register(&mut a);
    crate::modules::writer::dev_answers::register(&mut a);
    a
}

/// What the modules contribute to the state.
pub fn parts() -> Parts {
    Parts { jobs: job_kinds(), prompts: prompts(), dev_answers: dev_answers() }
}

/// The shared state of a process that serves and runs jobs.
pub fn state(config: crate::config::Config) -> anyhow::Result<AppState> {
    AppState::new(config, parts())
}

/// Input that cannot be parsed becomes a clear 4xx through `AppError`, never a 500.
fn extractor_config(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::FormConfig::default()
            .limit(256 * 1024)
            .error_handler(|e, _| AppError::BadRequest(format!("The form could not be read: {e}")).into()),
    )
    .app_data(web::JsonConfig::default().limit(1024 * 1024).error_handler(|e, _| {
        let msg = match &e {
            actix_web::error::JsonPayloadError::ContentType => "Send the body as JSON (Content-Type: application/json)".to_string(),
            actix_web::error::JsonPayloadError::Deserialize(d) => format!("The JSON body is not valid: {d}"),
            other => format!("The JSON body could not be read: {other}"),
        };
        AppError::BadRequest(msg).into()
    }))
    .app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
    .app_data(web::QueryConfig::default().error_handler(|e, _| AppError::BadRequest(format!("The query string is not valid: {e}")).into()));
}

pub fn server(state: Arc<AppState>, listener: TcpListener) -> std::io::Result<Server> {
    let state = web::Data::from(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .configure(extractor_config)
            .configure(routes)
            .default_service(web::to(|| async { Err::<actix_web::HttpResponse, _>(AppError::NotFound) }))
            .wrap(from_fn(middleware::csrf))
            .wrap(from_fn(crate::web::input_guard::input_guard))
            // Outside CSRF, so refused forms count too; inside the error rendering, so a 429 is a page or JSON.
            .wrap(from_fn(crate::web::rate_limit::limit))
            .wrap(Compress::default())
            .wrap(from_fn(middleware::request_id_and_errors))
    })
    .listen(listener)?
    // Signals are the caller's: `serve` drains first (/readyz 503) and then stops the server.
    .disable_signals()
    .shutdown_timeout(10)
    .run();
    Ok(server)
}
