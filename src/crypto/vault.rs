//! Secrets at rest (AI keys, WordPress application passwords): AES-256-GCM with a key derived from
//! IGNY8_SECRET_KEY. Stored as `v1:<key id>:<base64(nonce ‖ ciphertext)>`; the key id names the key that
//! sealed it, so a rotated key is detected instead of producing garbage.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::crypto::secrets::{derive_key, sha256_hex};

#[derive(Clone)]
pub struct Vault {
    cipher: Aes256Gcm,
    key_id: String,
}

impl Vault {
    pub fn new(secret: &str) -> Self {
        let key = derive_key(secret, "igny8 vault aes-256-gcm v1");
        let key_id = sha256_hex(STANDARD.encode(&key))[..8].to_string();
        Vault { cipher: Aes256Gcm::new_from_slice(&key).expect("32-byte key"), key_id }
    }

    pub fn seal(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("the OS random source is available");
        let ct = self.cipher.encrypt(&Nonce::from(nonce), plaintext.as_bytes()).expect("AES-GCM encryption cannot fail");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        format!("v1:{}:{}", self.key_id, STANDARD.encode(blob))
    }

    pub fn open(&self, sealed: &str) -> Result<String, String> {
        let mut parts = sealed.splitn(3, ':');
        let (Some("v1"), Some(kid), Some(data)) = (parts.next(), parts.next(), parts.next()) else {
            return Err("not a sealed secret".into());
        };
        if kid != self.key_id {
            return Err(format!(
                "sealed with key {kid}, but the current key is {}: IGNY8_SECRET_KEY changed; enter the secret again",
                self.key_id
            ));
        }
        let blob = STANDARD.decode(data).map_err(|_| "sealed secret is not base64".to_string())?;
        if blob.len() < 13 {
            return Err("sealed secret is too short".into());
        }
        let (nonce, ct) = blob.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().expect("12 bytes");
        let pt = self.cipher.decrypt(&Nonce::from(nonce), ct).map_err(|_| "sealed secret failed authentication".to_string())?;
        String::from_utf8(pt).map_err(|_| "sealed secret is not text".to_string())
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

/// `sk-…abcd`: enough to recognise a key, never enough to use it.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() <= 8 {
        return "••••".into();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let v = Vault::new("0123456789abcdef0123456789abcdef");
        let sealed = v.seal("sk-live-abcdef123456");
        assert!(!sealed.contains("abcdef123456"));
        assert_ne!(v.seal("sk-live-abcdef123456"), sealed, "fresh nonce each time");
        assert_eq!(v.open(&sealed).unwrap(), "sk-live-abcdef123456");
        let mut bad = sealed.clone();
        let last = bad.pop().unwrap();
        bad.push(if last == 'A' { 'B' } else { 'A' });
        assert!(v.open(&bad).is_err());
        let other = Vault::new("ffffffffffffffffffffffffffffffff");
        assert!(other.open(&sealed).unwrap_err().contains("IGNY8_SECRET_KEY changed"));
        assert_eq!(mask("sk-live-abcdef123456"), "sk-…3456");
    }
}
