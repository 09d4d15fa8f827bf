//! How the offline dev provider answers the writer's prompts: an article with the asked headings and length,
//! image prompts, and a reparse that hands the article back — so the writer can be clicked through offline.

use super::prompts;
use crate::ai::ChatRequest;
use crate::ai::dev::DevAnswers;

pub fn register(a: &mut DevAnswers) {
    a.add(prompts::CONTENT_PURPOSE, article).add(prompts::IMAGE_PROMPTS_PURPOSE, image_prompts).add(prompts::REPARSE_PURPOSE, reparse);
}

fn article(req: &ChatRequest) -> Option<String> {
    let (title, outline, words) = prompts::content_request_in(&req.user);
    let headings = if outline.is_empty() {
        vec![format!("About {title}"), "Getting started".into(), "Frequently asked questions".into()]
    } else {
        outline
    };
    let per_section = (words / headings.len().max(1)).max(40);
    let sentence = format!(
        "This offline dev provider paragraph talks about {} so the pipeline can be tried without a provider key.",
        title.to_lowercase()
    );
    let mut html = String::new();
    for h in &headings {
        html.push_str(&format!("<h2>{h}</h2>"));
        let mut written = 0;
        while written < per_section {
            html.push_str(&format!("<p>{sentence}</p>"));
            written += sentence.split_whitespace().count();
        }
    }
    Some(
        serde_json::json!({ "title": title, "meta_title": title, "meta_description": format!("Everything about {title}."),
        "slug": "", "primary_keyword": "", "content_html": html })
        .to_string(),
    )
}

fn image_prompts(req: &ChatRequest) -> Option<String> {
    let count: usize = req
        .user
        .lines()
        .find_map(|l| l.strip_prefix("Write one featured-image prompt and "))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let title = req.user.lines().find_map(|l| l.strip_prefix("Article title: ")).unwrap_or("the article").to_string();
    let in_article: Vec<serde_json::Value> = (1..=count)
        .map(|i| serde_json::json!({ "prompt": format!("{title}, scene {i}"), "alt": format!("{title}: illustration {i}") }))
        .collect();
    Some(
        serde_json::json!({ "featured": { "prompt": format!("{title}, hero image"), "alt": title }, "in_article": in_article }).to_string(),
    )
}

/// Offline: hands the article back as it was, which passes the checks.
fn reparse(req: &ChatRequest) -> Option<String> {
    let html = req
        .user
        .split_once("Article HTML:\n")
        .and_then(|(_, rest)| rest.rsplit_once("\nAnswer in this JSON shape"))
        .map(|(h, _)| h)
        .unwrap_or("");
    Some(serde_json::json!({ "content_html": html }).to_string())
}
