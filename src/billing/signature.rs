//! Stripe's webhook signature: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=…]`, where v1 is
//! HMAC-SHA256 of `"{t}.{raw body}"` under the endpoint's signing secret. A timestamp further than the
//! tolerance from now is refused, so a captured delivery cannot be replayed later.

use crate::crypto::secrets::{constant_time_eq, hmac_sha256_hex};

pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    MissingHeader,
    Malformed,
    Stale,
    Mismatch,
}

impl Refused {
    pub fn message(&self) -> &'static str {
        match self {
            Refused::MissingHeader => "Missing Stripe-Signature header",
            Refused::Malformed => "Unreadable Stripe-Signature header",
            Refused::Stale => "Signature timestamp outside the tolerance",
            Refused::Mismatch => "Signature does not match",
        }
    }
}

/// Checks `header` against `body` at `now` (unix seconds).
pub fn verify(header: Option<&str>, body: &[u8], secret: &str, now: i64) -> Result<(), Refused> {
    let header = header.ok_or(Refused::MissingHeader)?;
    let mut t: Option<i64> = None;
    let mut candidates = vec![];
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = Some(v.parse().map_err(|_| Refused::Malformed)?),
            Some(("v1", v)) => candidates.push(v),
            _ => {}
        }
    }
    let t = t.ok_or(Refused::Malformed)?;
    if candidates.is_empty() {
        return Err(Refused::Malformed);
    }
    // abs_diff: a timestamp near i64::MIN or MAX must be refused as stale, not overflow.
    if now.abs_diff(t) > TOLERANCE_SECS.unsigned_abs() {
        return Err(Refused::Stale);
    }
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    let expected = hmac_sha256_hex(secret.as_bytes(), &signed);
    // Every candidate is compared (Stripe sends several while a secret is being rolled).
    let matched = candidates.iter().fold(false, |ok, c| constant_time_eq(c, &expected) | ok);
    if matched { Ok(()) } else { Err(Refused::Mismatch) }
}

/// The header Stripe would send for `body` at `t` (for the fake Stripe in tests and local trials).
pub fn header_for(body: &[u8], secret: &str, t: i64) -> String {
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    format!("t={t},v1={}", hmac_sha256_hex(secret.as_bytes(), &signed))
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";

    #[test]
    fn accepts_its_own_signature_and_refuses_the_rest() {
        let body = br#"{"id":"evt_1"}"#;
        let h = header_for(body, SECRET, 1_000_000);
        assert_eq!(verify(Some(&h), body, SECRET, 1_000_100), Ok(()));
        assert_eq!(verify(Some(&h), body, SECRET, 1_000_301), Err(Refused::Stale));
        assert_eq!(verify(Some(&h), br#"{"id":"evt_2"}"#, SECRET, 1_000_000), Err(Refused::Mismatch));
        assert_eq!(verify(Some(&h), body, "whsec_other", 1_000_000), Err(Refused::Mismatch));
        assert_eq!(verify(None, body, SECRET, 1_000_000), Err(Refused::MissingHeader));
        assert_eq!(verify(Some("v1=abc"), body, SECRET, 1_000_000), Err(Refused::Malformed));
        assert_eq!(verify(Some("t=x,v1=abc"), body, SECRET, 1_000_000), Err(Refused::Malformed));
        // A second v1 (secret roll-over) is enough when one matches.
        let two = format!("{h},v1=00ff");
        assert_eq!(verify(Some(&two), body, SECRET, 1_000_000), Ok(()));
    }
}
