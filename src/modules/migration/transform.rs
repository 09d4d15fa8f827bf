//! From a plugin row to one of ours: our limits applied (lengths, ranges, the values a column accepts),
//! references resolved to the rows already imported, duplicates found. A row comes out repaired (with notes
//! saying what was changed) or refused with the reason; never half-made.

use std::collections::{HashMap, HashSet};

use super::mapping::{self as map, SourceTable};
use super::php::Php;
use super::source::{Post, Raw, SourceRow};
use super::values::{self, cut, date, float, int, text, text_nonempty};
use super::write::{Kind, Row, Target, Val, col};
use crate::modules::writer::html;
use crate::modules::writer::images::ImageStatus;

pub const CLUSTERS_T: Target = Target {
    table: "clusters",
    cols: &[col("name", Kind::Text), col("description", Kind::Text), col("status", Kind::Text), col("created_at", Kind::Time)],
};

pub const KEYWORDS_T: Target = Target {
    table: "keywords",
    cols: &[
        col("keyword", Kind::Text),
        col("volume", Kind::Int),
        col("difficulty", Kind::Int),
        col("cpc", Kind::Float),
        col("intent", Kind::Text),
        col("country", Kind::Text),
        col("sector", Kind::Text),
        col("cluster_id", Kind::Int),
        col("status", Kind::Text),
        col("created_at", Kind::Time),
    ],
};

pub const IDEAS_T: Target = Target {
    table: "content_ideas",
    cols: &[
        col("cluster_id", Kind::Int),
        col("title", Kind::Text),
        col("description", Kind::Text),
        col("content_type", Kind::Text),
        col("structure", Kind::Text),
        col("target_keywords", Kind::List),
        col("estimated_words", Kind::Int),
        col("status", Kind::Text),
        col("created_at", Kind::Time),
    ],
};

pub const TASKS_T: Target = Target {
    table: "tasks",
    cols: &[
        col("idea_id", Kind::Int),
        col("cluster_id", Kind::Int),
        col("title", Kind::Text),
        col("description", Kind::Text),
        col("content_type", Kind::Text),
        col("structure", Kind::Text),
        col("target_keywords", Kind::List),
        col("word_count_goal", Kind::Int),
        col("status", Kind::Text),
        col("meta_title", Kind::Text),
        col("meta_description", Kind::Text),
        col("slug", Kind::Text),
        col("primary_keyword", Kind::Text),
        col("word_count", Kind::Int),
        col("content_html", Kind::Text),
        col("ai_model", Kind::Text),
        col("created_at", Kind::Time),
    ],
};

pub const IMAGES_T: Target = Target {
    table: "images",
    cols: &[
        col("task_id", Kind::Int),
        col("kind", Kind::Text),
        col("position", Kind::Int),
        col("prompt", Kind::Text),
        col("alt", Kind::Text),
        col("status", Kind::Text),
        col("provider", Kind::Text),
        col("error", Kind::Text),
        col("created_at", Kind::Time),
    ],
};

pub const PROFILES_T: Target = Target {
    table: "author_profiles",
    cols: &[
        col("name", Kind::Text),
        col("persona", Kind::Text),
        col("tone", Kind::Text),
        col("audience", Kind::Text),
        col("language", Kind::Text),
    ],
};

pub const STRATEGIES_T: Target = Target {
    table: "strategies",
    cols: &[col("name", Kind::Text), col("structure", Kind::Text), col("cta", Kind::Text), col("internal_links", Kind::Text)],
};

