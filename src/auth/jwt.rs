//! Session tokens: HS256 JWTs signed with a key derived from IGNY8_SECRET_KEY. The token names the user,
//! the server-side session row (so log out really ends it) and the active tenant.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::crypto::secrets::derive_key;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user id. (Not the registered `sub` claim, which JWT libraries expect to be a string.)
    pub uid: i64,
    pub sid: String,
    pub tid: i64,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct JwtKeys {
    enc: EncodingKey,
    dec: DecodingKey,
}

impl JwtKeys {
    pub fn new(secret: &str) -> Self {
        let key = derive_key(secret, "igny8 session jwt v1");
        JwtKeys { enc: EncodingKey::from_secret(&key), dec: DecodingKey::from_secret(&key) }
    }

    pub fn sign(&self, claims: &Claims) -> String {
        encode(&Header::new(Algorithm::HS256), claims, &self.enc).expect("HS256 signing cannot fail")
    }

    /// None for a bad signature, another algorithm, a malformed token or an expired one (no leeway).
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        v.required_spec_claims = ["exp"].iter().map(|s| s.to_string()).collect();
        match decode::<Claims>(token, &self.dec, &v) {
            Ok(d) => Some(d.claims),
            Err(e) => {
                tracing::debug!(error = %e, "session token refused");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp_offset: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims { uid: 7, sid: "s1".into(), tid: 3, iat: now, exp: now + exp_offset }
    }

    #[test]
    fn sign_and_verify() {
        let keys = JwtKeys::new("0123456789abcdef0123456789abcdef");
        let c = claims(3600);
        assert_eq!(keys.verify(&keys.sign(&c)), Some(c));
    }

    #[test]
    fn refuses_expired_foreign_and_tampered() {
        let keys = JwtKeys::new("0123456789abcdef0123456789abcdef");
        assert_eq!(keys.verify(&keys.sign(&claims(-5))), None);
        let other = JwtKeys::new("ffffffffffffffffffffffffffffffff");
        assert_eq!(keys.verify(&other.sign(&claims(3600))), None);
        let token = keys.sign(&claims(3600));
        let mut parts: Vec<String> = token.split('.').map(String::from).collect();
        let flipped = if parts[1].starts_with('A') { "B" } else { "A" };
        parts[1].replace_range(0..1, flipped);
        assert_eq!(keys.verify(&parts.join(".")), None);
        assert_eq!(keys.verify("not.a.jwt"), None);
    }
}
