//! Switching over (seed §7.12 "Remote Mode"): the WordPress site joins the workspace as a connected site, and
//! every post the plugin made is linked to its imported task as a publication with the post's id — exactly
//! what the publish job would have stored — so the status sync marks them published and a later publish
//! updates the post in place. Nothing is sent to WordPress here; no post is created.
//!
//! The plugin's database holds no application password, so the site is connected only when the command is
//! given a user and an application password (see docs/MIGRATION.md).

use crate::modules::publish::service::PublicationState;
use crate::modules::writer::service::TaskStatus;
use crate::wordpress::posts::{PostStatus, remote};
use std::collections::HashMap;

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::report::{Report, SiteReport};
use super::run::SiteLogin;
use super::source::Source;
use super::transform::Cx;
use super::values::{self, cut};
use super::write::Scope;
use crate::audit::{self, Who};
use crate::db::schema::{publications, published_media, sites};
use crate::state::AppState;

#[allow(clippy::too_many_arguments)]
pub async fn connect(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    src: &mut Source,
    report: &mut Report,
    scope: &Scope<'_>,
    cx: &Cx,
    login: Option<&SiteLogin>,
    site_url: Option<&str>,
    blogname: Option<String>,
) -> anyhow::Result<()> {
    let tenant_id = scope.tenant_id;
    let url = login.map(|l| l.url.trim()).filter(|u| !u.is_empty()).or(site_url).unwrap_or("").trim_end_matches('/').to_string();
    let mut site = SiteReport { url: url.clone(), ..Default::default() };
    let Some(login) = login.filter(|l| !l.user.trim().is_empty() && !l.app_password.trim().is_empty()) else {
        if !cx.linked.is_empty() || login.is_some() {
            site.outcome = format!(
                "not connected: give --wp-user and an application password (IGNY8_WP_APP_PASSWORD) to connect it and link its {} posts",
                cx.linked.len()
            );
            report.site = Some(site);
        }
        return Ok(());
    };
    if url.is_empty() {
        site.outcome = "not connected: the source has no siteurl option; give --site-url".into();
        report.site = Some(site);
        return Ok(());
    }
    if let Err(m) = crate::outbound::check_url(&url, state.config.allow_private_targets).await {
        site.outcome = format!("not connected: {m}");
        report.site = Some(site);
        return Ok(());
    }
    let sealed = state.vault.seal(login.app_password.trim());
    let existing: Option<i64> = sites::table
        .filter(sites::tenant_id.eq(tenant_id))
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>("lower(base_url) = lower(").bind::<diesel::sql_types::Text, _>(&url).sql(")"))
        .select(sites::id)
        .first(conn)
        .await
        .optional()?;
    let who = Who { tenant_id, user_id: None, label: "import".into(), ip: None };
    let site_id = match existing {
        Some(id) => {
            diesel::update(sites::table.filter(sites::tenant_id.eq(tenant_id)).filter(sites::id.eq(id)))
                .set((sites::username.eq(login.user.trim()), sites::app_password_enc.eq(&sealed), sites::updated_at.eq(diesel::dsl::now)))
                .execute(conn)
                .await?;
            site.outcome = "already connected; user and application password updated".into();
            id
        }
        None => {
            let plan_code: String =
                crate::db::schema::tenants::table.find(tenant_id).select(crate::db::schema::tenants::plan_code).first(conn).await?;
            let plan = state.plan(&plan_code).await?;
            crate::billing::ledger::lock_and_check(conn, tenant_id, 0).await?;
            let n: i64 = sites::table.filter(sites::tenant_id.eq(tenant_id)).count().get_result(conn).await?;
            if n >= plan.max_sites as i64 {
                site.outcome = format!(
                    "not connected: the {} plan connects up to {} sites; remove one or upgrade, then run again",
                    plan.name, plan.max_sites
                );
                report.site = Some(site);
                return Ok(());
            }
            let name = blogname.filter(|b| !b.trim().is_empty()).map(|b| cut(b.trim(), 120)).unwrap_or_else(|| cut(&url, 120));
            let id: i64 = diesel::insert_into(sites::table)
                .values((
                    sites::tenant_id.eq(tenant_id),
                    sites::name.eq(&name),
                    sites::base_url.eq(&url),
                    sites::username.eq(login.user.trim()),
                    sites::app_password_enc.eq(&sealed),
                ))
                .returning(sites::id)
                .get_result(conn)
                .await?;
            audit::record(
                conn,
                &who,
                "site.added",
                ("site", id.to_string()),
                serde_json::json!({ "name": name, "url": url, "by": "import" }),
            )
            .await?;
            site.outcome = "connected".into();
            id
        }
    };
    site.site_id = Some(site_id);

    // The author of most of the plugin's posts publishes IGNY8's (when the site has no default yet).
    let mut authors: HashMap<i64, usize> = HashMap::new();
    for (_, post) in &cx.linked {
        if let Some(a) = cx.posts.get(post).and_then(|p| p.author).filter(|a| *a > 0) {
            *authors.entry(a).or_default() += 1;
        }
    }
    if let Some((author, _)) = authors.iter().max_by_key(|(id, n)| (**n, -**id)) {
        let users = if src.has_table("users") { src.users(&[*author]).await? } else { vec![] };
        if let Some((id, login_name, display, _)) = users.into_iter().next() {
            diesel::update(
                sites::table.filter(sites::tenant_id.eq(tenant_id)).filter(sites::id.eq(site_id)).filter(sites::default_author.is_null()),
            )
            .set(sites::default_author.eq(id))
            .execute(conn)
            .await?;
            let shown = if display.is_empty() { login_name.clone() } else { display };
            site.default_author = Some(format!("{shown} ({login_name}, user {id})"));
        }
    }

    // Each post the plugin made → a publication of its task, as the publish job would have left it.
    let now = Utc::now();
    for (task_src, post_id) in &cx.linked {
        let (Some(task), Some(post)) = (cx.tasks.get(task_src), cx.posts.get(post_id)) else { continue };
        let mut notes = vec![];
        let status = values::text_nonempty(&post.status, "post_status", &mut notes).unwrap_or_else(|| remote::DRAFT.into());
        let when = values::date(&post.date_gmt, "post_date_gmt", &mut notes);
        // What IGNY8 asks of the post from now on: as it is on the site (anything unusual is treated as a draft).
        let asked = PostStatus::parse(&status).unwrap_or(PostStatus::Draft);
        let steps = serde_json::json!([{ "step": "import", "ok": true, "detail": format!("linked to post {post_id}, made by the WordPress plugin"), "at": now }]);
        let n = diesel::insert_into(publications::table)
            .values((
                publications::tenant_id.eq(tenant_id),
                publications::task_id.eq(task),
                publications::site_id.eq(site_id),
                publications::remote_id.eq(post_id),
                publications::remote_status.eq(&status),
                publications::state.eq(PublicationState::Done),
                publications::post_status.eq(asked),
                publications::scheduled_at.eq(if asked == PostStatus::Future { when } else { None }),
                publications::task_status_before.eq(TaskStatus::Ready),
                publications::steps.eq(steps),
                publications::published_at.eq(if asked == PostStatus::Draft { None } else { when }),
            ))
            .on_conflict((publications::tenant_id, publications::task_id))
            .do_nothing()
            .execute(conn)
            .await?;
        if n == 1 { site.linked += 1 } else { site.already_linked += 1 }
    }

    // Images already in the site's media library: publishing reuses them instead of uploading again.
    for (image_src, attachment, url) in &cx.media {
        let Some(image) = cx.images.get(image_src) else { continue };
        let n = diesel::insert_into(published_media::table)
            .values((
                published_media::tenant_id.eq(tenant_id),
                published_media::image_id.eq(image),
                published_media::site_id.eq(site_id),
                published_media::remote_id.eq(attachment),
                published_media::remote_url.eq(url),
                published_media::sha256.eq(""),
            ))
            .on_conflict((published_media::tenant_id, published_media::image_id, published_media::site_id))
            .do_nothing()
            .execute(conn)
            .await?;
        site.media += n as i64;
    }
    report.site = Some(site);
    Ok(())
}
