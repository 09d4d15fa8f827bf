//! Billing: Stripe webhooks (signed, stored once, in any order), suspension, checkout and portal against a
//! fake Stripe, the billing page and the operator tools.

mod checkout;
pub mod fake_stripe;
mod operator;
mod payment_mail;
pub mod support;
mod suspension;
mod usage;
mod webhooks;
