//! A fake Stripe API on loopback: it checks what Stripe itself would refuse (the secret key, the
//! form-encoded fields a checkout or portal session requires) and answers in Stripe's JSON shapes,
//! including its error object when told to fail.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::json;

pub const SECRET_KEY: &str = "sk_test_fake_0123456789";

#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub content_type: String,
    pub form: Vec<(String, String)>,
}

impl Seen {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Shared {
    seen: Mutex<Vec<Seen>>,
    fail: AtomicBool,
}

pub struct FakeStripe {
    pub base: String,
    shared: Arc<Shared>,
}

fn error(status: u16, kind: &str, message: &str, param: Option<&str>) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .json(json!({ "error": { "type": kind, "message": message, "param": param, "request_log_url": "https://dashboard.stripe.com/test/logs/req_fake" } }))
}

async fn handle(s: web::Data<Shared>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let seen = Seen {
        path: req.path().to_string(),
        content_type: req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string(),
        form,
    };
    s.seen.lock().unwrap().push(seen.clone());
    if req.headers().get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {SECRET_KEY}")) {
        return error(401, "invalid_request_error", "Invalid API Key provided", None);
    }
    if !seen.content_type.starts_with("application/x-www-form-urlencoded") {
        return error(400, "invalid_request_error", "Stripe expects form-encoded bodies", None);
    }
    if s.fail.load(Ordering::SeqCst) {
        return error(400, "invalid_request_error", "No such price: 'price_pro_test'", Some("line_items[0][price]"));
    }
    match seen.path.as_str() {
        "/v1/checkout/sessions" => {
            for required in ["mode", "line_items[0][price]", "line_items[0][quantity]", "success_url"] {
                if seen.get(required).is_none() {
                    return error(400, "invalid_request_error", &format!("Missing required param: {required}."), Some(required));
                }
            }
            let mode = seen.get("mode").unwrap();
            if !["subscription", "payment"].contains(&mode) {
                return error(400, "invalid_request_error", "Invalid mode", Some("mode"));
            }
            HttpResponse::Ok().json(json!({
                "id": "cs_test_a1b2c3", "object": "checkout.session", "mode": mode, "status": "open", "payment_status": "unpaid",
                "client_reference_id": seen.get("client_reference_id"), "customer": seen.get("customer"),
                "url": "https://checkout.stripe.com/c/pay/cs_test_a1b2c3", "livemode": false,
            }))
        }
        "/v1/billing_portal/sessions" => {
            let Some(customer) = seen.get("customer") else {
                return error(400, "invalid_request_error", "Missing required param: customer.", Some("customer"));
            };
            HttpResponse::Ok().json(json!({
                "id": "bps_test_1", "object": "billing_portal.session", "customer": customer, "return_url": seen.get("return_url"),
                "url": "https://billing.stripe.com/p/session/test_1", "livemode": false,
            }))
        }
        _ => error(404, "invalid_request_error", "Unrecognized request URL", None),
    }
}

impl FakeStripe {
    pub fn start() -> FakeStripe {
        let shared = Arc::new(Shared::default());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let s = shared.clone();
        let server = HttpServer::new(move || App::new().app_data(web::Data::from(s.clone())).default_service(web::post().to(handle)))
            .workers(1)
            .listen(listener)
            .unwrap()
            .run();
        tokio::spawn(server);
        FakeStripe { base: format!("http://127.0.0.1:{port}"), shared }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    pub fn fail(&self, on: bool) {
        self.shared.fail.store(on, Ordering::SeqCst);
    }
}
