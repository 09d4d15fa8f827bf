//! Finding what to sweep: the pages reachable from the route list, their forms, and a concrete path (real ids)
//! for a route pattern.

use std::collections::BTreeMap;

use serde_json::Value;

use super::forms::{self, Form};
use super::requests::Outcome;
use super::routes::{self, Route, has_params, matches};
use crate::harness::Browser;

/// The pages reachable from the route list: parameterless GET routes first, then each parameterised one at the
/// first link to it found on a page (so its ids are real objects of the workspace), and `extra` (links only a mail
/// carries).
pub async fn crawl(b: &Browser, all: &[Route], extra: &[String], outcomes: &mut Vec<Outcome>) -> (BTreeMap<String, String>, Vec<String>) {
    let pages: Vec<&Route> = all.iter().filter(|r| r.method == "GET" && !r.pattern.starts_with("/api/")).collect();
    let mut queue: Vec<String> = pages.iter().filter(|r| !has_params(&r.pattern)).map(|r| r.pattern.clone()).collect();
    queue.extend_from_slice(extra);
    let (mut html, mut links, mut done) = (BTreeMap::new(), Vec::<String>::new(), Vec::<String>::new());
    while !queue.is_empty() {
        for path in std::mem::take(&mut queue) {
            let r = b.client.get(b.url(&path)).send().await;
            let Ok(r) = r else {
                outcomes.push(Outcome { what: format!("GET {path}"), status: Err("no answer".into()) });
                continue;
            };
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            outcomes.push(Outcome { what: format!("GET {path}"), status: Ok(status) });
            for l in routes::links(&text) {
                if !links.contains(&l) {
                    links.push(l);
                }
            }
            html.insert(path, text);
        }
        for r in pages.iter().filter(|r| has_params(&r.pattern)) {
            if !done.contains(&r.pattern)
                && let Some(l) = links.iter().find(|l| matches(&r.pattern, l))
            {
                done.push(r.pattern.clone());
                queue.push(l.clone());
            }
        }
    }
    (html, links)
}

/// Adds the forms of `pages` not yet in `out` nor in `except` (the same form shows on several pages).
pub fn add_forms(pages: &BTreeMap<String, String>, except: &[Form], out: &mut Vec<Form>) {
    let key = |f: &Form| (f.method.clone(), f.action.clone());
    for (path, html) in pages {
        for f in forms::forms(html, path) {
            if !out.iter().chain(except).any(|g| key(g) == key(&f)) {
                out.push(f);
            }
        }
    }
}

/// A concrete path for a route: the page link to the same object when there is one, else the first id (or key)
/// its API collection lists, else `1` (answered 404, which is fine).
pub async fn resolve(b: &Browser, pattern: &str, links: &[String]) -> String {
    let page = pattern.strip_prefix("/api").unwrap_or(pattern);
    if let Some(l) = links.iter().find(|l| matches(page, l)) {
        return format!("/api{}", l.split('?').next().unwrap_or_default());
    }
    let mut out: Vec<String> = vec![];
    for seg in pattern.split('/') {
        if !seg.starts_with('{') {
            out.push(seg.to_string());
            continue;
        }
        let value = match seg {
            "{step}" => "cluster".to_string(),
            "{key}" => "content".to_string(),
            _ => {
                let list = out.join("/");
                let list = if list.starts_with("/api/") { list } else { format!("/api{list}") };
                let list: Value = b.get(&list).await.json().await.unwrap_or(Value::Null);
                first_id(&list).unwrap_or_else(|| "1".into())
            }
        };
        out.push(value);
    }
    out.join("/")
}

pub fn first_id(v: &Value) -> Option<String> {
    match v {
        Value::Object(m) => m.get("id").and_then(Value::as_i64).map(|n| n.to_string()).or_else(|| m.values().find_map(first_id)),
        Value::Array(a) => a.iter().find_map(first_id),
        _ => None,
    }
}
