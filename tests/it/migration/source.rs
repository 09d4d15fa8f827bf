//! A plugin-shaped WordPress database on the test MariaDB (the one `scripts/wordpress-up.sh` runs, reached
//! over its unix socket as the `igny8_src` user): the plugin's `wp_igny8_*` tables and the parts of
//! WordPress the import reads, with thousands of rows and the bad cases old installs have.

use std::collections::HashMap;

use mysql_async::prelude::*;
use mysql_async::{Conn, Opts};

pub struct MySrc {
    pub db: String,
    pub url: String,
    conn: Conn,
}

/// (base URL without a database, socket) from the test WordPress's env file.
fn server() -> (String, String) {
    let file = std::env::var("IGNY8_TEST_WP_ENV").unwrap_or_else(|_| "/tmp/igny8-wp/env".into());
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|_| panic!("the test MariaDB is not running: start it with scripts/wordpress-up.sh (the test command does)"));
    let vars: HashMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
    let get = |k: &str| {
        vars.get(k).map(|v| v.to_string()).unwrap_or_else(|| panic!("{k} missing from {file}; run scripts/wordpress-up.sh again"))
    };
    (get("WP_SRC_MYSQL_URL"), get("WP_DB_SOCKET"))
}

/// SQL string literal.
pub fn q(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

impl MySrc {
    pub async fn create(tag: &str) -> MySrc {
        let (base, socket) = server();
        let db = format!("igny8_src_{tag}_{}", igny8::crypto::secrets::random_token(6).to_lowercase().replace(['-', '_'], "x"));
        let mut admin = Conn::new(Opts::from_url(&format!("{base}/?socket={socket}")).unwrap()).await.expect("the test MariaDB answers");
        admin.query_drop(format!("CREATE DATABASE {db} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")).await.unwrap();
        admin.disconnect().await.unwrap();
        let url = format!("{base}/{db}?socket={socket}");
        let mut conn = Conn::new(Opts::from_url(&url).unwrap()).await.unwrap();
        // Old WordPress installs hold zero dates; strict modes would refuse them.
        conn.query_drop("SET SESSION sql_mode = ''").await.unwrap();
        MySrc { db, url, conn }
    }

    pub async fn exec(&mut self, sql: &str) {
        self.conn.query_drop(sql).await.unwrap_or_else(|e| panic!("{e}: {}", &sql[..sql.len().min(300)]));
    }

    /// INSERT of many rows, 500 a statement. Each row is its SQL values, already quoted.
    pub async fn insert(&mut self, table: &str, cols: &str, rows: &[String]) {
        for chunk in rows.chunks(500) {
            self.exec(&format!("INSERT INTO {table} ({cols}) VALUES ({})", chunk.join("),("))).await;
        }
    }

    pub async fn drop_db(mut self) {
        let _ = self.conn.query_drop(format!("DROP DATABASE {}", self.db)).await;
        let _ = self.conn.disconnect().await;
    }
}

/// The plugin's tables as docs/MIGRATION.md describes them, and WordPress's (the columns the import reads
/// plus a few it does not). The clusters table is Latin-1, as on installs from before utf8mb4.
pub const SCHEMA: &str = "
CREATE TABLE wp_options (option_id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, option_name VARCHAR(191) NOT NULL UNIQUE,
  option_value LONGTEXT NOT NULL, autoload VARCHAR(20) NOT NULL DEFAULT 'yes');
CREATE TABLE wp_users (ID BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, user_login VARCHAR(60) NOT NULL, user_pass VARCHAR(255) NOT NULL DEFAULT '',
  user_email VARCHAR(100) NOT NULL DEFAULT '', display_name VARCHAR(250) NOT NULL DEFAULT '');
CREATE TABLE wp_posts (ID BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, post_author BIGINT UNSIGNED NOT NULL DEFAULT 0,
  post_date DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00', post_date_gmt DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00',
  post_content LONGTEXT NOT NULL, post_title TEXT NOT NULL, post_excerpt TEXT NOT NULL DEFAULT '', post_status VARCHAR(20) NOT NULL DEFAULT 'publish',
  post_name VARCHAR(200) NOT NULL DEFAULT '', post_modified_gmt DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00',
  guid VARCHAR(255) NOT NULL DEFAULT '', post_type VARCHAR(20) NOT NULL DEFAULT 'post');
CREATE TABLE wp_postmeta (meta_id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, post_id BIGINT UNSIGNED NOT NULL DEFAULT 0,
  meta_key VARCHAR(255), meta_value LONGTEXT, KEY post_id (post_id), KEY meta_key (meta_key(191)));
CREATE TABLE wp_igny8_clusters (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, cluster_name VARCHAR(255) NOT NULL, description TEXT,
  status VARCHAR(20) DEFAULT 'active', keyword_count INT DEFAULT 0, total_volume INT DEFAULT 0,
  created_at DATETIME DEFAULT '0000-00-00 00:00:00', updated_at DATETIME) DEFAULT CHARSET=latin1;
CREATE TABLE wp_igny8_keywords (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, keyword VARCHAR(255) NOT NULL, search_volume INT,
  difficulty INT, cpc DECIMAL(10,2), intent VARCHAR(30), country VARCHAR(40), sector VARCHAR(100), cluster_id BIGINT,
  status VARCHAR(20) DEFAULT 'unmapped', created_at DATETIME, updated_at DATETIME);
CREATE TABLE wp_igny8_content_ideas (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, idea_title VARCHAR(255) NOT NULL, idea_description LONGBLOB,
  content_structure VARCHAR(50), content_type VARCHAR(50), cluster_id BIGINT, target_keywords TEXT, estimated_word_count INT,
  status VARCHAR(20) DEFAULT 'new', created_at DATETIME);
CREATE TABLE wp_igny8_tasks (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, title VARCHAR(255), description TEXT, keywords TEXT,
  cluster_id BIGINT, idea_id BIGINT, content_type VARCHAR(50), content_structure VARCHAR(50), word_count INT, status VARCHAR(20),
  post_id BIGINT, ai_model VARCHAR(100), created_at DATETIME, updated_at DATETIME);
CREATE TABLE wp_igny8_images (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, task_id BIGINT, post_id BIGINT, image_type VARCHAR(20),
  image_prompt TEXT, alt_text VARCHAR(255), image_url VARCHAR(500), attachment_id BIGINT, position INT, status VARCHAR(20), created_at DATETIME);
CREATE TABLE wp_igny8_prompts (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, prompt_type VARCHAR(50), prompt_value LONGTEXT, updated_at DATETIME);
CREATE TABLE wp_igny8_settings (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, setting_key VARCHAR(100), setting_value LONGTEXT);
CREATE TABLE wp_igny8_logs (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, message TEXT, created_at DATETIME);
";

/// What a fixture holds, for the assertions.
pub struct Made {
    pub keywords: usize,
    pub clusters: usize,
    pub tasks: usize,
    /// Keyword rows that must be skipped (case duplicates, empty).
    pub keyword_skips: usize,
}

pub const INTENTS: [&str; 5] = ["informational", "Commercial", "transactional", "navigational", "comparison?"];
pub const PROFILES: &str = r#"a:2:{i:0;a:4:{s:4:"name";s:6:"Zoë M";s:7:"persona";s:14:"A trail runner";s:4:"tone";s:8:"friendly";s:8:"language";s:7:"English";}i:1;a:3:{s:4:"name";s:5:"Coach";s:4:"tone";s:6:"direct";s:8:"audience";s:9:"beginners";}}"#;

/// A plugin database with `n_keywords` keywords and `n_tasks` tasks, the bad cases included. `real_posts`
/// are (post id, status, slug) of posts that exist in the test WordPress: the first tasks are linked to
/// them; the other tasks with articles get posts that exist only in this database.
pub async fn fill(src: &mut MySrc, n_keywords: usize, n_tasks: usize, real_posts: &[(i64, String, String)]) -> Made {
    for stmt in SCHEMA.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        src.exec(stmt).await;
    }
    let n_clusters = (n_keywords / 30).max(3);
    src.exec(&format!(
        "INSERT INTO wp_options (option_name, option_value) VALUES ('siteurl', 'http://127.0.0.1:8089'), ('home', 'http://127.0.0.1:8089'), \
         ('blogname', 'IGNY8 test site'), ('igny8_openai_api_key', 'sk-test-plugin-key-0001'), ('igny8_openai_model', 'gpt-4o'), \
         ('igny8_images_per_article', '7'), ('igny8_credits', '1234'), ('igny8_author_profiles', {}), \
         ('igny8_strategies', {}), ('igny8_cron_settings', 'a:1:{{s:7:\"writer\";s:3:\"6h\";}}'), ('igny8_unheard_of', 'x'), \
         ('igny8_version', '2.4.1'), ('blog_charset', 'UTF-8')",
        q(PROFILES),
        // A serialized array whose string lengths no longer match after a charset conversion.
        q(r#"a:1:{i:0;a:1:{s:4:"name";s:4:"Café";}}"#),
    ))
    .await;
    src.exec(&format!(
        "INSERT INTO wp_igny8_settings (setting_key, setting_value) VALUES ('content_strategies', {}), ('image_model', 'dall-e-3')",
        q(r#"a:2:{i:0;a:3:{s:4:"name";s:10:"Pillar hub";s:9:"structure";s:21:"H2 per subtopic, FAQs";s:3:"cta";s:13:"Subscribe now";}i:1;a:2:{s:4:"name";s:6:"Review";s:14:"internal_links";s:13:"3 per article";}}"#)
    ))
    .await;
    src.exec("INSERT INTO wp_users (ID, user_login, user_email, display_name) VALUES (1, 'editor-admin', 'admin@example.com', 'Site Admin'), (7, 'writer', 'w@example.com', 'Wendy Writer')").await;

    // Clusters: Latin-1 names (one with é stored as a single byte), a name repeated in another case.
    let mut rows = vec![];
    for i in 1..=n_clusters {
        let name = match i {
            1 => "Caf\u{e9} guides".to_string(),
            2 => "running shoes".to_string(),
            3 => "Running Shoes".to_string(),
            _ => format!("cluster {i}"),
        };
        let created = if i == 4 { "'0000-00-00 00:00:00'".to_string() } else { "'2023-04-05 06:07:08'".to_string() };
        rows.push(format!("{i}, {}, 'about {i}', {}, {created}", q(&name), if i % 17 == 0 { "'inactive'" } else { "'active'" }));
    }
    src.insert("wp_igny8_clusters", "id, cluster_name, description, status, created_at", &rows).await;

    // Keywords: most ordinary; then the bad cases.
    let mut rows = vec![];
    let mut skips = 0;
    for i in 1..=n_keywords {
        let (kw, cluster) = match i {
            1 => ("Running Shoes".to_string(), "1".to_string()),
            2 => {
                skips += 1;
                ("running shoes".to_string(), "1".to_string())
            }
            3 => {
                skips += 1;
                ("RUNNING  SHOES".to_string(), "2".to_string())
            }
            4 => ("orphan cluster keyword".to_string(), "99999".to_string()),
            5 => ("keyword in a duplicate cluster".to_string(), "3".to_string()),
            6 => {
                skips += 1;
                ("   ".to_string(), "NULL".to_string())
            }
            _ => (
                format!("keyword {i} {}", ["shoes", "trail", "café", "gear"][i % 4]),
                if i % 3 == 0 { "NULL".into() } else { ((i % n_clusters) + 1).to_string() },
            ),
        };
        let created = if i % 500 == 7 { "'0000-00-00 00:00:00'" } else { "'2023-01-02 03:04:05'" };
        rows.push(format!(
            "{i}, {}, {}, {}, {}, {}, {}, 'retail', {cluster}, {}, {created}",
            q(&kw),
            if i % 97 == 0 { "-3".to_string() } else { ((i * 37) % 20000).to_string() },
            if i % 101 == 0 { "140".to_string() } else { (i % 101).to_string() },
            if i % 10 == 0 { "NULL".to_string() } else { format!("{}.{:02}", i % 7, i % 100) },
            q(INTENTS[i % 5]),
            q(["us", "GB", "Deutschland", ""][i % 4]),
            if i % 50 == 0 { "'archived'" } else { "'mapped'" },
        ));
    }
    src.insert(
        "wp_igny8_keywords",
        "id, keyword, search_volume, difficulty, cpc, intent, country, sector, cluster_id, status, created_at",
        &rows,
    )
    .await;

    // Ideas: descriptions as raw bytes, one not UTF-8 and one with a NUL; an orphan cluster.
    let mut rows = vec![];
    let n_ideas = n_tasks.max(4);
    for i in 1..=n_ideas {
        let desc = match i {
            1 => "X'6F6C6420C3A97420C3'".to_string(),
            2 => "X'61006200'".to_string(),
            _ => q(&format!("Outline of idea {i}: intro, body, FAQ")),
        };
        let cluster = if i == 3 { "77777".to_string() } else { ((i % n_clusters) + 1).to_string() };
        rows.push(format!(
            "{i}, {}, {desc}, {}, {}, {cluster}, {}, {}, {}, '2023-02-03 04:05:06'",
            q(&format!("Idea {i}: how to pick {}", ["shoes", "trails", "gear"][i % 3])),
            q(["cluster_hub", "how_to", "listicle", "weird"][i % 4]),
            q(["post", "page", "product"][i % 3]),
            q("shoes, trail shoes, Shoes"),
            if i % 9 == 0 { "50000".to_string() } else { "1800".to_string() },
            q(["new", "scheduled", "published"][i % 3]),
        ));
    }
    src.insert("wp_igny8_content_ideas", "id, idea_title, idea_description, content_structure, content_type, cluster_id, target_keywords, estimated_word_count, status, created_at", &rows).await;

    // Tasks: a third with an article in a post (real posts first), one linked only by its post's marker meta,
    // one pointing at a post that is gone, two sharing an idea.
    let (mut tasks, mut posts, mut meta) = (vec![], vec![], vec![]);
    for i in 1..=n_tasks {
        let mut post = "NULL".to_string();
        let with_article = i <= real_posts.len() || i % 3 == 1;
        if with_article {
            let (id, status, slug) = match real_posts.get(i - 1) {
                Some((id, status, slug)) => (*id, status.clone(), slug.clone()),
                None => (100_000 + i as i64, ["publish", "draft", "future"][i % 3].to_string(), format!("task-{i}-article")),
            };
            post = id.to_string();
            let html = format!(
                "<p>Intro of task {i}.</p><h2>Part one</h2><p>{}</p><script>alert(1)</script><h2>Part two</h2><p>{}</p>",
                vec!["word"; 40].join(" "),
                vec!["more"; 40].join(" ")
            );
            posts.push(format!(
                "{id}, {}, '2024-03-04 05:06:07', {}, {}, {}, {}, 'post'",
                if i % 5 == 0 { 7 } else { 1 },
                q(&html),
                q(&format!("Article of task {i}")),
                q(&status),
                q(&slug)
            ));
            meta.push(format!("{id}, '_igny8_task_id', '{i}'"));
            meta.push(format!("{id}, '_igny8_meta_title', {}", q(&format!("Meta title {i}"))));
            meta.push(format!("{id}, '_yoast_wpseo_metadesc', {}", q(&format!("Description of article {i}."))));
            if i == 4 {
                // Found only through the marker meta.
                post = "NULL".into();
            }
        }
        if i == 6 {
            post = "66666".into();
        }
        let idea = match i {
            7 => "5".to_string(),
            8 => "5".to_string(),
            9 => "55555".to_string(),
            _ => i.to_string(),
        };
        let created = if i == 10 { "'0000-00-00 00:00:00'" } else { "'2024-01-01 00:00:00'" };
        tasks.push(format!(
            "{i}, {}, 'Task description {i}', 'trail shoes, running', {}, {idea}, 'post', 'how_to', 1500, {}, {post}, 'gpt-4o', {created}",
            q(&format!("Task {i}: trail shoe guide")),
            (i % n_clusters) + 1,
            q(match real_posts.get(i - 1) {
                Some((_, status, _)) if status == "publish" => "published",
                Some(_) => "draft",
                None if with_article => ["completed", "published", "review", "draft"][i % 4],
                None => "pending",
            }),
        ));
    }
    // A post whose marker names a task that does not exist.
    posts.push("900001, 1, '2024-03-04 05:06:07', '<p>x</p>', 'Stray', 'publish', 'stray', 'post'".into());
    meta.push("900001, '_igny8_task_id', '424242'".into());
    src.insert("wp_igny8_tasks", "id, title, description, keywords, cluster_id, idea_id, content_type, content_structure, word_count, status, post_id, ai_model, created_at", &tasks).await;
    src.insert("wp_posts", "ID, post_author, post_date_gmt, post_content, post_title, post_status, post_name, post_type", &posts).await;
    src.insert("wp_postmeta", "post_id, meta_key, meta_value", &meta).await;

    // Images: featured and in-article, one orphan, one second featured, one never uploaded.
    let mut rows = vec![];
    for i in 1..=n_tasks.min(200) {
        rows.push(format!(
            "{}, {i}, 'featured', 'a photo of trail {i}', 'Trail {i}', {}, {}, 0",
            i * 10,
            q(&format!("http://127.0.0.1:8089/wp-content/uploads/t{i}.png")),
            5000 + i
        ));
        rows.push(format!(
            "{}, {i}, 'in_article', 'detail {i}', 'Detail {i}', '', {}, 1",
            i * 10 + 1,
            if i % 4 == 0 { "NULL".to_string() } else { (6000 + i).to_string() }
        ));
    }
    rows.push("999001, 88888, 'featured', 'orphan', 'Orphan', '', 1, 0".into());
    rows.push("999002, 1, 'featured', 'again', 'Again', '', 2, 0".into());
    src.insert("wp_igny8_images", "id, task_id, image_type, image_prompt, alt_text, image_url, attachment_id, position", &rows).await;

    src.exec(
        "INSERT INTO wp_igny8_prompts (prompt_type, prompt_value) VALUES \
         ('clustering', 'Group these keywords by topic: [IGNY8_KEYWORDS]'), \
         ('content_generation', 'Write about [IGNY8_TITLE] for [IGNY8_FOO]'), \
         ('tweet', 'Tweet it')",
    )
    .await;
    src.exec("INSERT INTO wp_igny8_logs (message, created_at) VALUES ('cron ran', NOW()), ('cron ran again', NOW())").await;
    Made { keywords: n_keywords, clusters: n_clusters, tasks: n_tasks, keyword_skips: skips }
}
