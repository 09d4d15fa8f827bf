//! The offline dev provider: deterministic, realistic enough to click through the product, no network.
//! Used whenever a workspace has no provider key; the UI labels its output as such.

use futures_util::future::BoxFuture;

use super::{AiError, ChatRequest, ChatResponse, ImageProvider, ImageRequest, ImageResponse, TextProvider};
use crate::auth::secrets::sha256_hex;

pub const NAME: &str = "dev";
pub const TEXT_MODEL: &str = "dev-text";
pub const IMAGE_MODEL: &str = "dev-image";

pub struct DevProvider;

impl TextProvider for DevProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn chat<'a>(&'a self, req: &'a ChatRequest) -> BoxFuture<'a, Result<ChatResponse, AiError>> {
        Box::pin(async move {
            let seed = &sha256_hex(format!("{}\n{}", req.system, req.user))[..8];
            let topic: String = req.user.split_whitespace().take(8).collect::<Vec<_>>().join(" ");
            let content = if let Some(shaped) = shaped_answer(req) {
                shaped
            } else if req.json {
                serde_json::json!({
                    "answer": format!("Offline dev provider answer about “{topic}”."),
                    "provider": "dev",
                    "seed": seed,
                })
                .to_string()
            } else {
                format!(
                    "Offline dev provider answer about “{topic}” (seed {seed}). Connect a real provider in Settings → AI for real output."
                )
            };
            let tokens_in = ((req.system.len() + req.user.len()) / 4) as i64;
            let tokens_out = (content.len() / 4) as i64;
            Ok(ChatResponse { content, finish_reason: "stop".into(), tokens_in, tokens_out, model: TEXT_MODEL.into() })
        })
    }
}

/// Answers in the shape the planner's prompts ask for, so the pipeline can be clicked through offline.
fn shaped_answer(req: &ChatRequest) -> Option<String> {
    use crate::modules::planner::clustering::local;
    use crate::modules::planner::prompts;
    match req.purpose {
        prompts::CLUSTER_PURPOSE => {
            let items: Vec<local::Item> = prompts::keywords_in(&req.user)
                .iter()
                .enumerate()
                .map(|(i, k)| local::Item { id: i as i64, keyword: k.to_string(), volume: 0 })
                .collect();
            let out = local::cluster(&items, &local::Options::default());
            let name_of = |id: i64| items.get(id as usize).map(|i| i.keyword.clone()).unwrap_or_default();
            let mut clusters: Vec<serde_json::Value> = out
                .clusters
                .iter()
                .map(|c| {
                    serde_json::json!({ "name": c.name, "description": format!("Keywords about {}", c.name),
                    "keywords": c.keyword_ids.iter().map(|id| name_of(*id)).collect::<Vec<_>>() })
                })
                .collect();
            clusters.extend(
                out.unclustered.iter().map(|id| serde_json::json!({ "name": name_of(*id), "description": "", "keywords": [name_of(*id)] })),
            );
            Some(serde_json::json!({ "clusters": clusters }).to_string())
        }
        prompts::IDEAS_PURPOSE => {
            let (cluster, count) = prompts::ideas_request_in(&req.user);
            let shapes = [
                ("The complete guide to", "guide"),
                ("How to choose", "how_to"),
                ("10 things to know about", "listicle"),
                ("Comparing options for", "comparison"),
                ("An honest review of", "review"),
                ("Common mistakes with", "listicle"),
                ("What experts say about", "guide"),
            ];
            let ideas: Vec<serde_json::Value> = shapes
                .iter()
                .cycle()
                .take(count.clamp(1, 7))
                .map(|(lead, structure)| serde_json::json!({
                    "title": format!("{lead} {cluster}"),
                    "description": format!("An article about {cluster} (offline dev provider)."),
                    "content_type": "post",
                    "structure": structure,
                    "target_keywords": [cluster.to_lowercase()],
                    "outline": [format!("What is {cluster}"), format!("Why {cluster} matters"), "How to get started".to_string(), "Frequently asked questions".to_string()],
                    "estimated_words": 1500,
                }))
                .collect();
            Some(serde_json::json!({ "ideas": ideas }).to_string())
        }
        crate::modules::writer::prompts::CONTENT_PURPOSE => {
            let (title, outline, words) = crate::modules::writer::prompts::content_request_in(&req.user);
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
        crate::modules::writer::prompts::IMAGE_PROMPTS_PURPOSE => {
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
                serde_json::json!({ "featured": { "prompt": format!("{title}, hero image"), "alt": title }, "in_article": in_article })
                    .to_string(),
            )
        }
        crate::modules::writer::prompts::REPARSE_PURPOSE => {
            // Offline: hand the article back as it was, which passes the checks.
            let html = req
                .user
                .split_once("Article HTML:\n")
                .and_then(|(_, rest)| rest.rsplit_once("\nAnswer in this JSON shape"))
                .map(|(h, _)| h)
                .unwrap_or("");
            Some(serde_json::json!({ "content_html": html }).to_string())
        }
        _ => None,
    }
}

impl ImageProvider for DevProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    /// A small SVG placeholder whose colour follows the prompt.
    fn generate<'a>(&'a self, req: &'a ImageRequest) -> BoxFuture<'a, Result<ImageResponse, AiError>> {
        Box::pin(async move {
            let h = sha256_hex(&req.prompt);
            let label: String = req.prompt.chars().filter(|c| c.is_alphanumeric() || *c == ' ').take(40).collect();
            let svg = format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{hh}\" viewBox=\"0 0 {w} {hh}\">\
                 <rect width=\"100%\" height=\"100%\" fill=\"#{c}\"/>\
                 <text x=\"50%\" y=\"50%\" fill=\"#fff\" font-family=\"sans-serif\" font-size=\"28\" text-anchor=\"middle\">{label}</text>\
                 <text x=\"50%\" y=\"90%\" fill=\"#fff\" font-family=\"sans-serif\" font-size=\"16\" text-anchor=\"middle\">dev provider placeholder</text></svg>",
                w = req.width,
                hh = req.height,
                c = &h[..6],
            );
            Ok(ImageResponse { bytes: svg.into_bytes(), content_type: "image/svg+xml".into(), model: IMAGE_MODEL.into() })
        })
    }
}
