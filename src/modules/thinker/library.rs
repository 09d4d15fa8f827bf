//! The built-in prompts, shipped in the binary: for each step its system message, its template with
//! `[IGNY8_*]` placeholders, the placeholders it may use and the ones it cannot do without.

use crate::modules::planner::prompts as planner;
use crate::modules::writer::prompts as writer;

pub struct Builtin {
    pub key: &'static str,
    pub label: &'static str,
    pub system: &'static str,
    pub template: &'static str,
    pub placeholders: &'static [&'static str],
    pub required: &'static [&'static str],
}

pub const LIBRARY: &[Builtin] = &[
    Builtin {
        key: "clustering",
        label: "Keyword clustering",
        system: planner::CLUSTER_SYSTEM,
        template: planner::CLUSTER_TEMPLATE,
        placeholders: &["KEYWORDS", "KEYWORD_COUNT"],
        required: &["KEYWORDS"],
    },
    Builtin {
        key: "ideas",
        label: "Content ideas",
        system: planner::IDEAS_SYSTEM,
        template: planner::IDEAS_TEMPLATE,
        placeholders: &["CLUSTER", "DESCRIPTION", "KEYWORDS", "COUNT"],
        required: &["CLUSTER", "COUNT"],
    },
    Builtin {
        key: "content",
        label: "Article content",
        system: writer::CONTENT_SYSTEM,
        template: writer::CONTENT_TEMPLATE,
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
        system: writer::REPARSE_SYSTEM,
        template: writer::REPARSE_TEMPLATE,
        placeholders: &["TITLE", "PRIMARY_KEYWORD", "ARTICLE_HTML"],
        required: &["ARTICLE_HTML"],
    },
    Builtin {
        key: "image_prompts",
        label: "Image prompts from an article",
        system: writer::IMAGE_PROMPTS_SYSTEM,
        template: writer::IMAGE_PROMPTS_TEMPLATE,
        placeholders: &["TITLE", "ARTICLE_TEXT", "IMAGE_COUNT"],
        required: &["ARTICLE_TEXT"],
    },
    Builtin {
        key: "image",
        label: "Image",
        system: "",
        template: writer::IMAGE_TEMPLATE,
        placeholders: &["IMAGE_PROMPT", "TITLE"],
        required: &["IMAGE_PROMPT"],
    },
];

/// The AI call purpose of a step (so the offline dev provider answers a playground run in its shape).
pub fn purpose_of(key: &str) -> &'static str {
    match key {
        "clustering" => planner::CLUSTER_PURPOSE,
        "ideas" => planner::IDEAS_PURPOSE,
        "content" => writer::CONTENT_PURPOSE,
        "reparse" => writer::REPARSE_PURPOSE,
        "image_prompts" => writer::IMAGE_PROMPTS_PURPOSE,
        _ => "chat",
    }
}

pub fn builtin(key: &str) -> Option<&'static Builtin> {
    LIBRARY.iter().find(|b| b.key == key)
}

/// The `[IGNY8_NAME]` placeholders a text uses, in order of first use.
pub fn placeholders_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("[IGNY8_") {
        let after = &rest[at + 7..];
        match after.find(']') {
            Some(end) if after[..end].chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') && end > 0 => {
                let name = after[..end].to_string();
                if !out.contains(&name) {
                    out.push(name);
                }
                rest = &after[end + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_uses_only_its_placeholders_and_has_the_required_ones() {
        for b in LIBRARY {
            let used = placeholders_in(b.template);
            assert!(used.iter().all(|p| b.placeholders.contains(&p.as_str())), "{}: {used:?}", b.key);
            assert!(b.required.iter().all(|r| used.contains(&r.to_string())), "{}", b.key);
        }
        assert_eq!(placeholders_in("[IGNY8_A] [IGNY8_B] [IGNY8_A] [IGNY8_] [IGNY8_lower]"), vec!["A", "B"]);
    }
}
