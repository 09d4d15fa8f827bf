//! The planner's built-in prompts (defaults of the Thinker library, which a workspace may override). Each
//! prompt asks for JSON and names the exact shape the parser checks.

use crate::ai::prompts::Builtin;

pub const CLUSTER_PURPOSE: &str = "cluster_keywords";
pub const IDEAS_PURPOSE: &str = "content_ideas";

pub const CLUSTER_SYSTEM: &str = "You are an SEO strategist. Group search keywords into topical clusters: keywords in one \
cluster should be answerable by one article. Answer with JSON only, in this shape: \
{\"clusters\": [{\"name\": \"short cluster name\", \"description\": \"one sentence\", \"keywords\": [\"keyword\", ...]}]}. \
Use every keyword you are given exactly once, copied exactly as written; do not add keywords.";

pub const CLUSTER_TEMPLATE: &str = "Group these [IGNY8_KEYWORD_COUNT] keywords into clusters.\nKeywords:\n[IGNY8_KEYWORDS]";

/// The `[IGNY8_KEYWORDS]` value: one keyword per line, each after "- ".
pub fn keyword_lines(keywords: &[&str]) -> String {
    keywords.iter().map(|k| format!("- {k}\n")).collect()
}

/// The keywords listed in a rendered clustering prompt (the offline dev provider reads its own prompt back).
pub fn keywords_in(user: &str) -> Vec<&str> {
    user.split_once("Keywords:\n").map(|(_, rest)| rest.lines().filter_map(|l| l.strip_prefix("- ")).collect()).unwrap_or_default()
}

pub const IDEAS_SYSTEM: &str = "You are an SEO content strategist. Plan articles for a keyword cluster. Answer with JSON only, \
in this shape: {\"ideas\": [{\"title\": \"...\", \"description\": \"two sentences\", \"content_type\": \"post|page|product|service\", \
\"structure\": \"guide|how_to|listicle|comparison|review|news|case_study\", \"target_keywords\": [\"...\"], \
\"outline\": [\"H2 heading\", ...], \"estimated_words\": 1500}]}. Give exactly the number of ideas asked for, each with 4 to 8 H2 headings.";

pub const IDEAS_TEMPLATE: &str =
    "Cluster: [IGNY8_CLUSTER]\nDescription: [IGNY8_DESCRIPTION]\nKeywords: [IGNY8_KEYWORDS]\nIdeas: [IGNY8_COUNT]\n";

pub fn ideas_values(cluster: &str, description: &str, keywords: &[String], count: usize) -> Vec<(&'static str, String)> {
    vec![
        ("CLUSTER", cluster.to_string()),
        ("DESCRIPTION", description.to_string()),
        ("KEYWORDS", keywords.join(", ")),
        ("COUNT", count.to_string()),
    ]
}

/// (cluster name, idea count) from a rendered ideas prompt.
pub fn ideas_request_in(user: &str) -> (String, usize) {
    let field = |name: &str| user.lines().find_map(|l| l.strip_prefix(name)).unwrap_or("").trim().to_string();
    (field("Cluster:"), field("Ideas:").parse().unwrap_or(3))
}

/// The planner's prompts in the Thinker library.
pub const BUILTINS: [Builtin; 2] = [
    Builtin {
        key: "clustering",
        label: "Keyword clustering",
        purpose: CLUSTER_PURPOSE,
        system: CLUSTER_SYSTEM,
        template: CLUSTER_TEMPLATE,
        placeholders: &["KEYWORDS", "KEYWORD_COUNT"],
        required: &["KEYWORDS"],
    },
    Builtin {
        key: "ideas",
        label: "Content ideas",
        purpose: IDEAS_PURPOSE,
        system: IDEAS_SYSTEM,
        template: IDEAS_TEMPLATE,
        placeholders: &["CLUSTER", "DESCRIPTION", "KEYWORDS", "COUNT"],
        required: &["CLUSTER", "COUNT"],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_read_back() {
        use crate::ai::prompts::render;
        let cluster = render(CLUSTER_TEMPLATE, &[("KEYWORDS", keyword_lines(&["a b", "c"])), ("KEYWORD_COUNT", "2".into())]);
        assert_eq!(keywords_in(&cluster), vec!["a b", "c"]);
        assert_eq!(ideas_request_in(&render(IDEAS_TEMPLATE, &ideas_values("Shoes", "d", &["x".into()], 4))), ("Shoes".to_string(), 4));
    }
}
