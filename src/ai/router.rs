//! Picks the provider and model for a workspace, enforces the per-model rate limit (shared by all
//! replicas through Redis), falls back to the second model when the first fails, and logs every call.

use std::time::{Duration, Instant};

use super::access::{self, Endpoint, Kind, Source};
use super::calls::{self, CallRecord};
use super::dev::{self, DevProvider};
use super::openai::OpenAiCompat;
use super::platform::IMAGE_PURPOSE;
use super::runware::Runware;
use super::{AiError, ChatRequest, ChatResponse, ImageProvider, ImageRequest, ImageResponse, TextProvider};
use crate::kv;
use crate::state::AppState;

struct Route<P: ?Sized> {
    provider: Box<P>,
    models: Vec<String>,
    source: Source,
}

/// Opens the endpoint's key and checks its address (the resolver checks again at connect time).
async fn connect(state: &AppState, e: &Endpoint) -> Result<String, AiError> {
    crate::outbound::check_url(&e.base_url, state.config.allow_private_targets).await.map_err(AiError::Config)?;
    match &e.key_enc {
        Some(enc) => state.vault.open(enc).map_err(AiError::Config),
        None => Ok(String::new()),
    }
}

fn dev_route<P: ?Sized>(provider: Box<P>, model: &str) -> Route<P> {
    Route { provider, models: vec![model.into()], source: Source::Sample }
}

async fn text_route(state: &AppState, tenant_id: i64, purpose: &str) -> Result<Route<dyn TextProvider>, AiError> {
    // A job priced as free sample work runs as one, whatever provider was set up after it was queued.
    if crate::jobs::queue::runs_as_sample() {
        return Ok(dev_route(Box::new(DevProvider { answers: state.dev_answers.clone() }), dev::TEXT_MODEL));
    }
    let e = access::endpoint(state, tenant_id, purpose).await?;
    if e.kind == Kind::Dev {
        return Ok(dev_route(Box::new(DevProvider { answers: state.dev_answers.clone() }), dev::TEXT_MODEL));
    }
    let api_key = connect(state, &e).await?;
    let provider = OpenAiCompat { client: state.http.clone(), base_url: e.base_url.clone(), api_key, timeout: state.ai_timeout() };
    Ok(Route { provider: Box::new(provider), models: e.models, source: e.source })
}

async fn image_route(state: &AppState, tenant_id: i64) -> Result<Route<dyn ImageProvider>, AiError> {
    if crate::jobs::queue::runs_as_sample() {
        return Ok(dev_route(Box::new(DevProvider { answers: state.dev_answers.clone() }), dev::IMAGE_MODEL));
    }
    let e = access::endpoint(state, tenant_id, IMAGE_PURPOSE).await?;
    let (client, timeout) = (state.http.clone(), state.ai_timeout());
    let provider: Box<dyn ImageProvider> = match e.kind {
        Kind::Dev => return Ok(dev_route(Box::new(DevProvider { answers: state.dev_answers.clone() }), dev::IMAGE_MODEL)),
        Kind::OpenAi => Box::new(OpenAiCompat { client, base_url: e.base_url.clone(), api_key: connect(state, &e).await?, timeout }),
        Kind::Runware => Box::new(Runware { client, url: e.base_url.clone(), api_key: connect(state, &e).await?, timeout }),
    };
    Ok(Route { provider, models: e.models, source: e.source })
}

/// The per-model budget, shared by every replica through Redis and fair between workspaces: in each window a
/// model takes `IGNY8_AI_RATE_PER_MIN` calls, and a workspace at most its share of them (the budget divided by
/// the workspaces calling the model in that window), so one workspace's burst cannot hold back another's first
/// call. Checked and counted in one script, so refused calls count nothing. A call held back is `RateLimited`
/// with `held_back`: the job waits for the next window without spending an attempt. Without Redis the limit is
/// not enforced (logged) rather than stopping all AI work.
const FAIR_SHARE: &str = r"
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('EXPIRE', KEYS[3], ARGV[3])
local limit = tonumber(ARGV[1])
local total = tonumber(redis.call('GET', KEYS[1]) or '0')
if total >= limit then return 0 end
local share = math.max(1, math.ceil(limit / redis.call('SCARD', KEYS[3])))
if tonumber(redis.call('GET', KEYS[2]) or '0') >= share then return -1 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1";

