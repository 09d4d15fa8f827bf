//! Sign-in throttling per IP and per email, counted in Redis with a fixed window. When Redis is down the
//! check lets the attempt through (and logs it): an outage must not lock everyone out. A Redis that hangs
//! costs at most its short timeout (`kv::RedisPool::bounded`), and then nothing while it is marked down.

use deadpool_redis::redis::AsyncCommands;

use crate::crypto::secrets::sha256_hex;
use crate::error::{AppError, AppResult};
use crate::kv;
use crate::state::AppState;

fn keys(state: &AppState, ip: Option<&str>, email: &str) -> (String, String) {
    let ns = &state.config.redis_namespace;
    let ip_key = kv::key(ns, &format!("login:ip:{}", ip.unwrap_or("unknown")), "failures");
    let email_key = kv::key(ns, &format!("login:email:{}", &sha256_hex(email)[..32]), "failures");
    (ip_key, email_key)
}

/// Refuses with 429 once either counter is at its limit.
pub async fn check(state: &AppState, ip: Option<&str>, email: &str) -> AppResult<()> {
    let (ip_key, email_key) = keys(state, ip, email);
    let counts = state.redis.bounded(async {
        let mut conn = state.redis.get().await.map_err(|e| e.to_string())?;
        let (a, b): (Option<u32>, Option<u32>) =
            deadpool_redis::redis::pipe().get(&ip_key).get(&email_key).query_async(&mut conn).await.map_err(|e| e.to_string())?;
        let ttl: i64 = conn.ttl(&email_key).await.map_err(|e| e.to_string())?;
        Ok::<_, String>((a.unwrap_or(0), b.unwrap_or(0), ttl))
    });
    match counts.await {
        Ok((ip_n, email_n, ttl)) => {
            let cfg = &state.config;
            if ip_n >= cfg.login_max_failures_ip || email_n >= cfg.login_max_failures_email {
                let wait = if ttl > 0 { ttl as u64 } else { cfg.login_window_secs };
                return Err(AppError::TooManyRequests {
                    message: format!("Too many failed sign-in attempts. Try again in {} minute(s).", wait.div_ceil(60)),
                    retry_after_secs: wait,
                });
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
    let (ip_key, email_key) = keys(state, ip, email);
    let window = state.config.login_window_secs as i64;
    let res = state.redis.bounded(async {
        let mut conn = state.redis.get().await.map_err(|e| e.to_string())?;
        deadpool_redis::redis::pipe()
            .incr(&ip_key, 1)
            .expire(&ip_key, window)
            .arg("NX")
            .incr(&email_key, 1)
            .expire(&email_key, window)
            .arg("NX")
            .query_async::<()>(&mut conn)
            .await
            .map_err(|e| e.to_string())
    });
    if let Err(e) = res.await {
        tracing::warn!(error = %e, "could not count a failed sign-in (Redis)");
    }
}

pub async fn clear_email(state: &AppState, email: &str) {
    let (_, email_key) = keys(state, None, email);
    let _ = state
        .redis
        .bounded(async {
            let mut conn = state.redis.get().await.map_err(|e| e.to_string())?;
            conn.del::<_, ()>(&email_key).await.map_err(|e| e.to_string())
        })
        .await;
}
