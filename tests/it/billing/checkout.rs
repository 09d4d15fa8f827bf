use serde_json::{Value, json};

use super::fake_stripe::{FakeStripe, SECRET_KEY};
use super::support::*;
use crate::harness::TestApp;

async fn app_and_stripe() -> (TestApp, FakeStripe) {
    let stripe = FakeStripe::start();
    let app = app_with(&[
        ("IGNY8_STRIPE_API_BASE", stripe.base.clone()),
        ("IGNY8_STRIPE_SECRET_KEY", SECRET_KEY.to_string()),
        ("IGNY8_STRIPE_PACK_PRICE", "price_pack_test".to_string()),
        ("IGNY8_CREDIT_PACK_CREDITS", "150".to_string()),
    ])
    .await;
    (app, stripe)
}

#[tokio::test(flavor = "multi_thread")]
async fn checkout_portal_and_packs_send_stripes_request_shapes_and_follow_its_answers() {
    let (app, stripe) = app_and_stripe().await;
    let (b, tid) = app.signup("Cat", "cat@example.com", "Cat Co").await;

    // Subscribe: Checkout in subscription mode, the workspace carried in every place an event may bring back.
    let r = b.api_post("/api/billing/checkout", json!({"plan": "pro"})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["url"], "https://checkout.stripe.com/c/pay/cs_test_a1b2c3");
    let s = stripe.seen().pop().unwrap();
    assert_eq!(s.path, "/v1/checkout/sessions");
    assert_eq!(s.get("mode"), Some("subscription"));
    assert_eq!(s.get("line_items[0][price]"), Some(PRICE_PRO));
    assert_eq!(s.get("line_items[0][quantity]"), Some("1"));
    assert_eq!(s.get("client_reference_id"), Some(tid.to_string().as_str()));
    assert_eq!(s.get("metadata[plan]"), Some("pro"));
    assert_eq!(s.get("subscription_data[metadata][tenant_id]"), Some(tid.to_string().as_str()));
    assert_eq!(s.get("customer_email"), Some("cat@example.com"));
    assert!(s.get("success_url").unwrap().ends_with("/billing?checkout=done"));

    // The page button sends the browser to Stripe.
    let r = b.post_form("/billing/checkout", &[("plan", "agency")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "https://checkout.stripe.com/c/pay/cs_test_a1b2c3");
    // A plan that is not sold (free, the custom plan, nonsense) is a field error; Stripe is not asked.
    let calls = stripe.seen().len();
    for plan in ["free", "enterprise", "gold"] {
        let r = b.api_post("/api/billing/checkout", json!({"plan": plan})).await;
        assert_eq!(r.status(), 422, "{plan}");
    }
    assert_eq!(stripe.seen().len(), calls);

    // No customer yet: the portal says what to do first.
    assert_eq!(b.api_post("/api/billing/portal", json!({})).await.status(), 409);

    // Checkout completes (webhook): the customer and subscription are known; the portal opens for them,
    // and a plan change goes through the portal's subscription_update flow.
    let done = json!({"id": "cs_test_a1b2c3", "object": "checkout.session", "mode": "subscription", "payment_status": "paid", "customer": "cus_cat",
                      "subscription": "sub_cat", "client_reference_id": tid.to_string(), "metadata": {"tenant_id": tid.to_string(), "plan": "pro"}});
    assert_eq!(deliver(&app, &event("evt_cat", "checkout.session.completed", now(), done)).await.0, 200);
    let r = b.api_post("/api/billing/portal", json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["url"], "https://billing.stripe.com/p/session/test_1");
    let s = stripe.seen().pop().unwrap();
    assert_eq!((s.path.as_str(), s.get("customer")), ("/v1/billing_portal/sessions", Some("cus_cat")));
    assert!(s.get("return_url").unwrap().ends_with("/billing"));
    assert_eq!(b.api_post("/api/billing/checkout", json!({"plan": "agency"})).await.status(), 200);
    let s = stripe.seen().pop().unwrap();
    assert_eq!(s.path, "/v1/billing_portal/sessions");
    assert_eq!(s.get("flow_data[type]"), Some("subscription_update"));
    assert_eq!(s.get("flow_data[subscription_update][subscription]"), Some("sub_cat"));

    // A credit pack: Checkout in payment mode, the pack's credits in the metadata the webhook reads.
    assert_eq!(b.api_post("/api/billing/packs", json!({})).await.status(), 200);
    let s = stripe.seen().pop().unwrap();
    assert_eq!(s.get("mode"), Some("payment"));
    assert_eq!(s.get("line_items[0][price]"), Some("price_pack_test"));
    assert_eq!(s.get("metadata[credits]"), Some("150"));
    assert_eq!(s.get("customer"), Some("cus_cat"));
    assert!(stripe.seen().iter().all(|s| s.content_type == "application/x-www-form-urlencoded"));

    // Stripe refuses: a clear 503 carrying Stripe's message, nothing changed.
    let before = workspace(&app, tid).await;
    stripe.fail(true);
    let r = b.api_post("/api/billing/packs", json!({})).await;
    assert_eq!(r.status(), 503);
    let v: Value = r.json().await.unwrap();
    assert!(v["error"]["message"].as_str().unwrap().contains("No such price"), "{v}");
    let after = workspace(&app, tid).await;
    assert_eq!((after.plan, after.balance), (before.plan, before.balance));
}

#[tokio::test(flavor = "multi_thread")]
async fn only_owners_pay_and_a_downgrade_over_the_limits_says_what_to_remove() {
    let (app, stripe) = app_and_stripe().await;
    let t = app.team("pay").await; // agency, four members
    for b in [&t.admin, &t.editor, &t.viewer] {
        assert_eq!(b.api_post("/api/billing/checkout", json!({"plan": "pro"})).await.status(), 403);
        assert_eq!(b.api_post("/api/billing/packs", json!({})).await.status(), 403);
    }
    let r = t.owner.api_post("/api/billing/checkout", json!({"plan": "starter"})).await;
    assert_eq!(r.status(), 409);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "plan_limit");
    assert!(v["error"]["message"].as_str().unwrap().contains("remove 1 member (the plan allows 3, the workspace has 4)"), "{v}");
    assert!(stripe.seen().is_empty(), "Stripe is never asked for what is refused here");
    assert_eq!(t.owner.api_post("/api/billing/checkout", json!({"plan": "pro"})).await.status(), 200);
}
