//! A fake AI provider for tests: a real HTTP server on loopback that speaks the OpenAI chat-completions,
//! OpenAI images and Runware shapes, and answers from a script — success, 500, 429 with Retry-After, too
//! slow, garbage, truncated — so every failure path runs over a real connection.

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::json;

/// The key the platform's providers send in tests.
pub const PLATFORM_KEY: &str = "sk-platform-PLATFORM-0123456789";

#[derive(Debug, Clone)]
#[allow(dead_code)]
pub enum Reply {
    /// A normal answer with this content.
    Ok(String),
    Status(u16, String),
    RateLimited {
        retry_after_secs: u64,
    },
    /// Answers only after this long (beyond the client's timeout).
    Slow(Duration),
    /// 200 with a body that is not JSON at all.
    Garbage,
    /// finish_reason = "length", content cut mid-way.
    Truncated,
}

#[derive(Debug, Clone)]
#[allow(dead_code)]
pub struct Seen {
    pub at: Instant,
    pub path: String,
    pub authorization: Option<String>,
    pub body: serde_json::Value,
}

/// Answers a request from what it asks (path, JSON body) once the scripted replies are used up.
pub type Responder = Box<dyn Fn(&str, &serde_json::Value) -> Option<Reply> + Send + Sync>;

#[derive(Default)]
pub struct Script {
    replies: Mutex<VecDeque<Reply>>,
    pub seen: Mutex<Vec<Seen>>,
    responder: Mutex<Option<Responder>>,
}

pub struct FakeAi {
    pub base: String,
    pub script: Arc<Script>,
}

