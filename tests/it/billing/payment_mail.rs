//! The "payment failed" mail: `invoice.payment_failed` puts the workspace past due and mails its owners who have
//! the switch on — once per invoice, whether Stripe redelivers the event or reports another failed charge of the
//! same invoice — and nobody with the switch off.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use igny8::db::schema::{jobs, users};

use super::support::*;
use crate::harness::TestApp;
use crate::smtp::SmtpSink;

/// Queued "Payment failed" mails to `to` (the mail job's payload names recipient and subject).
async fn payment_mails(app: &TestApp, to: &str) -> i64 {
    let mut conn = app.db().await;
    jobs::table
        .filter(jobs::kind.eq("mail.send"))
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "payload->>'to' = '{to}' AND payload->>'subject' LIKE 'Payment failed%'"
        )))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap()
}

fn failed_invoice(id: &str, tenant_id: i64, customer: &str) -> serde_json::Value {
    let mut o = invoice(id, tenant_id, customer, PRICE_PRO, now() + 30 * 86400);
    o["status"] = "open".into();
    o["attempt_count"] = 1.into();
    o
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_payment_mails_the_owner_once_per_invoice_and_nobody_with_the_switch_off() {
    let sink = SmtpSink::start().await;
    let env: Vec<(&'static str, String)> = sink.env().into_iter().collect();
    let app = app_with(&env).await;
    // With mail on, sign-up leaves the owner unverified (and unverified owners cannot invite): confirmed here.
    let (owner, tid) = app.signup("Olive Owner", "owner-pay@example.com", "Workspace pay").await;
    app.set_plan(tid, "agency").await;
    let mut conn = app.db().await;
    diesel::update(users::table).set(users::email_verified_at.eq(Some(chrono::Utc::now()))).execute(&mut conn).await.unwrap();
    let _admin = app.join(&owner, "admin-pay@example.com", "admin").await;

    let body = event("evt_fail_1", "invoice.payment_failed", now(), failed_invoice("in_fail_1", tid, "cus_pay"));
    let (status, receipt) = deliver(&app, &body).await;
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(workspace(&app, tid).await.status, "past_due");
    let mail = sink.wait_for("owner-pay@example.com", 2).await.into_iter().find(|m| m.subject.starts_with("Payment failed")).unwrap();
    assert!(mail.subject.contains("Workspace pay"), "{}", mail.subject);
    assert!(mail.text.contains("/billing"), "links to Billing");
    assert_eq!(payment_mails(&app, "owner-pay@example.com").await, 1);
    assert_eq!(payment_mails(&app, "admin-pay@example.com").await, 0, "owners only");

    // The same delivery again, and another event about the same invoice (Stripe's retried charge): no second mail.
    assert_eq!(deliver(&app, &body).await.1["duplicate"], true);
    let retry = event("evt_fail_2", "invoice.payment_failed", now(), failed_invoice("in_fail_1", tid, "cus_pay"));
    assert_eq!(deliver(&app, &retry).await.0, 200);
    assert_eq!(payment_mails(&app, "owner-pay@example.com").await, 1, "once per invoice");

    // The owner turns the switch off (the other switches stay on); the next invoice's failure mails nobody.
    let r = owner.post_form("/account/notifications", &[("automation", "on"), ("credits", "on")]).await;
    assert_eq!(r.status(), 303);
    let (_, page) = owner.get_text("/account/notifications").await;
    assert!(page.contains("name=\"billing\" value=\"on\">"), "the switch shows off");
    let next = event("evt_fail_3", "invoice.payment_failed", now(), failed_invoice("in_fail_2", tid, "cus_pay"));
    assert_eq!(deliver(&app, &next).await.0, 200);
    assert_eq!(payment_mails(&app, "owner-pay@example.com").await, 1, "switched off: no mail");

    // Back on: a new invoice's failure mails again (the switch, not a one-off, decided).
    let r = owner.post_form("/account/notifications", &[("billing", "on")]).await;
    assert_eq!(r.status(), 303);
    let last = event("evt_fail_4", "invoice.payment_failed", now(), failed_invoice("in_fail_3", tid, "cus_pay"));
    assert_eq!(deliver(&app, &last).await.0, 200);
    assert_eq!(payment_mails(&app, "owner-pay@example.com").await, 2);
    let got = sink.wait_for("owner-pay@example.com", 3).await; // verification + two payment mails, over SMTP
    assert_eq!(got.iter().filter(|m| m.subject.starts_with("Payment failed")).count(), 2);
}
