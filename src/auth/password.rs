//! argon2id password hashing. Hashing is CPU-bound, so it runs on the blocking pool.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};

use crate::error::{AppError, AppResult};

pub use super::password_rules::{MAX_LEN, MIN_LEN, check_new};

pub async fn hash(password: &str) -> AppResult<String> {
    let pw = password.to_owned();
    tokio::task::spawn_blocking(move || Argon2::default().hash_password(pw.as_bytes()).map(|h| h.to_string()).map_err(AppError::internal))
        .await
        .map_err(AppError::internal)?
}

/// Constant work whether or not the stored hash exists, so timing does not reveal known emails.
pub async fn verify(password: &str, stored: Option<String>) -> bool {
    let pw = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
        match PasswordHash::new(&stored) {
            Ok(parsed) => Argon2::default().verify_password(pw.as_bytes(), &parsed).is_ok() && stored != DUMMY_HASH,
            Err(_) => false,
        }
    })
    .await
    .unwrap_or(false)
}

// A valid argon2id hash of a random string; verifying against it costs the same as a real check.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$J3qkCUN1wVL8GpPKo8vYsvBgpRwqLh5cwgqDbvXtAuU";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let h = hash("correct horse battery").await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", Some(h.clone())).await);
        assert!(!verify("wrong horse battery", Some(h)).await);
        assert!(!verify("anything at all", None).await);
    }
}
