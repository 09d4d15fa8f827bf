//! The plugin's tables as the import assumes them, and where each of their columns goes — in one place, as
//! data, so a column name found to be wrong in a real plugin database is a one-line fix here.
//!
//! Each of our fields lists the plugin column names it may have had (first one present wins), so older and
//! newer plugin versions both read. docs/MIGRATION.md describes the assumed schema in prose.

/// One of our fields and the plugin columns it may come from.
pub struct Field {
    pub name: &'static str,
    pub columns: &'static [&'static str],
    /// Without it the table cannot be imported at all (the run stops and nothing is kept).
    pub required: bool,
}

const fn f(name: &'static str, columns: &'static [&'static str]) -> Field {
    Field { name, columns, required: false }
}
const fn req(name: &'static str, columns: &'static [&'static str]) -> Field {
    Field { name, columns, required: true }
}

/// A plugin table (name without the WordPress prefix) and the fields read from it.
pub struct SourceTable {
    pub name: &'static str,
    pub id: &'static [&'static str],
    pub fields: &'static [Field],
}

pub const CLUSTERS: SourceTable = SourceTable {
    name: "igny8_clusters",
    id: &["id", "cluster_id"],
    fields: &[
        req("name", &["cluster_name", "name", "title"]),
        f("description", &["description", "cluster_description"]),
        f("status", &["status"]),
        f("created", &["created_at", "date_created", "created"]),
    ],
};

pub const KEYWORDS: SourceTable = SourceTable {
    name: "igny8_keywords",
    id: &["id", "keyword_id"],
    fields: &[
        req("keyword", &["keyword", "keyword_text", "term"]),
        f("volume", &["search_volume", "volume", "monthly_volume"]),
        f("difficulty", &["difficulty", "keyword_difficulty", "kd"]),
        f("cpc", &["cpc", "cost_per_click"]),
        f("intent", &["intent", "search_intent"]),
        f("country", &["country", "country_code", "location"]),
        f("sector", &["sector", "sector_name", "industry"]),
        f("cluster", &["cluster_id"]),
        f("status", &["status"]),
        f("created", &["created_at", "date_created", "created"]),
    ],
};

pub const IDEAS: SourceTable = SourceTable {
    name: "igny8_content_ideas",
    id: &["id", "idea_id"],
    fields: &[
        req("title", &["idea_title", "title"]),
        f("description", &["idea_description", "description", "outline"]),
        f("structure", &["content_structure", "structure"]),
        f("content_type", &["content_type", "site_entity_type", "post_type"]),
        f("cluster", &["cluster_id", "keyword_cluster_id"]),
        f("keywords", &["target_keywords", "keywords"]),
        f("words", &["estimated_word_count", "word_count", "estimated_words"]),
        f("status", &["status"]),
        f("created", &["created_at", "date_created", "created"]),
    ],
};

pub const TASKS: SourceTable = SourceTable {
    name: "igny8_tasks",
    id: &["id", "task_id"],
    fields: &[
        req("title", &["title", "task_title"]),
        f("description", &["description", "task_description"]),
        f("keywords", &["keywords", "target_keywords"]),
        f("cluster", &["cluster_id"]),
        f("idea", &["idea_id"]),
        f("content_type", &["content_type", "post_type"]),
        f("structure", &["content_structure", "structure"]),
        f("words", &["word_count", "estimated_word_count", "target_word_count"]),
        f("status", &["status"]),
        f("post", &["post_id", "assigned_post_id", "wp_post_id"]),
        f("model", &["ai_model", "model"]),
        f("created", &["created_at", "date_created", "created"]),
    ],
};

pub const IMAGES: SourceTable = SourceTable {
    name: "igny8_images",
    id: &["id", "image_id"],
    fields: &[
        req("task", &["task_id"]),
        f("kind", &["image_type", "type", "kind"]),
        f("prompt", &["image_prompt", "prompt"]),
        f("alt", &["alt_text", "alt"]),
        f("url", &["image_url", "url"]),
        f("attachment", &["attachment_id", "media_id"]),
        f("position", &["position", "sort_order", "image_position"]),
        f("status", &["status"]),
        f("created", &["created_at", "date_created", "created"]),
    ],
};

pub const PROMPTS: SourceTable = SourceTable {
    name: "igny8_prompts",
    id: &["id", "prompt_id"],
    fields: &[
        req("kind", &["prompt_type", "prompt_key", "type", "name"]),
        req("body", &["prompt_value", "prompt_text", "prompt", "value"]),
        f("system", &["system_prompt", "system_message"]),
    ],
};

/// Key/value settings the plugin kept in its own table (besides its `igny8_*` WordPress options).
pub const SETTINGS: SourceTable = SourceTable {
    name: "igny8_settings",
    id: &["id", "setting_id"],
    fields: &[req("key", &["setting_key", "key", "name", "option_name"]), f("value", &["setting_value", "value", "option_value"])],
};

/// Plugin tables that are read and counted but not imported, and why (shown in the report).
pub const NOT_IMPORTED: &[(&str, &str)] = &[
    ("igny8_variations", "content variations have no counterpart; an article's earlier versions start with the import"),
    ("igny8_logs", "the plugin's logs stay in WordPress; IGNY8 keeps its own job, AI-call and audit logs"),
    ("igny8_schedules", "schedules are set per workspace on the Automation page"),
    ("igny8_accounts", "the workspace named by --tenant is the account; plan and members are IGNY8's own"),
    ("igny8_links", "internal links were a planned feature of the plugin"),
    ("igny8_metrics", "IGNY8 computes its own metrics from the imported rows"),
];

// ---- WordPress core tables (their columns are WordPress's own, not guessed) ----

/// Post meta keys the plugin wrote on the posts it made.
pub const META_TASK_ID: &str = "_igny8_task_id";
/// Meta title, description and primary keyword: the plugin's keys first, then Yoast's and Rank Math's.
pub const META_TITLE: &[&str] = &["_igny8_meta_title", "_yoast_wpseo_title", "rank_math_title"];
pub const META_DESCRIPTION: &[&str] = &["_igny8_meta_description", "_yoast_wpseo_metadesc", "rank_math_description"];
pub const META_KEYWORD: &[&str] = &["_igny8_primary_keyword", "_yoast_wpseo_focuskw", "rank_math_focus_keyword"];

/// Every meta key read (only these; other plugins' meta stays in WordPress).
pub fn meta_keys() -> Vec<&'static str> {
    let mut keys = vec![META_TASK_ID];
    keys.extend(META_TITLE);
    keys.extend(META_DESCRIPTION);
    keys.extend(META_KEYWORD);
    keys
}

