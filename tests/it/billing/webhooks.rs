use super::support::*;
use crate::harness::TestApp;
use serde_json::json;

async fn nothing_changed(app: &TestApp, tid: i64, before: &Row) {
    let after = workspace(app, tid).await;
    assert_eq!((after.plan.as_str(), after.status.as_str(), after.balance), (before.plan.as_str(), before.status.as_str(), before.balance));
    assert_eq!(app.count("stripe_events").await, 0, "no event stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_stale_and_malformed_deliveries_are_400_and_change_nothing() {
    let app = app().await;
    let (_owner, tid) = app.signup("Wes", "wes@example.com", "Wes Co").await;
    let before = workspace(&app, tid).await;
    let body = event("evt_forged", "invoice.paid", now(), invoice("in_1", tid, "cus_1", PRICE_PRO, now() + 86400));

    // Signed with another secret.
    let r = deliver_raw(&app, &body, Some(sign(&body, "whsec_attacker", now()))).await;
    assert_eq!(r.status(), 400);
    // Correct secret, but the signature covers another body.
    let other = body.replace("in_1", "in_2");
    assert_eq!(deliver_raw(&app, &other, Some(sign(&body, WHSEC, now()))).await.status(), 400);
    // Correct signature, timestamp older than the 300 s tolerance (and one from the future).
    assert_eq!(deliver_raw(&app, &body, Some(sign(&body, WHSEC, now() - 301))).await.status(), 400);
    assert_eq!(deliver_raw(&app, &body, Some(sign(&body, WHSEC, now() + 400))).await.status(), 400);
    // No header, and a header without v1.
    assert_eq!(deliver_raw(&app, &body, None).await.status(), 400);
    assert_eq!(deliver_raw(&app, &body, Some(format!("t={}", now()))).await.status(), 400);
    // Correctly signed but not an event.
    for bad in [
        "{not json",
        r#"{"id":"evt_x","type":"invoice.paid"}"#,
        r#"{"id":"evt_x","type":"invoice.paid","created":1,"data":{"object":"x"}}"#,
    ] {
        let r = deliver_raw(&app, bad, Some(sign(bad, WHSEC, now()))).await;
        assert_eq!(r.status(), 400, "{bad}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_request");
    }
    nothing_changed(&app, tid, &before).await;

    // The same delivery, properly signed, is accepted: the refusals above were about the signature.
    let (status, receipt) = deliver(&app, &body).await;
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(workspace(&app, tid).await.balance, before.balance + 600);
}

#[tokio::test(flavor = "multi_thread")]
async fn invoice_paid_for_pro_grants_600_once_however_often_it_arrives() {
    let app = app().await;
    let (_owner, tid) = app.signup("Pam", "pam@example.com", "Pam Co").await;
    let start = workspace(&app, tid).await.balance;
    let period_end = now() + 30 * 86400;
    let body = event("evt_paid_1", "invoice.paid", now(), invoice("in_pro_1", tid, "cus_pam", PRICE_PRO, period_end));

    let (status, receipt) = deliver(&app, &body).await;
    assert_eq!(status, 200);
    assert_eq!(receipt["duplicate"], false);
    assert_eq!(receipt["outcome"], "applied");
    let w = workspace(&app, tid).await;
    assert_eq!(w.balance, start + 600);
    assert_eq!((w.plan.as_str(), w.status.as_str()), ("pro", "active"));

    // The same event again (a Stripe retry, or a replay of a captured body re-signed): 200, nothing granted.
    let (status, receipt) = deliver(&app, &body).await;
    assert_eq!(status, 200);
    assert_eq!(receipt["duplicate"], true);
    // A second event about the same invoice does not grant twice either.
    let again = event("evt_paid_2", "invoice.paid", now(), invoice("in_pro_1", tid, "cus_pam", PRICE_PRO, period_end));
    assert_eq!(deliver(&app, &again).await.0, 200);
    assert_eq!(workspace(&app, tid).await.balance, start + 600);
    assert_eq!(app.count("stripe_events").await, 2);

    // The next month's invoice grants again.
    let next = event("evt_paid_3", "invoice.paid", now(), invoice("in_pro_2", tid, "cus_pam", PRICE_PRO, period_end + 30 * 86400));
    assert_eq!(deliver(&app, &next).await.0, 200);
    let w = workspace(&app, tid).await;
    assert_eq!(w.balance, start + 1200);
    assert_eq!(ledger_sum(&app, tid).await, w.balance);

    // Unknown event types are answered 200 and ignored.
    let (status, receipt) =
        deliver(&app, &event("evt_other", "customer.created", now(), json!({"id": "cus_x", "object": "customer"}))).await;
    assert_eq!(status, 200);
    assert_eq!(receipt["outcome"], "ignored");
    assert_eq!(workspace(&app, tid).await.balance, start + 1200);
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_payment_goes_past_due_then_suspended_after_grace_and_payment_lifts_it() {
    let app = app().await;
    let (_owner, tid) = app.signup("Fran", "fran@example.com", "Fran Co").await;
    let t0 = now() - 100;
    let paid = event("evt_1", "invoice.paid", t0, invoice("in_1", tid, "cus_fran", PRICE_STARTER, t0 + 86400));
    assert_eq!(deliver(&app, &paid).await.0, 200);
    assert_eq!(workspace(&app, tid).await.status, "active");

    let failed = event("evt_2", "invoice.payment_failed", t0 + 10, invoice("in_2", tid, "cus_fran", PRICE_STARTER, t0 + 2 * 86400));
    assert_eq!(deliver(&app, &failed).await.0, 200);
    let w = workspace(&app, tid).await;
    assert_eq!(w.status, "past_due");
    let grace_end = w.grace_ends_at.expect("grace period set");
    assert_eq!(grace_end.timestamp(), t0 + 10 + 3 * 86400, "IGNY8_BILLING_GRACE_DAYS = 3 from the failure");
    assert_eq!(w.balance, 25 + 200, "a failed invoice grants nothing");

    // The scheduler's sweep: nothing before the grace period ends, suspended after it.
    let mut conn = app.db().await;
    let sweep = igny8::billing::subscription::suspend_overdue;
    assert_eq!(sweep(&mut conn, grace_end - chrono::Duration::seconds(1)).await.unwrap(), 0);
    assert_eq!(workspace(&app, tid).await.status, "past_due");
    assert_eq!(sweep(&mut conn, grace_end).await.unwrap(), 1);
    assert_eq!(workspace(&app, tid).await.status, "suspended");
    assert_eq!(sweep(&mut conn, grace_end).await.unwrap(), 0, "idempotent");

    // A failure retried later does not lift or move a suspension.
    let failed_again = event("evt_3", "invoice.payment_failed", t0 + 20, invoice("in_2", tid, "cus_fran", PRICE_STARTER, t0 + 2 * 86400));
    assert_eq!(deliver(&app, &failed_again).await.0, 200);
    assert_eq!(workspace(&app, tid).await.status, "suspended");

    // Payment lifts it: active, no grace, the invoice's credits granted.
    let paid2 = event("evt_4", "invoice.paid", t0 + 30, invoice("in_2", tid, "cus_fran", PRICE_STARTER, t0 + 2 * 86400));
    assert_eq!(deliver(&app, &paid2).await.0, 200);
    let w = workspace(&app, tid).await;
    assert_eq!((w.status.as_str(), w.grace_ends_at), ("active", None));
    assert_eq!(w.balance, 25 + 400);

    // The earlier failure delivered late (a new event id, older `created`) does not undo the payment.
    let late = event("evt_2_late", "invoice.payment_failed", t0 + 15, invoice("in_2", tid, "cus_fran", PRICE_STARTER, t0 + 2 * 86400));
    let (status, receipt) = deliver(&app, &late).await;
    assert_eq!((status, receipt["outcome"].as_str()), (200, Some("stale")));
    assert_eq!(workspace(&app, tid).await.status, "active");
    assert_eq!(ledger_sum(&app, tid).await, workspace(&app, tid).await.balance);
}

fn checkout_completed(id: &str, tid: i64, customer: &str, plan: &str) -> serde_json::Value {
    json!({
        "id": id,
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "payment_status": "paid",
        "customer": customer,
        "subscription": "sub_42",
        "client_reference_id": tid.to_string(),
        "metadata": { "tenant_id": tid.to_string(), "plan": plan },
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn subscription_updated_before_checkout_completed_ends_in_the_right_plan() {
    let app = app().await;
    for (n, updated_first) in [(1, true), (2, false)] {
        let (_b, tid) = app.signup("Ona", &format!("ona{n}@example.com"), &format!("Ona {n}")).await;
        let customer = format!("cus_ona{n}");
        let t = now() - 60;
        // Checked out Pro, then changed to Agency a little later.
        let completed =
            event(&format!("evt_cs{n}"), "checkout.session.completed", t, checkout_completed(&format!("cs_{n}"), tid, &customer, "pro"));
        let updated = event(
            &format!("evt_su{n}"),
            "customer.subscription.updated",
            t + 5,
            subscription("sub_42", tid, &customer, PRICE_AGENCY, "active", t + 30 * 86400),
        );
        let order = if updated_first { [&updated, &completed] } else { [&completed, &updated] };
        for body in order {
            let (status, receipt) = deliver(&app, body).await;
            assert_eq!(status, 200, "{receipt}");
        }
        let w = workspace(&app, tid).await;
        assert_eq!((w.plan.as_str(), w.status.as_str()), ("agency", "active"), "updated first: {updated_first}");
        assert_eq!(w.customer.as_deref(), Some(customer.as_str()), "the customer id is kept whatever the order");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_credit_pack_checkout_adds_its_credits_once_and_cancellation_is_followed() {
    let app = app().await;
    let (_b, tid) = app.signup("Kit", "kit@example.com", "Kit Co").await;
    let pack = json!({
        "id": "cs_pack_1", "object": "checkout.session", "mode": "payment", "status": "complete", "payment_status": "paid",
        "customer": "cus_kit", "client_reference_id": tid.to_string(),
        "metadata": { "tenant_id": tid.to_string(), "kind": "credit_pack", "credits": "100" },
    });
    assert_eq!(deliver(&app, &event("evt_pack_1", "checkout.session.completed", now(), pack.clone())).await.0, 200);
    assert_eq!(deliver(&app, &event("evt_pack_1b", "checkout.session.completed", now(), pack)).await.0, 200);
    assert_eq!(workspace(&app, tid).await.balance, 125);

    let t = now();
    let sub = subscription("sub_kit", tid, "cus_kit", PRICE_PRO, "active", t + 86400);
    assert_eq!(deliver(&app, &event("evt_k1", "customer.subscription.updated", t, sub.clone())).await.0, 200);
    assert_eq!(workspace(&app, tid).await.plan, "pro");
    let mut cancelling = sub.clone();
    cancelling["cancel_at_period_end"] = json!(true);
    assert_eq!(deliver(&app, &event("evt_k2", "customer.subscription.updated", t + 1, cancelling)).await.0, 200);
    let mut conn = app.db().await;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use igny8::db::schema::tenants;
    let cancel: bool = tenants::table.find(tid).select(tenants::cancel_at_period_end).first(&mut conn).await.unwrap();
    assert!(cancel);
    let mut gone = sub;
    gone["status"] = json!("canceled");
    assert_eq!(deliver(&app, &event("evt_k3", "customer.subscription.deleted", t + 2, gone)).await.0, 200);
    let w = workspace(&app, tid).await;
    assert_eq!((w.plan.as_str(), w.status.as_str()), ("free", "cancelled"));
    assert_eq!(ledger_sum(&app, tid).await, w.balance);
}

/// An operator's suspension is a hold: a payment, or Stripe saying the subscription is active, records the
/// payment (credits granted) but leaves the workspace suspended until an operator reinstates it.
#[tokio::test(flavor = "multi_thread")]
async fn a_payment_does_not_lift_an_operators_suspension_but_the_operator_does() {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let app = app().await;
    let (owner, tid) = app.signup("Hal", "hal@example.com", "Hal Co").await;
    let (ops, _) = app.signup("Ola Operator", "ola@example.com", "Operators").await;
    let mut conn = app.db().await;
    diesel::update(igny8::db::schema::users::table.filter(igny8::db::schema::users::email.eq("ola@example.com")))
        .set(igny8::db::schema::users::is_system_admin.eq(true))
        .execute(&mut conn)
        .await
        .unwrap();
    let path = format!("/api/system/workspaces/{tid}/status");
    let status = |action: &'static str| ops.api_post(&path, json!({ "action": action }));
    assert_eq!(status("suspend").await.status(), 204);
    let before = workspace(&app, tid).await.balance;

    let t0 = now() - 100;
    let paid = event("evt_h1", "invoice.paid", t0, invoice("in_h1", tid, "cus_hal", PRICE_STARTER, t0 + 86400));
    assert_eq!(deliver(&app, &paid).await.0, 200);
    let active = event(
        "evt_h2",
        "customer.subscription.updated",
        t0 + 5,
        subscription("sub_h", tid, "cus_hal", PRICE_STARTER, "active", t0 + 86400),
    );
    assert_eq!(deliver(&app, &active).await.0, 200);
    let w = workspace(&app, tid).await;
    assert_eq!(w.status, "suspended", "the hold stays");
    assert_eq!(w.balance, before + 200, "the payment itself is recorded");
    assert_eq!(w.plan, "starter");
    assert_eq!(owner.api_post("/api/planner/keywords", json!({"keyword": "held shoes"})).await.status(), 402);
    let (_, html) = ops.get_text("/system/workspaces").await;
    assert!(html.contains("by an operator"), "the ops page says who holds it");

    assert_eq!(status("reinstate").await.status(), 204);
    assert_eq!(workspace(&app, tid).await.status, "active");
    assert_eq!(owner.api_post("/api/planner/keywords", json!({"keyword": "free shoes"})).await.status(), 201);
    // Suspended for non-payment (no hold) is lifted by a payment, as before.
    let mut conn = app.db().await;
    diesel::update(igny8::db::schema::tenants::table.find(tid))
        .set(igny8::db::schema::tenants::status.eq("suspended"))
        .execute(&mut conn)
        .await
        .unwrap();
    let paid2 = event("evt_h3", "invoice.paid", t0 + 10, invoice("in_h2", tid, "cus_hal", PRICE_STARTER, t0 + 2 * 86400));
    assert_eq!(deliver(&app, &paid2).await.0, 200);
    assert_eq!(workspace(&app, tid).await.status, "active");
    assert_eq!(ledger_sum(&app, tid).await, workspace(&app, tid).await.balance);
}
