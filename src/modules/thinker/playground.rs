//! The playground: render a prompt with sample values, run it (offline dev provider by default, or the
//! workspace's model) as an `ai.prompt` job, and see the raw answer, the parsed result and the tokens and cost.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::service;
use crate::ai::access;
use crate::ai::jobs::{ImageTest, Prompt};
use crate::ai::platform::IMAGE_PURPOSE;
use crate::auth::rbac::Perm;
use crate::billing::Price;
use crate::db::schema::ai_calls;
use crate::error::{AppError, AppResult};
use crate::jobs::listing::{self, JobRow};
use crate::jobs::queue::{self, NewJob};
use crate::jobs::{Job, JobStatus};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::validate::Check;
use crate::web::json_object::JsonObject;
use crate::web::page::PageCtx;
use crate::web::{redirect_with, render};

/// Sample values a placeholder starts with in the playground.
fn sample(name: &str) -> &'static str {
    match name {
        "TITLE" => "How to choose running shoes",
        "PRIMARY_KEYWORD" => "running shoes",
        "SECONDARY_KEYWORDS" => "trail running shoes, shoe size guide",
        "OUTLINE" => "- What matters in a running shoe\n- Fit and size\n- When to replace them",
        "WORD_COUNT" => "600",
        "KEYWORDS" => "- running shoes\n- best running shoes\n- chocolate cake recipe\n- easy chocolate cake\n",
        "KEYWORD_COUNT" => "4",
        "CLUSTER" => "Running shoes",
        "DESCRIPTION" => "Choosing and caring for running shoes",
        "COUNT" | "IMAGE_COUNT" => "3",
        "ARTICLE_HTML" => "<h2>Fit</h2><p>A shoe should fit snugly at the heel.</p>",
        "ARTICLE_TEXT" => "A shoe should fit snugly at the heel and leave room for the toes.",
        "IMAGE_PROMPT" => "a runner lacing shoes at dawn",
        "TONE" => "warm and practical",
        "LANGUAGE" => "English",
        _ => "",
    }
}

/// What a run asks for.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct RunInput {
    pub key: String,
    pub system: String,
    pub template: String,
    pub values: BTreeMap<String, String>,
    /// `dev` (default) or `workspace`.
    pub provider: String,
    pub json: bool,
}