/// Options read from `{prefix}options`: the site's own, and every option whose name starts with this.
pub const OPTION_PREFIX: &str = "igny8_";
pub const SITE_OPTIONS: &[&str] = &["siteurl", "home", "blogname"];

// ---- Values ----

/// Plugin value → ours; a value not listed takes the table's default (and a note in the report).
pub type ValueMap = &'static [(&'static str, &'static str)];

pub const CLUSTER_STATUS: ValueMap = &[("active", "active"), ("inactive", "archived"), ("archived", "archived"), ("deleted", "archived")];
pub const CLUSTER_STATUS_DEFAULT: &str = "active";

pub const INTENT: ValueMap = &[
    ("informational", "informational"),
    ("info", "informational"),
    ("navigational", "navigational"),
    ("navigation", "navigational"),
    ("commercial", "commercial"),
    ("commercial investigation", "commercial"),
    ("transactional", "transactional"),
    ("transaction", "transactional"),
];

/// Keyword statuses the plugin had that mean "leave it out of the planner".
pub const KEYWORD_ARCHIVED: &[&str] = &["archived", "ignored", "deleted", "trash"];

pub const IDEA_STATUS: ValueMap = &[
    ("new", "new"),
    ("draft", "new"),
    ("scheduled", "queued"),
    ("queued", "queued"),
    ("in_progress", "queued"),
    ("published", "done"),
    ("completed", "done"),
    ("done", "done"),
];
pub const IDEA_STATUS_DEFAULT: &str = "new";

