//! The writer's built-in prompts (defaults of the Thinker library), with `[IGNY8_*]` placeholders filled
//! from the task; the placeholders are the contract a workspace's own version must keep to.

use crate::ai::prompts::Builtin;

pub const CONTENT_PURPOSE: &str = "article_content";
pub const REPARSE_PURPOSE: &str = "article_reparse";
pub const IMAGE_PROMPTS_PURPOSE: &str = "image_prompts";

pub const CONTENT_SYSTEM: &str = "You are an expert SEO content writer. Write complete, accurate, well-structured articles \
in clean HTML (h2/h3 headings, paragraphs, lists, tables where useful; no h1, no inline styles, no scripts). Answer with JSON only.";

pub const CONTENT_TEMPLATE: &str = "Write an article.
Title: [IGNY8_TITLE]
Primary keyword: [IGNY8_PRIMARY_KEYWORD]
Secondary keywords: [IGNY8_SECONDARY_KEYWORDS]
Outline (one H2 each):
[IGNY8_OUTLINE]
Length: about [IGNY8_WORD_COUNT] words
Tone: [IGNY8_TONE]. Language: [IGNY8_LANGUAGE].
[IGNY8_AUTHOR_PROFILE]
[IGNY8_STRATEGY]
Answer in this JSON shape: {\"title\": \"...\", \"meta_title\": \"at most 60 characters\", \"meta_description\": \"at most 160 characters\", \
\"slug\": \"url-slug\", \"primary_keyword\": \"...\", \"secondary_keywords\": [\"...\"], \"content_html\": \"<h2>...</h2><p>...</p>\"}";

pub const REPARSE_SYSTEM: &str = "You are an editor. Restructure and reformat the article you are given into clean, well-organised \
HTML (h2/h3 headings, short paragraphs, lists and tables where they help) without changing its facts. Answer with JSON only.";

pub const REPARSE_TEMPLATE: &str = "Restructure this article.
Title: [IGNY8_TITLE]
Primary keyword: [IGNY8_PRIMARY_KEYWORD]
Article HTML:
[IGNY8_ARTICLE_HTML]
Answer in this JSON shape: {\"content_html\": \"<h2>...</h2><p>...</p>\"}";

pub const IMAGE_PROMPTS_SYSTEM: &str =
    "You write prompts for an image model: concrete, visual, no text in the image. Answer with JSON only.";

pub const IMAGE_PROMPTS_TEMPLATE: &str = "Article title: [IGNY8_TITLE]
Article text:
[IGNY8_ARTICLE_TEXT]
Write one featured-image prompt and [IGNY8_IMAGE_COUNT] in-article image prompts, each with alt text.
Answer in this JSON shape: {\"featured\": {\"prompt\": \"...\", \"alt\": \"...\"}, \"in_article\": [{\"prompt\": \"...\", \"alt\": \"...\"}]}";

pub const IMAGE_TEMPLATE: &str = "[IGNY8_IMAGE_PROMPT]. High-quality editorial photograph, natural light, no text or logos.";

pub use crate::ai::prompts::render;

/// The writer's prompts in the Thinker library.
pub const BUILTINS: [Builtin; 4] = [
    Builtin {
        key: "content",
        label: "Article content",
        purpose: CONTENT_PURPOSE,
        system: CONTENT_SYSTEM,
        template: CONTENT_TEMPLATE,
        placeholders: &[
            "TITLE",
            "PRIMARY_KEYWORD",
            "SECONDARY_KEYWORDS",
            "OUTLINE",
            "WORD_COUNT",
            "TONE",
            "LANGUAGE",
            "AUTHOR_PROFILE",
            "STRATEGY",
        ],
        required: &["TITLE"],
    },
    Builtin {
        key: "reparse",
        label: "Reparse (restructure an article)",
        purpose: REPARSE_PURPOSE,
        system: REPARSE_SYSTEM,
        template: REPARSE_TEMPLATE,
        placeholders: &["TITLE", "PRIMARY_KEYWORD", "ARTICLE_HTML"],
        required: &["ARTICLE_HTML"],
    },
    Builtin {
        key: "image_prompts",
        label: "Image prompts from an article",
        purpose: IMAGE_PROMPTS_PURPOSE,
        system: IMAGE_PROMPTS_SYSTEM,
        template: IMAGE_PROMPTS_TEMPLATE,
        placeholders: &["TITLE", "ARTICLE_TEXT", "IMAGE_COUNT"],
        required: &["ARTICLE_TEXT"],
    },
    Builtin {
        key: "image",
        label: "Image",
        purpose: "image",
        system: "",
        template: IMAGE_TEMPLATE,
        placeholders: &["IMAGE_PROMPT", "TITLE"],
        required: &["IMAGE_PROMPT"],
    },
];

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
        let user =
            render(CONTENT_TEMPLATE, &[("TITLE", "Shoes".into()), ("OUTLINE", "- Fit\n- Price".into()), ("WORD_COUNT", "800".into())]);
        assert!(user.contains("Title: Shoes") && !user.contains("[IGNY8_TITLE]"));
        assert_eq!(content_request_in(&user), ("Shoes".into(), vec!["Fit".into(), "Price".into()], 800));
    }
}