#[allow(dead_code)]
impl FakeAi {
    pub fn start() -> FakeAi {
        let script = Arc::new(Script::default());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let s = script.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::from(s.clone()))
                .route("/v1/chat/completions", web::post().to(chat))
                .route("/v1/images/generations", web::post().to(images))
                .route("/runware", web::post().to(runware))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        FakeAi { base: format!("http://127.0.0.1:{port}/v1"), script }
    }

    /// Replies for the next requests, in order; after them every request succeeds.
    pub fn then(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.replies.lock().unwrap().extend(replies);
    }

    /// For many requests in no fixed order (a whole pipeline): answer each by what it asks.
    pub fn respond_with(&self, f: impl Fn(&str, &serde_json::Value) -> Option<Reply> + Send + Sync + 'static) {
        *self.script.responder.lock().unwrap() = Some(Box::new(f));
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.script.seen.lock().unwrap().clone()
    }

    /// Makes this fake the platform's provider for every text purpose — and, with `images`, for images — as a system
    /// administrator does in System → AI providers. Calls carry [`PLATFORM_KEY`].
    pub async fn serve_platform(&self, app: &crate::harness::TestApp, images: bool) {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        use igny8::db::schema::{platform_ai_providers as p, platform_ai_purposes as r};
        let mut conn = app.db().await;
        let key = app.state.vault.seal(PLATFORM_KEY);
        let mut add = async |kind: &str, name: &str| -> i64 {
            diesel::insert_into(p::table)
                .values((p::kind.eq(kind), p::name.eq(name), p::base_url.eq(&self.base), p::api_key_enc.eq(Some(&key))))
                .returning(p::id)
                .get_result(&mut conn)
                .await
                .unwrap()
        };
        let text = add("openai", "Platform chat").await;
        let image = if images { Some(add("openai_images", "Platform images").await) } else { None };
        let mut routes: Vec<(&str, i64, &str)> =
            igny8::ai::platform::PURPOSES.iter().filter(|(p, _)| *p != "image").map(|(p, _)| (*p, text, "gpt-4o-mini")).collect();
        routes.extend(image.map(|id| ("image", id, "dall-e-3")));
        for (purpose, provider, model) in routes {
            diesel::insert_into(r::table)
                .values((r::purpose.eq(purpose), r::provider_id.eq(provider), r::model.eq(model)))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        app.state.platform_ai.forget();
    }

    /// Points the workspace's text model at this fake (images stay on the dev provider).
    pub async fn use_for_text(&self, owner: &crate::harness::Browser) {
        let r = owner
            .api(
                reqwest::Method::PUT,
                "/api/settings/ai",
                Some(json!({ "text_provider": "openai", "text_base_url": self.base, "text_api_key": "sk-test-123456", "text_model": "gpt-4o-mini",
                             "image_provider": "dev", "image_model": "dev-image" })),
            )
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
}

fn record(s: &Script, req: &HttpRequest, body: &web::Bytes) -> Option<Reply> {
    let parsed: serde_json::Value = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
    s.seen.lock().unwrap().push(Seen {
        at: Instant::now(),
        path: req.path().to_string(),
        authorization: req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(String::from),
        body: parsed.clone(),
    });
    let scripted = s.replies.lock().unwrap().pop_front();
    scripted.or_else(|| s.responder.lock().unwrap().as_ref().and_then(|f| f(req.path(), &parsed)))
}

async fn failure(reply: &Reply) -> Option<HttpResponse> {
    match reply {
        Reply::Status(code, msg) => Some(
            HttpResponse::build(actix_web::http::StatusCode::from_u16(*code).unwrap())
                .json(json!({ "error": { "message": msg, "type": "server_error" } })),
        ),
        Reply::RateLimited { retry_after_secs } => Some(
            HttpResponse::TooManyRequests()
                .insert_header(("retry-after", retry_after_secs.to_string()))
                .json(json!({ "error": { "message": "Rate limit reached", "type": "requests" } })),
        ),
        Reply::Slow(d) => {
            tokio::time::sleep(*d).await;
            None
        }
        Reply::Garbage => Some(HttpResponse::Ok().content_type("application/json").body("<html>oops</html>")),
        _ => None,
    }
}

async fn chat(s: web::Data<Script>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let reply = record(&s, &req, &body).unwrap_or(Reply::Ok(String::new()));
    if let Some(r) = failure(&reply).await {
        return r;
    }
    let asked: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let model = asked["model"].as_str().unwrap_or("unknown").to_string();
    let (content, finish) = match reply {
        Reply::Ok(c) if !c.is_empty() => (c, "stop"),
        Reply::Truncated => ("{\"title\": \"An article that was cut".to_string(), "length"),
        _ => (if asked.get("response_format").is_some() { "{\"answer\": \"OK\"}".to_string() } else { "OK".to_string() }, "stop"),
    };
    HttpResponse::Ok().json(json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": model,
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": content }, "finish_reason": finish }],
        "usage": { "prompt_tokens": 1200, "completion_tokens": 800, "total_tokens": 2000 }
    }))
}

const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

async fn images(s: web::Data<Script>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let reply = record(&s, &req, &body).unwrap_or(Reply::Ok(String::new()));
    if let Some(r) = failure(&reply).await {
        return r;
    }
    HttpResponse::Ok().json(json!({ "created": 1, "data": [{ "b64_json": PNG_1X1, "revised_prompt": "test" }] }))
}

async fn runware(s: web::Data<Script>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let reply = record(&s, &req, &body).unwrap_or(Reply::Ok(String::new()));
    if let Some(r) = failure(&reply).await {
        return r;
    }
    let tasks: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let Some(task) = tasks.as_array().and_then(|t| t.iter().find(|t| t["taskType"] == "imageInference")) else {
        return HttpResponse::BadRequest().json(json!({ "errors": [{ "code": "invalidTask", "message": "no imageInference task" }] }));
    };
    if tasks[0]["apiKey"].as_str().unwrap_or("").is_empty() {
        return HttpResponse::Unauthorized().json(json!({ "errors": [{ "code": "invalidApiKey", "message": "Invalid API key" }] }));
    }
    HttpResponse::Ok().json(json!({ "data": [{
        "taskType": "imageInference", "taskUUID": task["taskUUID"], "imageUUID": "img-1", "imageBase64Data": PNG_1X1, "cost": 0.0013
    }] }))
}