/// Renders and queues the run: free on the dev provider, 1 credit on the workspace's model.
pub async fn run(state: &AppState, ctx: &TenantCtx, input: &RunInput) -> AppResult<i64> {
    ctx.require(Perm::EditContent)?;
    let mut c = Check::new();
    let template = c.multiline("template", &input.template, "Prompt", 1, 20_000);
    let system = c.multiline("system", &input.system, "System message", 0, 10_000);
    let dev = on_dev(state, &mut c, &input.provider);
    c.finish()?;
    let values: Vec<(&str, String)> = input.values.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let prompt = crate::ai::prompts::render(&template, &values);
    let run = Prompt {
        system,
        prompt,
        json: input.json,
        max_tokens: Some(2000),
        provider: if dev { "dev" } else { "workspace" }.into(),
        keep_unparsed: true,
        playground: input.key.clone(),
    };
    let price = if dev { Price::sample() } else { access::price(state, ctx.tenant_id, state.prompts.purpose_of(&input.key), 1).await? };
    let job = NewJob { max_attempts: 1, ..run.new_job(ctx.tenant_id).price(price).by(ctx.actor_label()) };
    let id = queue::enqueue(&state.db, job).await?;
    crate::jobs::worker::wake(state).await;
    Ok(id)
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ImageRunInput {
    pub prompt: String,
    /// `dev` (default) or `workspace`.
    pub provider: String,
}

/// Image testing: one prompt on the dev provider (free) or the workspace's image model (1 credit).
pub async fn run_image(state: &AppState, ctx: &TenantCtx, input: &ImageRunInput) -> AppResult<i64> {
    ctx.require(Perm::EditContent)?;
    let mut c = Check::new();
    let prompt = c.text("prompt", &input.prompt, "Image prompt", 3, 2000);
    let dev = on_dev(state, &mut c, &input.provider);
    c.finish()?;
    let test = ImageTest { prompt, provider: if dev { "dev" } else { "workspace" }.into() };
    let price = if dev { Price::sample() } else { access::price(state, ctx.tenant_id, IMAGE_PURPOSE, 1).await? };
    let job = NewJob { max_attempts: 1, ..test.new_job(ctx.tenant_id).price(price).by(ctx.actor_label()) };
    let id = queue::enqueue(&state.db, job).await?;
    crate::jobs::worker::wake(state).await;
    Ok(id)
}

/// The tested image's bytes (from the run's result), served with a sandbox CSP.
pub async fn image_bytes(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    use base64::Engine;
    ctx.require(Perm::ViewWorkspace)?;
    let mut conn = state.db.get().await?;
    let job: JobRow = listing::get(&mut conn, ctx.tenant_id, *id).await?;
    let r = job.result.filter(|_| job.kind == crate::ai::jobs::IMAGE_TEST).ok_or(AppError::NotFound)?;
    let bytes = r
        .get("bytes_b64")
        .and_then(|v| v.as_str())
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .ok_or(AppError::NotFound)?;
    let content_type = r.get("content_type").and_then(|v| v.as_str()).unwrap_or("application/octet-stream").to_string();
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
}

pub async fn image_form(state: web::Data<AppState>, ctx: TenantCtx, form: web::Form<ImageRunInput>) -> AppResult<HttpResponse> {
    let id = run_image(&state, &ctx, &form).await?;
    Ok(redirect_with(&format!("/thinker/playground/runs/{id}"), None))
}

pub async fn api_image(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<ImageRunInput>) -> AppResult<HttpResponse> {
    let id = run_image(&state, &ctx, &body).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "run_id": id })))
}

/// A run as the page and API show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunView {
    pub id: i64,
    pub status: String,
    pub prompt: String,
    pub system: String,
    pub provider: String,
    pub raw: Option<String>,
    pub output: Option<serde_json::Value>,
    pub parse_error: Option<String>,
    pub error: Option<String>,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub cost_usd: f64,
    pub model: String,
    /// An image test: the image's type and size (the bytes are at `/thinker/playground/runs/{id}/image`).
    pub image: Option<(String, i64)>,
}

impl RunView {
    pub fn is_running(&self) -> bool {
        JobStatus::parse(&self.status).is_some_and(|s| s.is_open())
    }
    pub fn output_pretty(&self) -> String {
        self.output.as_ref().filter(|v| !v.is_null()).map(|v| serde_json::to_string_pretty(v).unwrap_or_default()).unwrap_or_default()
    }
    pub fn cost_label(&self) -> String {
        format!("${:.6}", self.cost_usd)
    }
}

pub async fn view(state: &AppState, tenant_id: i64, id: i64) -> AppResult<RunView> {
    let mut conn = state.db.get().await?;
    let job: JobRow = listing::get(&mut conn, tenant_id, id).await?;
    if job.kind != crate::ai::jobs::PROMPT && job.kind != crate::ai::jobs::IMAGE_TEST {
        return Err(AppError::NotFound);
    }
    let is_image = job.kind == crate::ai::jobs::IMAGE_TEST;
    let calls: Vec<(i32, i32, i64, String)> = ai_calls::table
        .filter(ai_calls::tenant_id.eq(tenant_id))
        .filter(ai_calls::job_id.eq(id))
        .select((ai_calls::tokens_in, ai_calls::tokens_out, ai_calls::cost_micros, ai_calls::model))
        .load(&mut conn)
        .await?;
    let p = &job.payload;
    let r = job.result.clone().unwrap_or_default();
    let text = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(String::from);
    Ok(RunView {
        id,
        status: job.status.to_string(),
        prompt: text(p, "prompt").unwrap_or_default(),
        system: text(p, "system").unwrap_or_default(),
        provider: text(p, "provider").unwrap_or_default(),
        raw: if is_image { None } else { text(&r, "raw") },
        output: if is_image { None } else { r.get("output").cloned() },
        parse_error: text(&r, "parse_error"),
        error: job.last_error.clone(),
        tokens_in: calls.iter().map(|c| c.0 as i64).sum(),
        tokens_out: calls.iter().map(|c| c.1 as i64).sum(),
        cost_usd: calls.iter().map(|c| c.2).sum::<i64>() as f64 / 1_000_000.0,
        model: calls.last().map(|c| c.3.clone()).unwrap_or_default(),
        image: if is_image && job.status == JobStatus::Succeeded {
            Some((text(&r, "content_type").unwrap_or_default(), r.get("size").and_then(|v| v.as_i64()).unwrap_or(0)))
        } else {
            None
        },
    })
}

