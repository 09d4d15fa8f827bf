//! WordPress sites: add, edit, remove, list — the plan's site limit enforced, the base URL checked against
//! private and loopback addresses (SSRF), the application password sealed at rest and only ever shown masked.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Who};
use crate::auth::rbac::Perm;
use crate::crypto::vault::mask;
use crate::db::is_unique_violation;
use crate::db::schema::sites;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::validate::Check;

pub use crate::wordpress::posts::PostStatus;
pub const SEO_PLUGINS: [&str; 4] = ["auto", "yoast", "rankmath", "none"];

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sites)]
pub struct SiteRow {
    pub id: i64,
    pub name: String,
    pub base_url: String,
    pub username: String,
    pub app_password_enc: String,
    pub default_status: PostStatus,
    pub default_category: String,
    pub seo_plugin: String,
    pub created_at: DateTime<Utc>,
    pub default_author: Option<i64>,
    pub plugin_secret_enc: String,
    pub api_root: String,
    pub seo_detected: String,
    pub companion_version: String,
    pub checked_at: Option<DateTime<Utc>>,
    pub check_ok: Option<bool>,
    pub check_report: Option<serde_json::Value>,
}

/// What pages and the API show: the password only masked.
#[derive(Debug, Clone, Serialize)]
pub struct Site {
    pub id: i64,
    pub name: String,
    pub base_url: String,
    pub username: String,
    pub app_password: String,
    pub default_status: PostStatus,
    pub default_category: String,
    pub seo_plugin: String,
    pub created_at: DateTime<Utc>,
    pub default_author: Option<i64>,
    pub plugin_secret_set: bool,
    /// How the self-test reached the REST API: `wp-json`, `rest_route`, or empty before a test.
    pub api_root: String,
    pub seo_detected: String,
    pub companion_version: String,
    pub checked_at: Option<DateTime<Utc>>,
    pub check_ok: Option<bool>,
    pub check: Option<crate::wordpress::diagnose::Report>,
}

impl Site {
    /// The SEO plugin publishing writes meta for: the chosen one, or what the self-test detected.
    pub fn seo_in_use(&self) -> &str {
        if self.seo_plugin == "auto" { if self.seo_detected.is_empty() { "none" } else { &self.seo_detected } } else { &self.seo_plugin }
    }
}

fn view(state: &AppState, r: SiteRow) -> Site {
    let app_password = state.vault.open(&r.app_password_enc).map(|p| mask(&p)).unwrap_or_else(|_| "(unreadable — enter it again)".into());
    Site {
        id: r.id,
        name: r.name,
        base_url: r.base_url,
        username: r.username,
        app_password,
        default_status: r.default_status,
        default_category: r.default_category,
        seo_plugin: r.seo_plugin,
        created_at: r.created_at,
        default_author: r.default_author,
        plugin_secret_set: !r.plugin_secret_enc.is_empty(),
        api_root: r.api_root,
        seo_detected: r.seo_detected,
        companion_version: r.companion_version,
        checked_at: r.checked_at,
        check_ok: r.check_ok,
        check: r.check_report.and_then(|v| serde_json::from_value(v).ok()),
    }
}

pub async fn list(state: &AppState, conn: &mut AsyncPgConnection, tenant_id: i64) -> AppResult<Vec<Site>> {
    let rows: Vec<SiteRow> =
        sites::table.filter(sites::tenant_id.eq(tenant_id)).order(sites::name).select(SiteRow::as_select()).load(conn).await?;
    Ok(rows.into_iter().map(|r| view(state, r)).collect())
}

