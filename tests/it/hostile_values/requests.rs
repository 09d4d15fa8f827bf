//! Sending the sweep: the hostile variants of a form or a JSON route as requests, sent a few at a time, each
//! answer recorded as its status or why there was none.

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::Value;

use super::forms::{Fields, Form};
use super::values;
use crate::harness::Browser;

/// Requests in flight at once: more than the test app's pool of 6 database connections, so a handler that holds
/// one connection while waiting for another starves the pool and shows up as a 503.
pub const PARALLEL: usize = 8;

pub struct Outcome {
    pub what: String,
    pub status: Result<u16, String>,
}

/// A page's or error's text without markup, cut short.
pub fn gist(body: &str) -> String {
    let main = body.split_once("<main").map_or(body, |(_, m)| m);
    let mut text = String::new();
    let mut in_tag = false;
    for c in main.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(300).collect()
}

pub async fn send(req: reqwest::RequestBuilder, what: String) -> Outcome {
    let status = match req.send().await {
        // The body is read whole, so a connection dropped mid-answer counts too.
        Ok(r) => {
            let s = r.status().as_u16();
            match r.bytes().await {
                // What a 5xx said, to find its cause from the list.
                Ok(body) if s >= 500 => Err(format!("{s}: {}", gist(&String::from_utf8_lossy(&body)))),
                Ok(_) => Ok(s),
                Err(e) => Err(format!("answer cut off: {e}")),
            }
        }
        Err(e) => Err(format!("no answer: {e}")),
    };
    Outcome { what, status }
}

pub async fn run(requests: Vec<(reqwest::RequestBuilder, String)>, outcomes: &mut Vec<Outcome>) {
    let mut s = futures_util::stream::iter(requests.into_iter().map(|(req, what)| send(req, what))).buffer_unordered(PARALLEL);
    while let Some(o) = s.next().await {
        outcomes.push(o);
    }
}

pub fn multipart(fields: &[(String, String)], files: &[String], file_body: &str) -> (String, Vec<u8>) {
    let boundary = "hostileBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (n, v) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n").into_bytes());
    }
    for n in files {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{n}\"; filename=\"k.csv\"\r\nContent-Type: text/csv\r\n\r\n{file_body}\r\n")
                .into_bytes(),
        );
    }
    body.extend(format!("--{boundary}--\r\n").into_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Percent-encoded bytes that are no UTF-8 in place of the marker value (a `String` cannot hold them).
pub fn invalid_utf8(encoded: String) -> String {
    encoded.replace(&serde_urlencoded::to_string([("", values::INVALID_UTF8)]).unwrap()[1..], "%FF%FE%C3")
}

/// Every variant of one form: each field (and each file) in turn set to each hostile value, then each field repeated
/// array-style.
pub fn form_requests(b: &Browser, csrf: &str, form: &Form) -> Vec<(reqwest::RequestBuilder, String)> {
    let mutable: Vec<usize> = (0..form.fields.len()).filter(|&i| form.fields[i].0 != "csrf_token").collect();
    // (field, value kind, all fields, file content)
    let mut variants: Vec<(String, String, Fields, String)> = vec![];
    let base = form.fields.clone();
    let mut file_body = "keyword\nseo tools\n".to_string();
    for &i in &mutable {
        let name = &form.fields[i].0;
        for (kind, v) in values::form_values() {
            let mut fields = base.clone();
            fields[i].1 = v;
            variants.push((name.clone(), kind.to_string(), fields, file_body.clone()));
        }
        // Array-style repeats of the field.
        let mut twice = base.clone();
        twice.push((name.clone(), "2".into()));
        twice.push((format!("{name}[]"), "3".into()));
        variants.push((name.clone(), "repeated".into(), twice, file_body.clone()));
    }
    if form.multipart {
        for n in &form.files {
            for (kind, v) in values::form_values() {
                file_body = v;
                variants.push((n.clone(), kind.to_string(), base.clone(), file_body.clone()));
            }
        }
    }
    if variants.is_empty() {
        variants.push(("-".into(), "as shown".into(), base, file_body));
    }
    let mut out = vec![];
    for (field, kind, fields, file) in variants {
        let what = format!("{} {} [{field} = {kind}]", form.method, form.action);
        let url = b.url(&form.action);
        let req = if form.method == "GET" {
            if fields.iter().any(|(_, v)| v.len() > values::QUERY_MAX) {
                continue;
            }
            let sep = if url.contains('?') { '&' } else { '?' };
            b.client.get(format!("{url}{sep}{}", invalid_utf8(serde_urlencoded::to_string(&fields).unwrap())))
        } else if form.multipart {
            let (ct, body) = multipart(&fields, &form.files, &file);
            b.client.post(url).header("content-type", ct).header("x-csrf-token", csrf).body(body)
        } else {
            let body = invalid_utf8(serde_urlencoded::to_string(&fields).unwrap());
            b.client.post(url).header("content-type", "application/x-www-form-urlencoded").header("x-csrf-token", csrf).body(body)
        };
        out.push((req, what));
    }
    out
}

/// Every variant of one JSON route: each documented field in turn given each hostile value, then whole bodies
/// that are not an object.
pub fn json_requests(b: &Browser, csrf: &str, method: &str, path: &str, fields: &[String]) -> Vec<(reqwest::RequestBuilder, String)> {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut bodies: Vec<(String, Vec<u8>)> = vec![];
    let base: serde_json::Map<String, Value> = fields.iter().map(|f| (f.clone(), values::plausible(f))).collect();
    for f in fields {
        for (kind, raw) in values::json_values() {
            let mut body = base.clone();
            body.insert(f.clone(), Value::String("\u{1}HOSTILE\u{1}".into()));
            let text = serde_json::to_string(&body).unwrap().replace("\"\\u0001HOSTILE\\u0001\"", &raw);
            bodies.push((format!("{f} = {kind}"), text.into_bytes()));
        }
    }
    for (kind, raw) in values::json_bodies() {
        bodies.push((kind.to_string(), raw));
    }
    bodies
        .into_iter()
        .map(|(what, body)| {
            let req = b
                .client
                .request(method.clone(), b.url(path))
                .header("content-type", "application/json")
                .header("x-csrf-token", csrf)
                .body(body);
            (req, format!("{method} {path} [{what}]"))
        })
        .collect()
}
