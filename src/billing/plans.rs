//! Plans (seed §8.8), stored in the `plans` table by the first migration.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use crate::db::schema::plans;
use crate::error::AppResult;

pub const SIGNUP_PLAN: &str = "free";

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = plans)]
pub struct Plan {
    pub code: String,
    pub name: String,
    pub price_cents: i32,
    pub monthly_credits: i64,
    pub max_users: i32,
    pub max_sites: i32,
    /// Uploaded files a workspace may keep stored at once (keyword CSVs waiting to be imported).
    pub upload_quota_mb: i32,
    /// Whether a workspace on this plan may use its own AI provider key (else the platform's providers serve it).
    pub own_ai_key: bool,
}

impl Plan {
    /// Sold through Checkout (a price id is configured); the custom plan is granted by an operator.
    pub fn is_paid(&self) -> bool {
        self.price_cents > 0 && self.code != SIGNUP_PLAN
    }

    pub fn price(&self) -> String {
        format!("${}", self.price_cents / 100)
    }
}

pub async fn get(conn: &mut AsyncPgConnection, code: &str) -> AppResult<Plan> {
    Ok(plans::table.find(code).select(Plan::as_select()).first(conn).await?)
}

pub async fn all(conn: &mut AsyncPgConnection) -> AppResult<Vec<Plan>> {
    Ok(plans::table.select(Plan::as_select()).order(plans::sort_order.asc()).load(conn).await?)
}

/// Plans change only with a migration, so each process loads them once.
#[derive(Default)]
pub struct PlanCache(tokio::sync::OnceCell<Vec<Plan>>);

impl PlanCache {
    pub async fn all(&self, db: &crate::db::DbPool) -> AppResult<&[Plan]> {
        let plans = self
            .0
            .get_or_try_init(|| async {
                let mut conn = db.get().await?;
                all(&mut conn).await
            })
            .await?;
        Ok(plans)
    }

    pub async fn get(&self, db: &crate::db::DbPool, code: &str) -> AppResult<Plan> {
        self.all(db).await?.iter().find(|p| p.code == code).cloned().ok_or(crate::error::AppError::NotFound)
    }
}
