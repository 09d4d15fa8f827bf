//! What a new password must be: 10 to 128 characters, not one character repeated, not on the embedded list
//! of the most common passwords (compared case-insensitively).

use std::collections::HashSet;
use std::sync::LazyLock;

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 128;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common_passwords.txt").lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
});

/// Checks a new password; the message names the rule it breaks.
pub fn check_new(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(format!("Use at least {MIN_LEN} characters"));
    }
    if n > MAX_LEN {
        return Err(format!("Use at most {MAX_LEN} characters"));
    }
    let mut chars = password.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return Err("Use more than one repeated character".into());
    }
    if COMMON.contains(password.trim().to_lowercase().as_str()) {
        return Err("This password is one of the most common ones; choose another".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(check_new("short").is_err());
        assert!(check_new(&"x".repeat(129)).is_err());
        assert!(check_new("long enough pw").is_ok());
        assert!(check_new("password12").unwrap_err().contains("common"));
        assert!(check_new("PassWord12").unwrap_err().contains("common"));
        assert!(check_new("          ").unwrap_err().contains("repeated"));
        assert!(check_new("aaaaaaaaaaaa").unwrap_err().contains("repeated"));
        assert!(COMMON.len() > 50 && COMMON.iter().all(|p| p.chars().count() >= MIN_LEN));
    }
}
