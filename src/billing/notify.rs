//! The "payment failed" mail: when Stripe's `invoice.payment_failed` leaves a workspace past due, its owners who
//! left "Payment problems" on (Account → Notifications) are mailed — once per invoice, however many deliveries or
//! retried charges of that invoice Stripe reports (the key in `notifications_sent` names the invoice).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::auth::rbac::Role;
use crate::db::schema::{memberships, tenants, users};
use crate::error::AppResult;
use crate::mail::{self, Letter};
use crate::state::AppState;

/// Queues the mails inside the webhook's transaction (a rolled-back delivery sends nothing); returns how many.
pub async fn payment_failed(conn: &mut AsyncPgConnection, state: &AppState, tenant_id: i64, invoice: &str) -> AppResult<usize> {
    if !mail::enabled(state) {
        return Ok(0);
    }
    let recipients: Vec<(i64, String, String)> = memberships::table
        .inner_join(users::table)
        .filter(memberships::tenant_id.eq(tenant_id))
        .filter(memberships::role.eq(Role::Owner.as_str()))
        .filter(users::notify_billing.eq(true))
        .select((users::id, users::email, users::name))
        .load(conn)
        .await?;
    if recipients.is_empty() {
        return Ok(0);
    }
    let (workspace, grace_ends_at): (String, Option<DateTime<Utc>>) =
        tenants::table.find(tenant_id).select((tenants::name, tenants::grace_ends_at)).first(conn).await?;
    let until = match grace_ends_at {
        Some(at) => format!("Work goes on until {}; after that the workspace is suspended", at.format("%Y-%m-%d %H:%M UTC")),
        None => "The workspace is suspended if the payment stays open".to_string(),
    };
    let key = format!("payment_failed:{invoice}");
    let mut sent = 0;
    for (user_id, email, name) in recipients {
        if !crate::auth::notifications::first_time(conn, tenant_id, user_id, &key).await? {
            continue;
        }
        let letter = Letter::new(format!("Payment failed for {workspace}"), format!("Hello {name},"))
            .para(format!("Stripe could not collect the payment for the subscription of the workspace \"{workspace}\"."))
            .para(format!("{until}. Update the payment method on the Billing page and Stripe tries again."))
            .action("Open Billing", format!("{}/billing", state.config.base_url))
            .note("You get this once per invoice. Turn these mails off under Account → Notifications.");
        mail::queue(conn, state, tenant_id, &email, &letter).await?;
        sent += 1;
    }
    Ok(sent)
}