/// Returns the moment the call was admitted: the log dates the call by it, so the log's windows are the limiter's.
async fn take_rate_slot(state: &AppState, tenant_id: i64, provider: &str, model: &str) -> Result<chrono::DateTime<chrono::Utc>, AiError> {
    let now = chrono::Utc::now();
    if provider == dev::NAME {
        return Ok(now); // offline and free: nothing to protect
    }
    let (limit, window) = (state.config.ai_rate_per_min as i64, state.config.ai_rate_window_secs.max(1) as i64);
    let window_ms = window * 1000;
    let index = now.timestamp_millis() / window_ms;
    // One hash tag for the three keys: valid on Redis Cluster.
    let tag = format!("rl:{provider}:{model}:{index}");
    let ns = &state.config.redis_namespace;
    let keys = [kv::key(ns, &tag, "n"), kv::key(ns, &tag, &format!("t:{tenant_id}")), kv::key(ns, &tag, "active")];
    let verdict = state.redis.bounded(async {
        let mut conn = state.redis.get().await.map_err(|e| e.to_string())?;
        deadpool_redis::redis::cmd("EVAL")
            .arg(FAIR_SHARE)
            .arg(3)
            .arg(&keys)
            .arg(limit)
            .arg(tenant_id)
            .arg(window + 1)
            .query_async::<i64>(&mut conn)
            .await
            .map_err(|e| e.to_string())
    });
    let wait = Duration::from_millis((window_ms - now.timestamp_millis() % window_ms).max(1) as u64);
    match verdict.await {
        Ok(1) => Ok(now),
        Ok(v) => Err(AiError::RateLimited {
            provider: if v == 0 {
                format!("the {model} budget of {limit} calls per {window}s")
            } else {
                format!("this workspace's share of the {model} budget of {limit} calls per {window}s")
            },
            retry_after: Some(wait),
            held_back: true,
        }),
        Err(e) => {
            tracing::warn!(error = %e, "AI rate limit not enforced (Redis unavailable)");
            Ok(now)
        }
    }
}

/// A chat completion for the tenant: primary model, then the fallback when the primary fails.
pub async fn chat(state: &AppState, tenant_id: i64, job_id: Option<i64>, req: ChatRequest) -> Result<ChatResponse, AiError> {
    let route = text_route(state, tenant_id, req.purpose).await?;
    chat_on(state, tenant_id, job_id, req, route).await
}

/// The same on the offline dev provider, whatever the workspace uses (the playground's default).
pub async fn chat_dev(state: &AppState, tenant_id: i64, job_id: Option<i64>, req: ChatRequest) -> Result<ChatResponse, AiError> {
    let route: Route<dyn TextProvider> = dev_route(Box::new(DevProvider { answers: state.dev_answers.clone() }), dev::TEXT_MODEL);
    chat_on(state, tenant_id, job_id, req, route).await
}

async fn chat_on(
    state: &AppState,
    tenant_id: i64,
    job_id: Option<i64>,
    req: ChatRequest,
    route: Route<dyn TextProvider>,
) -> Result<ChatResponse, AiError> {
    let mut last = AiError::Config("no model configured".into());
    for (i, model) in route.models.iter().enumerate() {
        let admitted = take_rate_slot(state, tenant_id, route.provider.name(), model).await?;
        let req = ChatRequest { model: model.clone(), ..req.clone() };
        let logged = calls::start(state, tenant_id, job_id, route.provider.name(), model, req.purpose, route.source, admitted).await;
        let started = Instant::now();
        let res = route.provider.chat(&req).await;
        let (tokens_in, tokens_out) = res.as_ref().map(|r| (r.tokens_in, r.tokens_out)).unwrap_or((0, 0));
        let error = res.as_ref().err().map(|e| e.to_string());
        let rec = CallRecord::finished(tenant_id, job_id, route.provider.name(), model, req.purpose, started, error);
        calls::finish(state, logged, CallRecord { tokens_in, tokens_out, source: route.source, ..rec }).await;
        match res {
            Ok(r) => return Ok(ChatResponse { sample: route.source == Source::Sample, ..r }),
            Err(e) => {
                let has_fallback = i + 1 < route.models.len();
                let worth_fallback =
                    !matches!(e, AiError::RateLimited { .. }) && (e.is_transient() || matches!(e, AiError::Http { status: 404, .. }));
                if has_fallback && worth_fallback {
                    tracing::info!(model, error = %e, "primary model failed; trying the fallback");
                    last = e;
                    continue;
                }
                return Err(e);
            }
        }
    }
    Err(last)
}

pub async fn image(state: &AppState, tenant_id: i64, job_id: Option<i64>, req: ImageRequest) -> Result<ImageResponse, AiError> {
    let route = image_route(state, tenant_id).await?;
    image_on(state, tenant_id, job_id, req, route).await
}

/// The same on the offline dev provider (the playground's default).
pub async fn image_dev(state: &AppState, tenant_id: i64, job_id: Option<i64>, req: ImageRequest) -> Result<ImageResponse, AiError> {
    let route: Route<dyn ImageProvider> = dev_route(Box::new(DevProvider { answers: state.dev_answers.clone() }), dev::IMAGE_MODEL);
    image_on(state, tenant_id, job_id, req, route).await
}

async fn image_on(
    state: &AppState,
    tenant_id: i64,
    job_id: Option<i64>,
    req: ImageRequest,
    route: Route<dyn ImageProvider>,
) -> Result<ImageResponse, AiError> {
    let model = route.models[0].clone();
    let admitted = take_rate_slot(state, tenant_id, route.provider.name(), &model).await?;
    let req = ImageRequest { model: model.clone(), ..req };
    let logged = calls::start(state, tenant_id, job_id, route.provider.name(), &model, IMAGE_PURPOSE, route.source, admitted).await;
    let started = Instant::now();
    let res = route.provider.generate(&req).await;
    let error = res.as_ref().err().map(|e| e.to_string());
    let rec = CallRecord::finished(tenant_id, job_id, route.provider.name(), &model, IMAGE_PURPOSE, started, error);
    calls::finish(state, logged, CallRecord { images: res.is_ok() as i64, source: route.source, ..rec }).await;
    res.map(|r| ImageResponse { sample: route.source == Source::Sample, ..r })
}
