//! Plans, the credit ledger, subscription state and Stripe: webhooks (`signature`, `webhook`) and the
//! Checkout / Customer Portal calls (`stripe`), and the payment-failed mail (`notify`). All Stripe code lives here.

pub mod ledger;
pub mod ledger_list;
pub mod notify;
pub mod operator;
pub mod plans;
pub mod signature;
pub mod stripe;
pub mod subscription;
pub mod webhook;

/// What an action costs the workspace: credits on a real AI provider; nothing on the dev provider, whose free
/// "sample" work still leaves a ledger entry of 0 so the history shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Price {
    pub credits: i64,
    pub sample: bool,
}

impl Price {
    pub fn credits(credits: i64) -> Price {
        Price { credits, sample: false }
    }
    pub fn sample() -> Price {
        Price { credits: 0, sample: true }
    }
    /// The same price for `n` of the same thing.
    pub fn times(self, n: i64) -> Price {
        Price { credits: self.credits * n, ..self }
    }
}
