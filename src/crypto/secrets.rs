//! Random tokens and their stored digests. Secrets we hand out (API tokens, invite links, session ids)
//! are stored only as SHA-256 digests.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// `n` random bytes as URL-safe base64.
pub fn random_token(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    URL_SAFE_NO_PAD.encode(buf)
}

pub fn sha256_hex(data: impl AsRef<[u8]>) -> String {
    let digest = Sha256::digest(data.as_ref());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A sub-key for one purpose, derived from the app secret, so one leaked use cannot forge another.
pub fn derive_key(secret: &str, purpose: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// HMAC-SHA256 of `data` under `key`, as lowercase hex (how webhook senders such as Stripe sign).
pub fn hmac_sha256_hex(key: &[u8], data: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A tenant-scoped secret: `{prefix}_{tenant_id}_{random}`. The tenant id lets the lookup stay inside
/// one tenant's rows (the digest index starts with tenant_id).
pub fn tenant_secret(prefix: &str, tenant_id: i64) -> String {
    format!("{prefix}_{tenant_id}_{}", random_token(32))
}

/// Splits a tenant-scoped secret; None when it is not one of ours.
pub fn parse_tenant_secret(prefix: &str, token: &str) -> Option<i64> {
    let rest = token.strip_prefix(prefix)?.strip_prefix('_')?;
    let (tenant, secret) = rest.split_once('_')?;
    if secret.len() < 32 {
        return None;
    }
    tenant.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_secret_round_trip() {
        let t = tenant_secret("igy8", 42);
        assert_eq!(parse_tenant_secret("igy8", &t), Some(42));
        assert_eq!(parse_tenant_secret("inv", &t), None);
        assert_eq!(parse_tenant_secret("igy8", "igy8_42_short"), None);
        assert_ne!(tenant_secret("igy8", 42), t);
    }

    #[test]
    fn digests_and_compare() {
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(constant_time_eq("same", "same"));
        assert!(!constant_time_eq("same", "sane"));
        assert_ne!(derive_key("k", "a"), derive_key("k", "b"));
    }
}