#[derive(Template)]
#[template(path = "thinker/playground.html")]
struct PlaygroundPage {
    page: PageCtx,
    key: String,
    keys: Vec<(&'static str, &'static str)>,
    system: String,
    template: String,
    fields: Vec<(String, String)>,
}

impl PlaygroundPage {
    fn can_run(&self) -> bool {
        self.page.can(&Perm::EditContent)
    }
}

#[derive(serde::Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    key: String,
}

pub async fn page(state: web::Data<AppState>, page: PageCtx, q: web::Query<PageQuery>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let key = state.prompts.builtin(&q.key).map(|b| b.key).unwrap_or("content");
    let mut conn = state.db.get().await?;
    let current = service::resolve(&state.prompts, &mut conn, page.ctx.tenant_id, key).await?;
    let b = state.prompts.builtin(key).ok_or(AppError::NotFound)?;
    let fields = b.placeholders.iter().map(|p| (p.to_string(), sample(p).to_string())).collect();
    let keys = state.prompts.all().iter().map(|b| (b.key, b.label)).collect();
    render(&PlaygroundPage { page, key: key.to_string(), keys, system: current.system, template: current.template, fields })
}

/// The page's form: `v_NAME` fields carry the sample values.
pub async fn run_form(state: web::Data<AppState>, ctx: TenantCtx, body: web::Bytes) -> AppResult<HttpResponse> {
    let pairs = crate::web::form_pairs(&body)?;
    let mut input = RunInput::default();
    for (k, v) in pairs {
        match k.as_str() {
            "key" => input.key = v,
            "system" => input.system = v,
            "template" => input.template = v,
            "provider" => input.provider = v,
            "json" => input.json = v == "on" || v == "1" || v == "true",
            other => {
                if let Some(name) = other.strip_prefix("v_") {
                    input.values.insert(name.to_string(), v);
                }
            }
        }
    }
    let id = run(&state, &ctx, &input).await?;
    Ok(redirect_with(&format!("/thinker/playground/runs/{id}"), None))
}

#[derive(Template)]
#[template(path = "thinker/run.html")]
struct RunPage {
    page: PageCtx,
    run: RunView,
}

pub async fn run_page(state: web::Data<AppState>, page: PageCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    page.ctx.require(Perm::ViewWorkspace)?;
    let run = view(&state, page.ctx.tenant_id, *id).await?;
    render(&RunPage { page, run })
}

pub async fn api_run(state: web::Data<AppState>, ctx: TenantCtx, body: JsonObject<RunInput>) -> AppResult<HttpResponse> {
    let id = run(&state, &ctx, &body).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "run_id": id })))
}

pub async fn api_view(state: web::Data<AppState>, ctx: TenantCtx, id: web::Path<i64>) -> AppResult<HttpResponse> {
    ctx.require(Perm::ViewWorkspace)?;
    Ok(HttpResponse::Ok().json(view(&state, ctx.tenant_id, *id).await?))
}

/// Whether a playground run goes to the offline dev provider: when asked (the default) and the server offers it.
fn on_dev(state: &AppState, c: &mut Check, provider: &str) -> bool {
    let enabled = state.config.ai_dev_provider;
    match provider {
        "workspace" => false,
        "dev" if !enabled => {
            c.fail("provider", "The offline dev provider is off on this server; run it on the workspace's model");
            false
        }
        _ => enabled,
    }
}