/// What transforming one table needs to know about the tables before it, and remembers for the ones after.
#[derive(Default)]
pub struct Cx {
    /// Source id → our id, per plugin table (filled as each table is imported).
    pub clusters: HashMap<i64, i64>,
    pub ideas: HashMap<i64, i64>,
    pub tasks: HashMap<i64, i64>,
    pub images: HashMap<i64, i64>,
    /// Every id present in each source table (to tell an orphan from a row that was skipped).
    pub cluster_rows: HashSet<i64>,
    pub idea_rows: HashSet<i64>,
    pub task_rows: HashSet<i64>,
    /// A duplicate cluster → the one it duplicates (its keywords and ideas go there).
    pub cluster_alias: HashMap<i64, i64>,
    seen: HashMap<(&'static str, String), i64>,
    ideas_taken: HashMap<i64, i64>,
    image_slots: HashSet<(i64, i64)>,
    /// WordPress posts of the tasks, their IGNY8 meta, and which post a task's marker meta points at.
    pub posts: HashMap<i64, Post>,
    pub meta: HashMap<i64, HashMap<String, String>>,
    pub post_of_task: HashMap<i64, i64>,
    /// Task (source id) → post id, for the tasks whose post exists: what the switch-over links.
    pub linked: Vec<(i64, i64)>,
    /// Image (source id) → (attachment id, URL) of the images that are in the site's media library.
    pub media: Vec<(i64, i64, String)>,
}

fn field<'a>(t: &SourceTable, row: &'a SourceRow, name: &str) -> &'a Raw {
    static NONE: Raw = None;
    t.fields.iter().position(|f| f.name == name).and_then(|i| row.vals.get(i)).unwrap_or(&NONE)
}

