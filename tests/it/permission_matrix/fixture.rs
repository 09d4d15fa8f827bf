//! The world the matrix runs in: workspace A (owner, admin, editor, viewer, an API token and one row in every
//! tenant table), workspace B's owner, and the ids of A's rows that id-bearing routes name.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::harness::{Browser, Team, TestApp, redis_url};

pub struct Fixture {
    pub app: TestApp,
    pub a: Team,
    /// An API token of A (acts as the system bot).
    pub a_token: String,
    pub b_owner: Browser,
    /// A system administrator (owner of a third workspace).
    pub operator: Browser,
    pub ids: Ids,
}

/// Rows of workspace A. Team routes aim at a spare member, invite and token, so removing them costs no actor.
pub struct Ids {
    pub tenant: i64,
    pub keyword: i64,
    pub cluster: i64,
    /// A second cluster, for merges.
    pub cluster2: i64,
    pub idea: i64,
    pub import: i64,
    pub task: i64,
    pub image: i64,
    pub site: i64,
    pub job: i64,
    pub playground_run: i64,
    pub audit: i64,
    pub member: i64,
    pub invite: i64,
    pub token: i64,
    pub profile: i64,
    pub strategy: i64,
    pub automation_run: i64,
    /// B's own site: a foreign publish names it, so only the task in the path is A's.
    pub b_site: i64,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

async fn first(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Id>(conn).await.unwrap_or_else(|e| panic!("{sql}: {e}")).id
}

pub async fn build() -> Fixture {
    // Some 1,700 requests from one address: the per-IP, per-token and AI limits must not cut the matrix short.
    let limits = ["IGNY8_RATE_IP_PER_MIN", "IGNY8_RATE_AI_PER_MIN", "IGNY8_RATE_TOKEN_PER_MIN"];
    let app = TestApp::spawn_with(&redis_url(), limits.into_iter().map(|k| (k, "1000000".to_string())).collect()).await;
    let a = app.team("mxa").await;
    let (b_owner, b_tid) = app.signup("Bert Owner", "owner-mxb@example.com", "Workspace mxb").await;
    app.set_plan(b_tid, "agency").await;
    let (operator, _) = app.signup("Sys Admin", "sysadmin-mx@example.com", "Workspace mxs").await;
    let _spare = app.join(&a.owner, "spare-mxa@example.com", "viewer").await;
    let tok: serde_json::Value =
        a.owner.api_post("/api/team/tokens", serde_json::json!({"name": "matrix bot"})).await.json().await.unwrap();
    let a_token = tok["secret"].as_str().expect("token secret").to_string();

    let t = a.tenant_id;
    let mut conn = app.db().await;
    let owner = first(&mut conn, "SELECT id FROM users WHERE email = 'owner-mxa@example.com'").await;
    crate::workspaces::support::fill(&mut conn, t, owner, "mxa").await;
    conn.batch_execute("UPDATE users SET is_system_admin = true WHERE email = 'sysadmin-mx@example.com'").await.unwrap();
    // A's site points at a closed local port, so a self-test fails at once; a second cluster to merge into; a site of
    // B's own for foreign publishing; a finished playground image run.
    conn.batch_execute(&format!(
        "UPDATE sites SET base_url = 'http://127.0.0.1:9' WHERE tenant_id = {t};
         INSERT INTO clusters (tenant_id, name, source) VALUES ({t}, 'second cluster', 'manual');
         INSERT INTO sites (tenant_id, name, base_url, username, app_password_enc, plugin_secret_enc)
             VALUES ({b_tid}, 'b site', 'http://127.0.0.1:9', 'u', 'SEALED', '');
         INSERT INTO jobs (tenant_id, kind, payload, status, result)
             VALUES ({t}, '{}', '{{}}', 'succeeded', '{{\"content_type\": \"image/png\", \"bytes_b64\": \"iVBORw0K\"}}');",
        igny8::ai::jobs::IMAGE_TEST
    ))
    .await
    .unwrap();
    let row = |table: &str, filter: &str| format!("SELECT id FROM {table} WHERE tenant_id = {t} {filter} ORDER BY id LIMIT 1");
    let ids = Ids {
        tenant: t,
        keyword: first(&mut conn, &row("keywords", "")).await,
        cluster: first(&mut conn, &row("clusters", "")).await,
        cluster2: first(&mut conn, &row("clusters", "AND name = 'second cluster'")).await,
        idea: first(&mut conn, &row("content_ideas", "")).await,
        import: first(&mut conn, &row("keyword_imports", "")).await,
        task: first(&mut conn, &row("tasks", "")).await,
        image: first(&mut conn, &row("images", "")).await,
        site: first(&mut conn, &row("sites", "")).await,
        job: first(&mut conn, &row("jobs", "AND kind = 'mail.send' AND payload->>'to' LIKE 'mail-mxa%'")).await,
        playground_run: first(&mut conn, &row("jobs", &format!("AND kind = '{}'", igny8::ai::jobs::IMAGE_TEST))).await,
        audit: first(&mut conn, &row("audit_events", "")).await,
        member: first(&mut conn, "SELECT id FROM users WHERE email = 'spare-mxa@example.com'").await,
        invite: first(&mut conn, &row("invitations", "AND email LIKE 'invitee-mxa%'")).await,
        token: first(&mut conn, &row("api_tokens", "AND name = 'token mxa'")).await,
        profile: first(&mut conn, &row("author_profiles", "")).await,
        strategy: first(&mut conn, &row("strategies", "")).await,
        automation_run: first(&mut conn, &row("cron_runs", "")).await,
        b_site: first(&mut conn, &format!("SELECT id FROM sites WHERE tenant_id = {b_tid}")).await,
    };
    Fixture { app, a, a_token, b_owner, operator, ids }
}

impl Ids {
    /// The concrete path for a pattern: `{id}` is the A row the route's section is about.
    pub fn path(&self, pattern: &str) -> String {
        let id = |section: &str| -> i64 {
            match section {
                s if s.contains("/keywords/") => self.keyword,
                s if s.contains("/clusters/") => self.cluster,
                s if s.contains("/ideas/") => self.idea,
                s if s.contains("/imports/") => self.import,
                s if s.contains("/playground/runs/") => self.playground_run,
                s if s.contains("/images/") => self.image,
                s if s.contains("/tasks/") => self.task,
                s if s.contains("/sites/") => self.site,
                s if s.contains("/system/jobs/") => self.job,
                s if s.contains("/audit/") => self.audit,
                s if s.contains("/members/") => self.member,
                s if s.contains("/invites/") => self.invite,
                s if s.contains("/tokens/") => self.token,
                s if s.contains("/profiles/") => self.profile,
                s if s.contains("/strategies/") => self.strategy,
                s if s.contains("/automation/runs/") => self.automation_run,
                s if s.contains("/workspaces/") => self.tenant,
                // Platform rows (System → AI providers): no workspace's.
                s if s.contains("/ai-providers/") => 1,
                other => panic!("no id for {other}: add its section to permission_matrix::fixture"),
            }
        };
        let head = pattern.split("{id}").next().unwrap_or(pattern);
        let mut path = pattern.to_string();
        if pattern.contains("{id}") {
            path = path.replace("{id}", &id(head).to_string());
        }
        path.replace("{version}", "1")
            .replace("{key}", "content")
            .replace("{step}", "cluster")
            .replace("{secret}", "not-a-real-secret-0123456789")
            .replace("{token}", "not-a-real-token-0123456789")
            .replace("{path:.*}", "app.css")
    }
}

#[derive(QueryableByName)]
struct Sum {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sum: String,
}

/// A digest per table of the whole database (every workspace), so a refused request that changed any row is
/// caught with the table it touched. A token's `last_used_at` is bookkeeping of the request itself.
pub async fn checksums(conn: &mut AsyncPgConnection, tables: &[String]) -> Vec<(String, String)> {
    let parts: Vec<String> = tables
        .iter()
        .map(|t| {
            let row = "(to_jsonb(r) - 'last_used_at')::text";
            format!("SELECT '{t}'::text AS name, coalesce(md5(string_agg({row}, ',' ORDER BY {row})), '') AS sum FROM {t} r")
        })
        .collect();
    let rows: Vec<Sum> = diesel::sql_query(parts.join(" UNION ALL ")).load(conn).await.unwrap();
    rows.into_iter().map(|s| (s.name, s.sum)).collect()
}

pub async fn all_tables(conn: &mut AsyncPgConnection) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let rows: Vec<Name> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables
          WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .load(conn)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.name).collect()
}
