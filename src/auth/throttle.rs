//! Sign-in throttling, counted in Redis. Two counters:
//! - per IP, a fixed window across all emails (stops one address spraying guesses at many accounts);
//! - per (IP, account): after `login_max_failures_email` free failures each further failure makes that pair
//!   wait longer (15 s, 30 s, 1 min … at most 15 min). A stranger's guesses from elsewhere never lock the
//!   owner out from their own network, and a success clears the pair.
//!
//! When Redis is down the check lets the attempt through (and logs it): an outage must not lock everyone
//! out. A Redis that hangs costs at most its short timeout (`kv::RedisPool::bounded`).

use deadpool_redis::redis::AsyncCommands;

use crate::crypto::secrets::sha256_hex;
use crate::error::{AppError, AppResult};
use crate::kv;
use crate::state::AppState;

/// How long a (IP, account) pair remembers its failures after the last one.
const PAIR_MEMORY_SECS: i64 = 24 * 3600;
const FIRST_DELAY_SECS: u64 = 15;
const MAX_DELAY_SECS: u64 = 15 * 60;

struct Keys {
    ip: String,
    pair: String,
    pair_wait: String,
}

fn keys(state: &AppState, ip: Option<&str>, email: &str) -> Keys {
    let ns = &state.config.redis_namespace;
    let ip = ip.unwrap_or("unknown");
    let pair = format!("login:pair:{}", &sha256_hex(format!("{ip}\n{email}"))[..32]);
    Keys {
        ip: kv::key(ns, &format!("login:ip:{ip}"), "failures"),
        pair_wait: kv::key(ns, &pair, "wait"),
        pair: kv::key(ns, &pair, "failures"),
    }
}

/// The wait after the `n`-th failure of a pair, or none while failures are still free.
pub fn delay_after(n: u32, free: u32) -> Option<u64> {
    if n < free {
        return None;
    }
    let steps = (n - free).min(16);
    Some((FIRST_DELAY_SECS << steps).min(MAX_DELAY_SECS))
}

fn too_many(wait: u64) -> AppError {
    let when = if wait < 60 { format!("{wait} seconds") } else { format!("{} minute(s)", wait.div_ceil(60)) };
    AppError::TooManyRequests { message: format!("Too many failed sign-in attempts. Try again in {when}."), retry_after_secs: wait }
}

/// Refuses with 429 while the IP is over its window's limit or the (IP, account) pair is waiting.
pub async fn check(state: &AppState, ip: Option<&str>, email: &str) -> AppResult<()> {
    let k = keys(state, ip, email);
    let counts = state.redis.bounded(async {
        let mut conn = state.redis.get().await.map_err(|e| e.to_string())?;
        let ip_n: Option<u32> = conn.get(&k.ip).await.map_err(|e| e.to_string())?;
        let ip_ttl: i64 = conn.ttl(&k.ip).await.map_err(|e| e.to_string())?;
        let wait_ttl: i64 = conn.ttl(&k.pair_wait).await.map_err(|e| e.to_string())?;
        Ok::<_, String>((ip_n.unwrap_or(0), ip_ttl, wait_ttl))
    });
    match counts.await {
        Ok((ip_n, ip_ttl, wait_ttl)) => {
            let cfg = &state.config;
            if ip_n >= cfg.login_max_failures_ip {
                return Err(too_many(if ip_ttl > 0 { ip_ttl as u64 } else { cfg.login_window_secs }));
            }
            if wait_ttl > 0 {
                return Err(too_many(wait_ttl as u64));
            }
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = %e, "login throttle unavailable (Redis); allowing the attempt");
            Ok(())
        }
    }
}

pub async fn record_failure(state: &AppState, ip: Option<&str>, email: &str) {
    let k = keys(state, ip, email);
    let window = state.config.login_window_secs as i64;
    let free = state.config.login_max_failures_email;
    let res = state.redis.bounded(async {
        let mut conn = state.redis.get().await.map_err(|e| e.to_string())?;
        let (_, _, n, _): ((), (), u32, ()) = deadpool_redis::redis::pipe()
            .incr(&k.ip, 1)
            .expire(&k.ip, window)
            .arg("NX")
            .incr(&k.pair, 1)
            .expire(&k.pair, PAIR_MEMORY_SECS)
            .query_async(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(wait) = delay_after(n, free) {
            conn.set_ex::<_, _, ()>(&k.pair_wait, n, wait).await.map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(())
    });
    if let Err(e) = res.await {
        tracing::warn!(error = %e, "could not count a failed sign-in (Redis)");
    }
}

/// A successful sign-in forgets the pair's failures.
pub async fn clear_pair(state: &AppState, ip: Option<&str>, email: &str) {
    let k = keys(state, ip, email);
    let _ = state
        .redis
        .bounded(async {
            let mut conn = state.redis.get().await.map_err(|e| e.to_string())?;
            conn.del::<_, ()>(&[&k.pair, &k.pair_wait]).await.map_err(|e| e.to_string())
        })
        .await;
}

/// Counts one use of `what` by `who` in a fixed window and refuses with 429 (and `message`) over `limit`.
/// For actions that cost us something whatever their outcome: sign-ups, reset and verification mails.
pub async fn hit(state: &AppState, what: &str, who: &str, limit: u32, window_secs: u64, message: &str) -> AppResult<()> {
    let key = kv::key(&state.config.redis_namespace, &format!("limit:{what}:{}", &sha256_hex(who)[..32]), "count");
    let res = state.redis.bounded(async {
        let mut conn = state.redis.get().await.map_err(|e| e.to_string())?;
        let (n, _, ttl): (u32, (), i64) = deadpool_redis::redis::pipe()
            .incr(&key, 1)
            .expire(&key, window_secs as i64)
            .arg("NX")
            .ttl(&key)
            .query_async(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((n, ttl))
    });
    match res.await {
        Ok((n, ttl)) if n > limit => {
            let wait = if ttl > 0 { ttl as u64 } else { window_secs };
            Err(AppError::TooManyRequests {
                message: format!("{message} Try again in {} minute(s).", wait.div_ceil(60)),
                retry_after_secs: wait,
            })
        }
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, what, "rate limit unavailable (Redis); allowing");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::delay_after;

    #[test]
    fn delays_grow_and_are_capped() {
        assert_eq!(delay_after(4, 5), None);
        assert_eq!(delay_after(5, 5), Some(15));
        assert_eq!(delay_after(6, 5), Some(30));
        assert_eq!(delay_after(7, 5), Some(60));
        assert_eq!(delay_after(40, 5), Some(900));
    }
}
