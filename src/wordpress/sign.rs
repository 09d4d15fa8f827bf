//! Requests to the companion plugin's endpoints are signed: HMAC-SHA256 over "timestamp\nMETHOD\n/route"
//! with the site's shared secret, hex, in `X-IGNY8-Timestamp` and `X-IGNY8-Signature`. The plugin refuses
//! a signature older or newer than five minutes.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub fn headers(secret: &str, method: &str, route: &str, now_unix: i64) -> Vec<(&'static str, String)> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{now_unix}\n{method}\n{route}").as_bytes());
    let sig: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    vec![("X-IGNY8-Timestamp", now_unix.to_string()), ("X-IGNY8-Signature", sig)]
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_php_hash_hmac() {
        // php -r 'echo hash_hmac("sha256", "1700000000\nGET\n/igny8/v1/status", "s3cret");'
        let h = super::headers("s3cret", "GET", "/igny8/v1/status", 1_700_000_000);
        assert_eq!(h[1].1, "f506c89a10c25167099dd9e21c1a88b678124bdf9d7ad39b982604e868ad1f81");
    }
}