pub async fn get(state: &AppState, conn: &mut AsyncPgConnection, tenant_id: i64, id: i64) -> AppResult<Site> {
    let r: SiteRow =
        sites::table.filter(sites::tenant_id.eq(tenant_id)).filter(sites::id.eq(id)).select(SiteRow::as_select()).first(conn).await?;
    Ok(view(state, r))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SiteInput {
    pub name: String,
    pub base_url: String,
    pub username: String,
    /// Empty on edit keeps the stored password.
    pub app_password: String,
    pub default_status: String,
    pub default_category: String,
    pub seo_plugin: String,
    /// The companion plugin's shared secret (Settings → IGNY8 in WordPress); empty on edit keeps it,
    /// `-` removes it.
    pub plugin_secret: String,
    /// The WordPress user id posts are published as; empty = the connected user.
    #[serde(deserialize_with = "crate::validate::text_or_number")]
    pub default_author: String,
}

struct Checked {
    name: String,
    base_url: String,
    username: String,
    password: String,
    status: PostStatus,
    category: String,
    seo: String,
    secret: String,
    author: Option<i64>,
}

async fn check(state: &AppState, input: &SiteInput, new: bool) -> AppResult<Checked> {
    let mut c = Check::new();
    let name = c.text("name", &input.name, "Name", 1, 120);
    let base_url = c.text("base_url", &input.base_url, "Site URL", 1, 300).trim_end_matches('/').to_string();
    let username = c.text("username", &input.username, "User name", 1, 60);
    // Application passwords are shown by WordPress in groups of four with spaces; both forms work.
    let password = c.text("app_password", &input.app_password, "Application password", if new { 1 } else { 0 }, 200);
    let status = match input.default_status.trim() {
        "" => PostStatus::Draft,
        given => PostStatus::parse(given).unwrap_or_else(|| {
            c.fail("default_status", "Default post status is draft, publish or future (scheduled)");
            PostStatus::Draft
        }),
    };
    let seo = if input.seo_plugin.is_empty() { "auto".to_string() } else { input.seo_plugin.clone() };
    if !SEO_PLUGINS.contains(&seo.as_str()) {
        c.fail("seo_plugin", "SEO plugin is auto, yoast, rankmath or none");
    }
    let category = c.text("default_category", &input.default_category, "Default category", 0, 120);
    let secret = c.text("plugin_secret", &input.plugin_secret, "Companion plugin secret", 0, 200);
    let author = match input.default_author.trim() {
        "" => None,
        a => match a.parse::<i64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                c.fail(
                    "default_author",
                    "Default author is a WordPress user id (a number, Users → Edit shows it in the address), or empty",
                );
                None
            }
        },
    };
    if !c.errors.contains_key("base_url")
        && let Err(msg) = crate::outbound::check_url(&base_url, state.config.allow_private_targets).await
    {
        c.fail("base_url", msg);
    }
    c.finish()?;
    Ok(Checked { name, base_url, username, password, status, category, seo, secret, author })
}

fn url_taken(e: diesel::result::Error, url: &str) -> AppError {
    if is_unique_violation(&e) { AppError::field("base_url", format!("{url} is already connected")) } else { e.into() }
}

pub async fn create(state: &AppState, ctx: &TenantCtx, input: &SiteInput) -> AppResult<Site> {
    ctx.require(Perm::ManageSites)?;
    let v = check(state, input, true).await?;
    let plan = state.plan(&ctx.plan_code).await?;
    let (tenant_id, who, sealed) = (ctx.tenant_id, Who::from(ctx), state.vault.seal(&v.password));
    let secret_sealed = if v.secret.is_empty() || v.secret == "-" { String::new() } else { state.vault.seal(&v.secret) };
    let mut conn = state.db.get().await?;
    let id = conn
        .transaction::<_, AppError, _>(async move |conn| {
            // The tenant row lock serialises "count, then insert" against the plan limit.
            crate::billing::ledger::lock_and_check(conn, tenant_id, 0).await?;
            let n: i64 = sites::table.filter(sites::tenant_id.eq(tenant_id)).count().get_result(conn).await?;
            if n >= plan.max_sites as i64 {
                return Err(AppError::PlanLimit(format!(
                    "The {} plan connects up to {} site{}; remove one or upgrade on the Billing page",
                    plan.name,
                    plan.max_sites,
                    if plan.max_sites == 1 { "" } else { "s" }
                )));
            }
            let id: i64 = diesel::insert_into(sites::table)
                .values((
                    sites::tenant_id.eq(tenant_id),
                    sites::name.eq(&v.name),
                    sites::base_url.eq(&v.base_url),
                    sites::username.eq(&v.username),
                    sites::app_password_enc.eq(&sealed),
                    sites::default_status.eq(v.status),
                    sites::default_category.eq(&v.category),
                    sites::seo_plugin.eq(&v.seo),
                    sites::plugin_secret_enc.eq(&secret_sealed),
                    sites::default_author.eq(v.author),
                ))
                .returning(sites::id)
                .get_result(conn)
                .await
                .map_err(|e| url_taken(e, &v.base_url))?;
            audit::record(conn, &who, "site.added", ("site", id.to_string()), serde_json::json!({ "name": v.name, "url": v.base_url }))
                .await?;
            Ok(id)
        })
        .await?;
    get(state, &mut conn, ctx.tenant_id, id).await
}

