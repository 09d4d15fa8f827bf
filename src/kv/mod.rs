//! Redis: wake-ups, rate limits, locks and live progress only — never the sole copy of any work.
//! Keys carry a `{hash tag}` so they stay valid on Redis Cluster, and start with the configured namespace.

use std::time::Duration;

pub use deadpool_redis::redis;
use deadpool_redis::{Config as RedisConfig, Pool, Runtime};

pub type RedisPool = Pool;

pub fn pool(url: &str) -> anyhow::Result<RedisPool> {
    let mut cfg = RedisConfig::from_url(url);
    let mut pc = deadpool_redis::PoolConfig::new(32);
    pc.timeouts.wait = Some(Duration::from_secs(2));
    pc.timeouts.create = Some(Duration::from_secs(2));
    pc.timeouts.recycle = Some(Duration::from_secs(2));
    cfg.pool = Some(pc);
    Ok(cfg.create_pool(Some(Runtime::Tokio1))?)
}

/// `ns:{tag}:rest` — the tag decides the cluster slot.
pub fn key(namespace: &str, tag: &str, rest: &str) -> String {
    format!("{namespace}:{{{tag}}}:{rest}")
}

/// PING with a short deadline; used by /readyz.
pub async fn ping(pool: &RedisPool) -> Result<(), String> {
    let fut = async {
        let mut conn = pool.get().await.map_err(|e| e.to_string())?;
        redis::cmd("PING").query_async::<String>(&mut conn).await.map_err(|e| e.to_string())?;
        Ok::<_, String>(())
    };
    match tokio::time::timeout(Duration::from_secs(2), fut).await {
        Ok(r) => r,
        Err(_) => Err("timed out".into()),
    }
}

/// `SET key token NX PX ttl`: a short lock. `Ok(Some(token))` when taken, `Ok(None)` when someone holds it,
/// `Err` when Redis does not answer (callers decide whether to go on without it).
pub async fn try_lock(pool: &RedisPool, key: &str, ttl: Duration) -> Result<Option<String>, String> {
    let token = crate::auth::secrets::random_token(12);
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    let set: Option<String> = redis::cmd("SET")
        .arg(key)
        .arg(&token)
        .arg("NX")
        .arg("PX")
        .arg(ttl.as_millis() as u64)
        .query_async(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    Ok(set.map(|_| token))
}

/// Releases the lock only if it is still ours (it may have expired and been taken since).
pub async fn unlock(pool: &RedisPool, key: &str, token: &str) {
    const SCRIPT: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
    if let Ok(mut conn) = pool.get().await {
        let _: Result<i64, _> = redis::cmd("EVAL").arg(SCRIPT).arg(1).arg(key).arg(token).query_async(&mut conn).await;
    }
}
