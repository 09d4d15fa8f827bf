//! `igny8 seed-demo`: a demo workspace to click through, created once and refreshed on every run.
//! The owner's password is new each run and printed, so the printed login always works.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::auth::{password, service::insert_user};
use crate::crypto::secrets::random_token;
use crate::db::schema::{keywords, memberships, users};
use crate::error::AppError;
use crate::state::AppState;
use crate::tenancy::service::create_workspace;

pub const DEMO_EMAIL: &str = "demo@igny8.local";
const DEMO_WORKSPACE: &str = "Demo Agency";
/// Keywords for the planner to cluster (keyword, monthly volume, difficulty, intent).
const KEYWORDS: &[(&str, i32, i16, &str)] = &[
    ("running shoes", 90500, 72, "commercial"),
    ("best running shoes", 40500, 68, "commercial"),
    ("trail running shoes", 22200, 55, "commercial"),
    ("running shoes for flat feet", 8100, 41, "commercial"),
    ("how to choose running shoes", 2900, 33, "informational"),
    ("running shoe size guide", 1900, 24, "informational"),
    ("marathon training plan", 33100, 47, "informational"),
    ("half marathon training plan", 27100, 44, "informational"),
    ("marathon training plan for beginners", 6600, 38, "informational"),
    ("couch to 5k", 60500, 52, "informational"),
    ("5k training plan", 12100, 36, "informational"),
    ("running injuries knee", 4400, 29, "informational"),
    ("runners knee treatment", 9900, 35, "informational"),
    ("shin splints treatment", 14800, 40, "informational"),
    ("garmin forerunner 265", 18100, 30, "navigational"),
    ("buy garmin forerunner", 2400, 27, "transactional"),
    ("gps running watch", 8100, 49, "commercial"),
    ("best gps running watch", 5400, 51, "commercial"),
    ("running hydration vest", 3600, 22, "commercial"),
    ("energy gels for running", 2900, 18, "commercial"),
];

/// Teammates, so the team page and roles have something to show.
const TEAM: &[(&str, &str, &str)] = &[("editor@igny8.local", "Eddie Editor", "editor"), ("viewer@igny8.local", "Vera Viewer", "viewer")];

pub async fn seed_demo(state: &AppState) -> anyhow::Result<()> {
    let pw = format!("demo-{}", random_token(9));
    let hash = password::hash(&pw).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let teammate_hash = password::hash(&random_token(16)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut conn = state.db.get().await?;
    let tenant_id = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let existing: Option<i64> = users::table.filter(users::email.eq(DEMO_EMAIL)).select(users::id).first(conn).await.optional()?;
            let tenant_id = match existing {
                Some(uid) => {
                    diesel::update(users::table.find(uid)).set(users::password_hash.eq(&hash)).execute(conn).await?;
                    memberships::table
                        .filter(memberships::user_id.eq(uid))
                        .select(memberships::tenant_id)
                        .order(memberships::created_at.asc())
                        .first(conn)
                        .await?
                }
                None => {
                    let uid = insert_user(conn, DEMO_EMAIL, "Dana Demo", &hash, true).await?;
                    create_workspace(conn, DEMO_WORKSPACE, "pro", uid, DEMO_EMAIL, None).await?
                }
            };
            for (email, name, role) in TEAM {
                let uid: Option<i64> = users::table.filter(users::email.eq(email)).select(users::id).first(conn).await.optional()?;
                let uid = match uid {
                    Some(u) => u,
                    None => insert_user(conn, email, name, &teammate_hash, true).await?,
                };
                diesel::insert_into(memberships::table)
                    .values((memberships::tenant_id.eq(tenant_id), memberships::user_id.eq(uid), memberships::role.eq(*role)))
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await?;
            }
            let rows: Vec<_> = KEYWORDS
                .iter()
                .map(|(k, v, d, i)| {
                    (
                        keywords::tenant_id.eq(tenant_id),
                        keywords::keyword.eq(*k),
                        keywords::volume.eq(*v),
                        keywords::difficulty.eq(*d),
                        keywords::intent.eq(*i),
                    )
                })
                .collect();
            diesel::insert_into(keywords::table).values(rows).on_conflict_do_nothing().execute(conn).await?;
            Ok(tenant_id)
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("demo workspace: {DEMO_WORKSPACE} (id {tenant_id})");
    println!("email: {DEMO_EMAIL}");
    println!("password: {pw}");
    Ok(())
}