/// Whitespace runs become one space.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Looks a value up; an unknown one takes the default, with a note.
fn mapped(map: map::ValueMap, raw: Option<String>, default: &'static str, field: &str, notes: &mut Vec<String>) -> &'static str {
    match raw {
        None => default,
        Some(v) => map::lookup(map, &v).unwrap_or_else(|| {
            notes.push(format!("{field}: unknown value “{}”; {default} used", cut(&v, 40)));
            default
        }),
    }
}

impl Cx {
    /// The first row with this (kind, lower-case name), or records this one as the first.
    fn first(&mut self, kind: &'static str, name: &str, id: i64) -> Option<i64> {
        match self.seen.get(&(kind, name.to_lowercase())) {
            Some(first) => Some(*first),
            None => {
                self.seen.insert((kind, name.to_lowercase()), id);
                None
            }
        }
    }

    fn cluster(&self, raw: &Raw, notes: &mut Vec<String>) -> Option<i64> {
        let id = int(raw, "cluster_id", notes).filter(|n| *n > 0)?;
        let to = *self.cluster_alias.get(&id).unwrap_or(&id);
        match self.clusters.get(&to) {
            Some(t) => Some(*t),
            None if self.cluster_rows.contains(&id) => {
                notes.push(format!("cluster {id} was not imported; left without a cluster"));
                None
            }
            None => {
                notes.push(format!("cluster {id} does not exist in the source; left without a cluster"));
                None
            }
        }
    }

    pub fn cluster_row(&mut self, t: &SourceTable, r: &SourceRow, notes: &mut Vec<String>) -> Result<Row, String> {
        let name = text_nonempty(field(t, r, "name"), "name", notes).map(|s| squash(&s)).ok_or("no name")?;
        let name = if name.chars().count() > 200 {
            notes.push("name: cut to 200 characters".into());
            cut(&name, 200)
        } else {
            name
        };
        if let Some(first) = self.first("cluster", &name, r.id) {
            self.cluster_alias.insert(r.id, first);
            return Err(format!("duplicate of cluster {first} (same name, case aside); its keywords and ideas go to that one"));
        }
        let status = text_nonempty(field(t, r, "status"), "status", notes);
        Ok(Row {
            source_id: r.id.to_string(),
            vals: vec![
                Val::Text(name),
                Val::Text(text(field(t, r, "description"), "description", notes).unwrap_or_default()),
                Val::Text(mapped(map::CLUSTER_STATUS, status, map::CLUSTER_STATUS_DEFAULT, "status", notes).into()),
                Val::opt_time(date(field(t, r, "created"), "created_at", notes)),
            ],
        })
    }

    pub fn keyword_row(&mut self, t: &SourceTable, r: &SourceRow, notes: &mut Vec<String>) -> Result<Row, String> {
        let kw = text_nonempty(field(t, r, "keyword"), "keyword", notes).map(|s| squash(&s)).ok_or("empty keyword")?;
        if kw.chars().count() > crate::modules::planner::import::rows::KEYWORD_MAX {
            return Err(format!("keyword longer than {} characters", crate::modules::planner::import::rows::KEYWORD_MAX));
        }
        if let Some(first) = self.first("keyword", &kw, r.id) {
            return Err(format!("duplicate of keyword {first} (differs at most in case)"));
        }
        let volume = match int(field(t, r, "volume"), "search_volume", notes) {
            Some(v) if v < 0 => {
                notes.push(format!("search_volume: {v} is negative; left empty"));
                None
            }
            v => v.map(|v| v.min(i32::MAX as i64)),
        };
        let difficulty = int(field(t, r, "difficulty"), "difficulty", notes).map(|d| {
            if !(0..=100).contains(&d) {
                notes.push(format!("difficulty: {d} is outside 0–100; clamped"));
            }
            d.clamp(0, 100)
        });
        let cpc = match float(field(t, r, "cpc"), "cpc", notes) {
            Some(c) if c < 0.0 => {
                notes.push("cpc: negative; left empty".into());
                None
            }
            c => c.map(|c| (c * 100.0).round() / 100.0),
        };
        let intent = text_nonempty(field(t, r, "intent"), "intent", notes).and_then(|i| {
            let m = map::lookup(map::INTENT, &i);
            if m.is_none() {
                notes.push(format!("intent: unknown value “{}”; left empty", cut(&i, 40)));
            }
            m
        });
        let country = text_nonempty(field(t, r, "country"), "country", notes).and_then(|c| {
            let up = c.to_ascii_uppercase();
            if up.len() == 2 && up.chars().all(|x| x.is_ascii_uppercase()) {
                Some(up)
            } else {
                notes.push(format!("country: “{}” is not a two-letter code; left empty", cut(&c, 40)));
                None
            }
        });
        let sector = text_nonempty(field(t, r, "sector"), "sector", notes).map(|s| cut(&s, 120));
        let cluster = self.cluster(field(t, r, "cluster"), notes);
        let status = text_nonempty(field(t, r, "status"), "status", notes).unwrap_or_default().to_ascii_lowercase();
        let status = if map::KEYWORD_ARCHIVED.contains(&status.as_str()) {
            "archived"
        } else if cluster.is_some() {
            "clustered"
        } else {
            "new"
        };
        Ok(Row {
            source_id: r.id.to_string(),
            vals: vec![
                Val::Text(kw),
                Val::opt_int(volume),
                Val::opt_int(difficulty),
                cpc.map(Val::Float).unwrap_or(Val::Null),
                Val::opt_text(intent.map(str::to_string)),
                Val::opt_text(country),
                Val::opt_text(sector),
                Val::opt_int(cluster),
                Val::Text(status.into()),
                Val::opt_time(date(field(t, r, "created"), "created_at", notes)),
            ],
        })
    }

    pub fn idea_row(&mut self, t: &SourceTable, r: &SourceRow, notes: &mut Vec<String>) -> Result<Row, String> {
        let title = text_nonempty(field(t, r, "title"), "idea_title", notes).map(|s| squash(&s)).ok_or("no title")?;
        let title = fit_title(title, notes);
        let content_type = text_nonempty(field(t, r, "content_type"), "content_type", notes);
        let structure = text_nonempty(field(t, r, "structure"), "content_structure", notes);
        let status = text_nonempty(field(t, r, "status"), "status", notes);
        Ok(Row {
            source_id: r.id.to_string(),
            vals: vec![
                Val::opt_int(self.cluster(field(t, r, "cluster"), notes)),
                Val::Text(title),
                Val::Text(text(field(t, r, "description"), "idea_description", notes).unwrap_or_default()),
                Val::Text(mapped(map::CONTENT_TYPE, content_type, map::CONTENT_TYPE_DEFAULT, "content_type", notes).into()),
                Val::Text(mapped(map::STRUCTURE, structure, map::STRUCTURE_DEFAULT, "content_structure", notes).into()),
                Val::List(values::list(&text(field(t, r, "keywords"), "target_keywords", notes).unwrap_or_default())),
                Val::Int(words(int(field(t, r, "words"), "estimated_word_count", notes), notes)),
                Val::Text(mapped(map::IDEA_STATUS, status, map::IDEA_STATUS_DEFAULT, "status", notes).into()),
                Val::opt_time(date(field(t, r, "created"), "created_at", notes)),
            ],
        })
    }

    pub fn task_row(&mut self, t: &SourceTable, r: &SourceRow, notes: &mut Vec<String>) -> Result<Row, String> {
        let post_id = int(field(t, r, "post"), "post_id", notes).filter(|p| *p > 0).or_else(|| self.post_of_task.get(&r.id).copied());
        let post = match post_id {
            Some(p) => match self.posts.get(&p) {
                Some(post) => Some((p, post)),
                None => {
                    notes.push(format!("post {p} does not exist in WordPress; imported without an article"));
                    None
                }
            },
            None => None,
        };
        let mut title = text_nonempty(field(t, r, "title"), "title", notes).map(|s| squash(&s));
        if title.is_none()
            && let Some((_, p)) = post
        {
            title = text_nonempty(&p.title, "post_title", notes).map(|s| squash(&s));
        }
        let title = fit_title(title.ok_or("no title (neither the task nor its post has one)")?, notes);
        let (mut html_out, mut slug) = (String::new(), String::new());
        if let Some((_, p)) = post {
            html_out = text(&p.content, "post_content", notes).map(|h| html::sanitize(&h)).unwrap_or_default();
            slug = text_nonempty(&p.slug, "post_name", notes).unwrap_or_default();
        }
        let meta = post.and_then(|(id, _)| self.meta.get(&id));
        let first_meta =
            |keys: &[&str]| meta.and_then(|m| keys.iter().find_map(|k| m.get(*k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())));
        let keywords = values::list(&text(field(t, r, "keywords"), "keywords", notes).unwrap_or_default());
        let primary = first_meta(map::META_KEYWORD).or_else(|| keywords.first().cloned()).unwrap_or_default();
        let word_count = html::word_count(&html_out) as i64;
        let has_article = word_count > 0;
        let given = text_nonempty(field(t, r, "status"), "status", notes);
        let status = if has_article {
            mapped(map::TASK_STATUS, given, map::TASK_STATUS_DEFAULT, "status", notes)
        } else if given.as_deref().and_then(|g| map::lookup(map::TASK_STATUS, g)) == Some("failed") {
            "failed"
        } else {
            "queued"
        };
        let mut idea = None;
        if let Some(i) = int(field(t, r, "idea"), "idea_id", notes).filter(|n| *n > 0) {
            match self.ideas.get(&i) {
                Some(target) => match self.ideas_taken.get(target) {
                    Some(other) => notes.push(format!("idea {i} already has a task (row {other}); this one is linked to no idea")),
                    None => {
                        self.ideas_taken.insert(*target, r.id);
                        idea = Some(*target);
                    }
                },
                None if self.idea_rows.contains(&i) => notes.push(format!("idea {i} was not imported; linked to no idea")),
                None => notes.push(format!("idea {i} does not exist in the source; linked to no idea")),
            }
        }
        let content_type = text_nonempty(field(t, r, "content_type"), "content_type", notes);
        let structure = text_nonempty(field(t, r, "structure"), "content_structure", notes);
        if let Some((p, _)) = post
            && has_article
        {
            self.linked.push((r.id, p));
        }
        Ok(Row {
            source_id: r.id.to_string(),
            vals: vec![
                Val::opt_int(idea),
                Val::opt_int(self.cluster(field(t, r, "cluster"), notes)),
                Val::Text(title),
                Val::Text(text(field(t, r, "description"), "description", notes).unwrap_or_default()),
                Val::Text(mapped(map::CONTENT_TYPE, content_type, map::CONTENT_TYPE_DEFAULT, "content_type", notes).into()),
                Val::Text(mapped(map::STRUCTURE, structure, map::STRUCTURE_DEFAULT, "content_structure", notes).into()),
                Val::List(keywords),
                Val::Int(words(int(field(t, r, "words"), "word_count", notes), notes)),
                Val::Text(status.into()),
                Val::Text(first_meta(map::META_TITLE).unwrap_or_default()),
                Val::Text(first_meta(map::META_DESCRIPTION).unwrap_or_default()),
                Val::Text(cut(&slug, 200)),
                Val::Text(primary),
                Val::Int(word_count),
                Val::Text(html_out),
                Val::Text(text_nonempty(field(t, r, "model"), "ai_model", notes).map(|m| cut(&m, 100)).unwrap_or_default()),
                Val::opt_time(date(field(t, r, "created"), "created_at", notes)),
            ],
        })
    }

    pub fn image_row(&mut self, t: &SourceTable, r: &SourceRow, notes: &mut Vec<String>) -> Result<Row, String> {
        let task_src = int(field(t, r, "task"), "task_id", notes).ok_or("no task")?;
        let task = match self.tasks.get(&task_src) {
            Some(t) => *t,
            None if self.task_rows.contains(&task_src) => return Err(format!("its task {task_src} was not imported")),
            None => return Err(format!("its task {task_src} does not exist in the source")),
        };
        let given_pos = int(field(t, r, "position"), "position", notes);
        let kind = match text_nonempty(field(t, r, "kind"), "image_type", notes) {
            Some(k) => map::lookup(map::IMAGE_KIND, &k).unwrap_or_else(|| {
                let guess = if given_pos == Some(0) { "featured" } else { "in_article" };
                notes.push(format!("image_type: unknown value “{}”; {guess} used", cut(&k, 40)));
                guess
            }),
            None => {
                if given_pos == Some(0) {
                    "featured"
                } else {
                    "in_article"
                }
            }
        };
        let position = if kind == "featured" {
            if !self.image_slots.insert((task, 0)) {
                return Err(format!("a second featured image of task {task_src}"));
            }
            0
        } else {
            let mut p = given_pos.filter(|p| *p >= 1).unwrap_or(1);
            let wanted = p;
            while !self.image_slots.insert((task, p)) {
                p += 1;
            }
            if p != wanted && given_pos.is_some() {
                notes.push(format!("position {wanted} of task {task_src} was taken; placed at {p}"));
            }
            p
        };
        let alt = text_nonempty(field(t, r, "alt"), "alt_text", notes).unwrap_or_default();
        let prompt = text_nonempty(field(t, r, "prompt"), "image_prompt", notes).unwrap_or_else(|| alt.clone());
        let url = text_nonempty(field(t, r, "url"), "image_url", notes).unwrap_or_default();
        let attachment = int(field(t, r, "attachment"), "attachment_id", notes).filter(|a| *a > 0);
        let (status, error) = match attachment {
            Some(a) => {
                self.media.push((r.id, a, url));
                (ImageStatus::Ready, None)
            }
            None => (ImageStatus::Failed, Some("The plugin had not uploaded this image to WordPress; regenerate it".to_string())),
        };
        Ok(Row {
            source_id: r.id.to_string(),
            vals: vec![
                Val::Int(task),
                Val::Text(kind.into()),
                Val::Int(position),
                Val::Text(prompt),
                Val::Text(alt),
                Val::Text(status.to_string()),
                Val::Text(if status == ImageStatus::Ready { "wordpress".into() } else { String::new() }),
                Val::opt_text(error),
                Val::opt_time(date(field(t, r, "created"), "created_at", notes)),
            ],
        })
    }

    /// An author profile from one element of the plugin's serialized array.
    pub fn profile_row(&mut self, source_id: &str, item: &Php) -> Result<Row, String> {
        let s = |k: &str| item.get(k).and_then(Php::as_text).map(|v| v.trim().to_string()).unwrap_or_default();
        let name = squash(&s("name"));
        if name.is_empty() {
            return Err("a profile without a name".into());
        }
        if self.first("profile", &cut(&name, 120), 0).is_some() {
            return Err(format!("another profile is named “{}”", cut(&name, 120)));
        }
        let language = s("language");
        Ok(Row {
            source_id: source_id.to_string(),
            vals: vec![
                Val::Text(cut(&name, 120)),
                Val::Text(s("persona")),
                Val::Text(s("tone")),
                Val::Text(s("audience")),
                Val::Text(if language.is_empty() { "English".into() } else { cut(&language, 60) }),
            ],
        })
    }

    pub fn strategy_row(&mut self, source_id: &str, item: &Php) -> Result<Row, String> {
        let s = |k: &str| item.get(k).and_then(Php::as_text).map(|v| v.trim().to_string()).unwrap_or_default();
        let name = squash(&s("name"));
        if name.is_empty() {
            return Err("a strategy without a name".into());
        }
        if self.first("strategy", &cut(&name, 120), 0).is_some() {
            return Err(format!("another strategy is named “{}”", cut(&name, 120)));
        }
        Ok(Row {
            source_id: source_id.to_string(),
            vals: vec![Val::Text(cut(&name, 120)), Val::Text(s("structure")), Val::Text(s("cta")), Val::Text(s("internal_links"))],
        })
    }
}

fn fit_title(t: String, notes: &mut Vec<String>) -> String {
    if t.chars().count() > 300 {
        notes.push("title: cut to 300 characters".into());
        cut(&t, 300)
    } else {
        t
    }
}

/// A word-count goal within 100–20,000 (1,500 when unknown).
fn words(n: Option<i64>, notes: &mut Vec<String>) -> i64 {
    match n {
        None | Some(0) => 1500,
        Some(w) if !(100..=20_000).contains(&w) => {
            notes.push(format!("word count {w} is outside 100–20,000; clamped"));
            w.clamp(100, 20_000)
        }
        Some(w) => w,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, vals: &[Option<&str>]) -> SourceRow {
        SourceRow { id, vals: vals.iter().map(|v| v.map(|s| s.as_bytes().to_vec())).collect() }
    }

    #[test]
    fn keywords_are_cleaned_and_case_duplicates_refused() {
        let mut cx = Cx::default();
        cx.clusters.insert(3, 300);
        cx.cluster_rows.extend([3, 4]);
        let t = &map::KEYWORDS;
        // keyword, volume, difficulty, cpc, intent, country, sector, cluster, status, created
        let mut n = vec![];
        let a = cx
            .keyword_row(
                t,
                &row(
                    1,
                    &[
                        Some(" Running  Shoes "),
                        Some("-5"),
                        Some("140"),
                        Some("0.456"),
                        Some("Commercial"),
                        Some("us"),
                        None,
                        Some("3"),
                        Some("mapped"),
                        Some("0000-00-00 00:00:00"),
                    ],
                ),
                &mut n,
            )
            .unwrap();
        assert_eq!(a.vals[0], Val::Text("Running Shoes".into()));
        assert_eq!((&a.vals[1], &a.vals[2], &a.vals[3]), (&Val::Null, &Val::Int(100), &Val::Float(0.46)));
        assert_eq!(
            (&a.vals[4], &a.vals[5], &a.vals[7], &a.vals[8]),
            (&Val::Text("commercial".into()), &Val::Text("US".into()), &Val::Int(300), &Val::Text("clustered".into()))
        );
        assert_eq!(n.len(), 3, "{n:?}");
        let mut n = vec![];
        assert!(cx.keyword_row(t, &row(2, &[Some("running shoes")]), &mut n).unwrap_err().contains("duplicate of keyword 1"));
        let b = cx
            .keyword_row(t, &row(5, &[Some("trail"), None, None, None, Some("??"), Some("United States"), None, Some("4")]), &mut n)
            .unwrap();
        assert_eq!((&b.vals[4], &b.vals[5], &b.vals[7], &b.vals[8]), (&Val::Null, &Val::Null, &Val::Null, &Val::Text("new".into())));
        assert!(n.iter().any(|x| x.contains("cluster 4 was not imported")), "{n:?}");
    }

    #[test]
    fn task_columns_line_up_with_the_target() {
        let mut cx = Cx::default();
        cx.posts.insert(
            9,
            Post {
                title: Some(b"From post".to_vec()),
                content: Some(b"<h2>A</h2><p>one two three</p><script>x</script>".to_vec()),
                status: Some(b"publish".to_vec()),
                post_type: Some(b"post".to_vec()),
                slug: Some(b"from-post".to_vec()),
                author: Some(1),
                date_gmt: None,
            },
        );
        let mut n = vec![];
        let r = cx
            .task_row(
                &map::TASKS,
                &row(4, &[None, None, Some("a, b"), None, None, None, None, Some("900"), Some("published"), Some("9")]),
                &mut n,
            )
            .unwrap();
        assert_eq!(r.vals.len(), TASKS_T.cols.len());
        let at = |name: &str| &r.vals[TASKS_T.cols.iter().position(|c| c.name == name).unwrap()];
        assert_eq!(at("title"), &Val::Text("From post".into()));
        assert_eq!(at("content_html"), &Val::Text("<h2>A</h2><p>one two three</p>".into()));
        assert_eq!(at("word_count"), &Val::Int(4));
        assert_eq!(at("status"), &Val::Text("ready".into()));
        assert_eq!(at("slug"), &Val::Text("from-post".into()));
        assert_eq!(at("primary_keyword"), &Val::Text("a".into()));
        assert_eq!(cx.linked, vec![(4, 9)]);
    }
}