pub async fn update(state: &AppState, ctx: &TenantCtx, id: i64, input: &SiteInput) -> AppResult<Site> {
    ctx.require(Perm::ManageSites)?;
    let v = check(state, input, false).await?;
    let (tenant_id, who) = (ctx.tenant_id, Who::from(ctx));
    let sealed = (!v.password.is_empty()).then(|| state.vault.seal(&v.password));
    let secret_sealed = match v.secret.as_str() {
        "" => None,
        "-" => Some(String::new()),
        s => Some(state.vault.seal(s)),
    };
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let target = sites::table.filter(sites::tenant_id.eq(tenant_id)).filter(sites::id.eq(id));
        let n = diesel::update(target)
            .set((
                sites::name.eq(&v.name),
                sites::base_url.eq(&v.base_url),
                sites::username.eq(&v.username),
                sites::default_status.eq(v.status),
                sites::default_category.eq(&v.category),
                sites::seo_plugin.eq(&v.seo),
                sites::default_author.eq(v.author),
                sites::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await
            .map_err(|e| url_taken(e, &v.base_url))?;
        if n == 0 {
            return Err(AppError::NotFound);
        }
        if let Some(s) = &sealed {
            diesel::update(target).set(sites::app_password_enc.eq(s)).execute(conn).await?;
        }
        if let Some(s) = &secret_sealed {
            diesel::update(target).set(sites::plugin_secret_enc.eq(s)).execute(conn).await?;
        }
        audit::record(
            conn,
            &who,
            "site.updated",
            ("site", id.to_string()),
            serde_json::json!({ "name": v.name, "password_changed": sealed.is_some() }),
        )
        .await
    })
    .await?;
    get(state, &mut conn, ctx.tenant_id, id).await
}

pub async fn delete(state: &AppState, ctx: &TenantCtx, id: i64) -> AppResult<()> {
    ctx.require(Perm::ManageSites)?;
    let (tenant_id, who) = (ctx.tenant_id, Who::from(ctx));
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let name: String = diesel::delete(sites::table.filter(sites::tenant_id.eq(tenant_id)).filter(sites::id.eq(id)))
            .returning(sites::name)
            .get_result(conn)
            .await?;
        audit::record(conn, &who, "site.removed", ("site", id.to_string()), serde_json::json!({ "name": name })).await
    })
    .await
}

/// A site ready for calls: its row as shown, the REST client signed in as its user, the plugin secret.
pub struct Connection {
    pub site: Site,
    pub wp: crate::wordpress::Wp,
    pub plugin_secret: Option<String>,
}

/// Opens a site for outbound calls. The address is checked again here (not only when saved): DNS may
/// have changed, and the allow-private setting may have been turned off since.
pub async fn connect(state: &AppState, conn: &mut AsyncPgConnection, tenant_id: i64, id: i64) -> AppResult<Connection> {
    let r: SiteRow =
        sites::table.filter(sites::tenant_id.eq(tenant_id)).filter(sites::id.eq(id)).select(SiteRow::as_select()).first(conn).await?;
    crate::outbound::check_url(&r.base_url, state.config.allow_private_targets)
        .await
        .map_err(|m| AppError::Conflict(format!("{}: {m}", r.name)))?;
    let password = state
        .vault
        .open(&r.app_password_enc)
        .map_err(|_| AppError::Conflict(format!("{}: the application password cannot be read; enter it again", r.name)))?;
    let plugin_secret = if r.plugin_secret_enc.is_empty() { None } else { state.vault.open(&r.plugin_secret_enc).ok() };
    let root = crate::wordpress::RestRoot::parse(&r.api_root).unwrap_or(crate::wordpress::RestRoot::Pretty);
    let wp = crate::wordpress::Wp::new(state.wp_http.clone(), &r.base_url, root, &r.username, &password);
    Ok(Connection { site: view(state, r), wp, plugin_secret })
}
