//! The writer's built-in content prompt, with `[IGNY8_*]` placeholders filled from the task. (The Thinker
//! library will let a workspace override it; the placeholders stay the contract.)

pub const CONTENT_PURPOSE: &str = "article_content";

pub const CONTENT_SYSTEM: &str = "You are an expert SEO content writer. Write complete, accurate, well-structured articles \
in clean HTML (h2/h3 headings, paragraphs, lists, tables where useful; no h1, no inline styles, no scripts). Answer with JSON only.";

pub const CONTENT_TEMPLATE: &str = "Write an article.
Title: [IGNY8_TITLE]
Primary keyword: [IGNY8_PRIMARY_KEYWORD]
Secondary keywords: [IGNY8_SECONDARY_KEYWORDS]
Outline (one H2 each):
[IGNY8_OUTLINE]
Length: about [IGNY8_WORD_COUNT] words
Answer in this JSON shape: {\"title\": \"...\", \"meta_title\": \"at most 60 characters\", \"meta_description\": \"at most 160 characters\", \
\"slug\": \"url-slug\", \"primary_keyword\": \"...\", \"secondary_keywords\": [\"...\"], \"content_html\": \"<h2>...</h2><p>...</p>\"}";

/// Replaces each `[IGNY8_NAME]` with its value; unknown placeholders are left as written.
pub fn render(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (name, value) in values {
        out = out.replace(&format!("[IGNY8_{name}]"), value);
    }
    out
}

/// (title, outline, word count) back from a rendered content prompt (the offline dev provider writes from it).
pub fn content_request_in(user: &str) -> (String, Vec<String>, usize) {
    let field = |name: &str| user.lines().find_map(|l| l.strip_prefix(name)).unwrap_or("").trim().to_string();
    let outline = user
        .split_once("Outline (one H2 each):\n")
        .map(|(_, rest)| rest.lines().take_while(|l| l.starts_with("- ")).map(|l| l[2..].to_string()).collect())
        .unwrap_or_default();
    let words = field("Length: about").trim_end_matches(" words").parse().unwrap_or(1500);
    (field("Title:"), outline, words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_reads_back() {
        let user = render(CONTENT_TEMPLATE, &[("TITLE", "Shoes".into()), ("OUTLINE", "- Fit\n- Price".into()), ("WORD_COUNT", "800".into())]);
        assert!(user.contains("Title: Shoes") && !user.contains("[IGNY8_TITLE]"));
        assert_eq!(content_request_in(&user), ("Shoes".into(), vec!["Fit".into(), "Price".into()], 800));
    }
}
