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
