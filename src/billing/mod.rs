//! Plans, the credit ledger, subscription state and Stripe: webhooks (`signature`, `webhook`) and the
//! Checkout / Customer Portal calls (`stripe`). All Stripe code lives here.

pub mod ledger;
pub mod operator;
pub mod plans;
pub mod signature;
pub mod stripe;
pub mod subscription;
pub mod webhook;
