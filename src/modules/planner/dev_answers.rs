//! How the offline dev provider answers the planner's prompts: clusters from the local clusterer, ideas in the
//! shape the ideas prompt asks for — so the planner can be clicked through without a provider key.

use super::clustering::local;
use super::prompts;
use crate::ai::ChatRequest;
use crate::ai::dev::DevAnswers;

pub fn register(a: &mut DevAnswers) {
    a.add(prompts::CLUSTER_PURPOSE, clusters).add(prompts::IDEAS_PURPOSE, ideas);
}

fn clusters(req: &ChatRequest) -> Option<String> {
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

fn ideas(req: &ChatRequest) -> Option<String> {
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
        .map(|(lead, structure)| {
            serde_json::json!({
                "title": format!("{lead} {cluster}"),
                "description": format!("An article about {cluster} (offline dev provider)."),
                "content_type": "post",
                "structure": structure,
                "target_keywords": [cluster.to_lowercase()],
                "outline": [format!("What is {cluster}"), format!("Why {cluster} matters"), "How to get started".to_string(), "Frequently asked questions".to_string()],
                "estimated_words": 1500,
            })
        })
        .collect();
    Some(serde_json::json!({ "ideas": ideas }).to_string())
}