pub const STRUCTURE: ValueMap = &[
    ("cluster_hub", "guide"),
    ("guide_tutorial", "guide"),
    ("guide", "guide"),
    ("tutorial", "how_to"),
    ("how_to", "how_to"),
    ("howto", "how_to"),
    ("listicle", "listicle"),
    ("top_listicle", "listicle"),
    ("comparison", "comparison"),
    ("review", "review"),
    ("product_review", "review"),
    ("news", "news"),
    ("case_study", "case_study"),
    ("faq", "faq"),
    ("glossary", "glossary"),
];
pub const STRUCTURE_DEFAULT: &str = "guide";

pub const CONTENT_TYPE: ValueMap = &[
    ("post", "post"),
    ("blog_post", "post"),
    ("article", "post"),
    ("page", "page"),
    ("product", "product"),
    ("service", "service"),
    ("category", "category"),
    ("taxonomy", "category"),
    ("landing", "landing"),
    ("landing_page", "landing"),
];
pub const CONTENT_TYPE_DEFAULT: &str = "post";

/// Plugin task status → ours when the task has an article (a post with content). Without an article every
/// status but `failed` becomes `queued` (nothing written yet).
pub const TASK_STATUS: ValueMap = &[
    ("pending", "draft"),
    ("queued", "draft"),
    ("new", "draft"),
    ("in_progress", "draft"),
    ("generating", "draft"),
    ("draft", "draft"),
    ("review", "review"),
    ("in_review", "review"),
    ("completed", "ready"),
    ("complete", "ready"),
    ("done", "ready"),
    ("ready", "ready"),
    // Published articles become `ready` with a link to their post; the status sync then marks them published.
    ("published", "ready"),
    ("failed", "failed"),
    ("error", "failed"),
];
pub const TASK_STATUS_DEFAULT: &str = "draft";

pub const IMAGE_KIND: ValueMap = &[
    ("featured", "featured"),
    ("featured_image", "featured"),
    ("thumbnail", "featured"),
    ("in_article", "in_article"),
    ("inarticle", "in_article"),
    ("content", "in_article"),
    ("desktop", "in_article"),
    ("mobile", "in_article"),
];

/// The plugin's prompt types → our prompt library keys (the built-in prompts' keys).
pub const PROMPT_KEY: ValueMap = &[
    ("clustering", "clustering"),
    ("clustering_prompt", "clustering"),
    ("ideas", "ideas"),
    ("ideas_prompt", "ideas"),
    ("content", "content"),
    ("content_prompt", "content"),
    ("content_generation", "content"),
    ("reparse", "reparse"),
    ("reparse_prompt", "reparse"),
    ("image_prompts", "image_prompts"),
    ("image_prompt_generation", "image_prompts"),
    ("image", "image"),
    ("image_prompt_template", "image"),
];

/// What a plugin setting (option name without `igny8_`, or a key of the settings table) becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    TextKey,
    TextModel,
    ImageProvider,
    ImageKey,
    ImageModel,
    ImagesPerArticle,
    /// The plugin's credit balance: an opening row in the ledger.
    Credits,
    /// A serialized PHP array of author profiles (name, persona, tone, audience, language).
    AuthorProfiles,
    /// A serialized PHP array of strategies (name, structure, cta, internal_links).
    Strategies,
    /// Read, not carried over; the reason is shown.
    Ignored(&'static str),
}

