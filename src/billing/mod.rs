//! Plans and the credit ledger. Stripe checkout and webhooks come with the billing issue.

pub mod ledger;
pub mod plans;