pub const SETTINGS_MAP: &[(&str, Setting)] = &[
    ("openai_api_key", Setting::TextKey),
    ("api_key", Setting::TextKey),
    ("openai_model", Setting::TextModel),
    ("ai_model", Setting::TextModel),
    ("model", Setting::TextModel),
    ("image_service", Setting::ImageProvider),
    ("image_provider", Setting::ImageProvider),
    ("runware_api_key", Setting::ImageKey),
    ("image_model", Setting::ImageModel),
    ("images_per_article", Setting::ImagesPerArticle),
    ("in_article_images", Setting::ImagesPerArticle),
    ("credits", Setting::Credits),
    ("credit_balance", Setting::Credits),
    ("credits_balance", Setting::Credits),
    ("author_profiles", Setting::AuthorProfiles),
    ("strategies", Setting::Strategies),
    ("content_strategies", Setting::Strategies),
    ("version", Setting::Ignored("the plugin's own version")),
    ("db_version", Setting::Ignored("the plugin's own schema version")),
    ("cron_settings", Setting::Ignored("schedules are set per workspace on the Automation page")),
    ("automation_settings", Setting::Ignored("automation is set per workspace on the Automation page")),
    ("mode", Setting::Ignored("the plugin switches to Remote Mode in WordPress; nothing to carry over")),
];

pub fn setting(key: &str) -> Option<Setting> {
    let k = key.trim().to_ascii_lowercase();
    let k = k.strip_prefix(OPTION_PREFIX).unwrap_or(&k);
    SETTINGS_MAP.iter().find(|(n, _)| *n == k).map(|(_, s)| *s).or_else(|| {
        (k.starts_with("cron_") || k.starts_with("automation_"))
            .then_some(Setting::Ignored("automation is set per workspace on the Automation page"))
    })
}

/// Looks a plugin value up (case-insensitive, spaces and hyphens as underscores).
pub fn lookup(map: ValueMap, value: &str) -> Option<&'static str> {
    let v = value.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    map.iter().find(|(from, _)| from.replace(' ', "_") == v).map(|(_, to)| *to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case_spaces_and_hyphens() {
        assert_eq!(lookup(INTENT, " Commercial Investigation "), Some("commercial"));
        assert_eq!(lookup(STRUCTURE, "How-To"), Some("how_to"));
        assert_eq!(lookup(TASK_STATUS, "nonsense"), None);
        assert_eq!(setting("igny8_openai_api_key"), Some(Setting::TextKey));
        assert_eq!(setting("IGNY8_CRON_WRITER"), Some(Setting::Ignored("automation is set per workspace on the Automation page")));
        assert_eq!(setting("igny8_unheard_of"), None);
    }

    #[test]
    fn every_mapped_value_is_one_we_accept() {
        use crate::modules::planner::clusters::service::ClusterStatus;
        use crate::modules::planner::ideas::service::{CONTENT_TYPES, IdeaStatus, STRUCTURES};
        use crate::modules::writer::service::TaskStatus;
        assert!(STRUCTURE.iter().all(|(_, to)| STRUCTURES.contains(to)));
        assert!(CONTENT_TYPE.iter().all(|(_, to)| CONTENT_TYPES.contains(to)));
        assert!(IDEA_STATUS.iter().all(|(_, to)| IdeaStatus::parse(to).is_some()) && IdeaStatus::parse(IDEA_STATUS_DEFAULT).is_some());
        assert!(TASK_STATUS.iter().all(|(_, to)| TaskStatus::parse(to).is_some()) && TaskStatus::parse(TASK_STATUS_DEFAULT).is_some());
        assert!(
            CLUSTER_STATUS.iter().all(|(_, to)| ClusterStatus::parse(to).is_some())
                && ClusterStatus::parse(CLUSTER_STATUS_DEFAULT).is_some()
        );
        assert!(PROMPT_KEY.iter().all(|(_, to)| crate::app::prompts().builtin(to).is_some()));
        assert!(INTENT.iter().all(|(_, to)| crate::modules::planner::import::rows::INTENTS.contains(to)));
    }
}
