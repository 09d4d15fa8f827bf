//! Redis: wake-ups, rate limits, locks and live progress only — never the sole copy of any work.
//! Keys carry a `{hash tag}` so they stay valid on Redis Cluster, and start with the configured namespace.
//!
//! A Redis that hangs (accepts connections, never answers) must not slow every page: taking a connection and
//! each call made through [`RedisPool::bounded`] give up after a short timeout, and a timeout marks Redis
//! down for a moment so the next requests skip it at once instead of waiting again. Callers already treat an
//! error as "no Redis" (sign-in throttle off, count uncached, no wake-up, no lock).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use deadpool_redis::redis;
use deadpool_redis::{Connection, Manager, Pool, PoolError, Runtime, Timeouts};

/// How long Redis is skipped after it did not answer in time.
const COOL_DOWN: Duration = Duration::from_secs(2);

pub struct RedisPool {
    pool: Pool,
    timeout: Duration,
    started: Instant,
    /// Milliseconds since `started` until which Redis is skipped (0 = not skipped).
    down_until_ms: AtomicU64,
}

pub fn pool(url: &str, timeout: Duration) -> anyhow::Result<RedisPool> {
    // Commands on a connection time out later than `bounded` does, so a bounded call always ends by our own
    // timeout (which marks Redis down); calls made outside `bounded` still end within twice the budget.
    let conn_cfg = redis::AsyncConnectionConfig::new().set_connection_timeout(Some(timeout)).set_response_timeout(Some(timeout * 2));
    let manager = Manager::new_with_config(url, conn_cfg)?;
    let timeouts = Timeouts { wait: Some(timeout), create: Some(timeout), recycle: Some(timeout) };
    let pool = Pool::builder(manager).max_size(32).timeouts(timeouts).runtime(Runtime::Tokio1).build()?;
    Ok(RedisPool { pool, timeout, started: Instant::now(), down_until_ms: AtomicU64::new(0) })
}

impl RedisPool {
    /// A connection within the timeout; refused at once while Redis is marked down.
    pub async fn get(&self) -> Result<Connection, PoolError> {
        if self.is_down() {
            return Err(PoolError::Timeout(deadpool_redis::TimeoutType::Wait));
        }
        // One deadline for the whole checkout (a recycle check and a new connection each have their own).
        let started = Instant::now();
        match tokio::time::timeout(self.timeout, self.pool.get()).await {
            Ok(Err(PoolError::Timeout(t))) => {
                self.mark_down();
                Err(PoolError::Timeout(t))
            }
            // The client's own connection timeout can end a hung handshake first, as a backend error: a failure
            // that took the whole budget is a Redis that does not answer (a refused connection fails at once).
            Ok(Err(e)) if started.elapsed() >= self.timeout => {
                self.mark_down();
                Err(e)
            }
            Ok(res) => res,
            Err(_) => {
                self.mark_down();
                Err(PoolError::Timeout(deadpool_redis::TimeoutType::Wait))
            }
        }
    }

    /// Runs `op` (taking a connection and sending its commands) within the timeout. A timeout marks Redis
    /// down for a moment; while it is down `op` is not started at all.
    pub async fn bounded<T, E: std::fmt::Display>(&self, op: impl Future<Output = Result<T, E>>) -> Result<T, String> {
        if self.is_down() {
            return Err("skipped: Redis did not answer in time a moment ago".into());
        }
        match tokio::time::timeout(self.timeout, op).await {
            Ok(res) => res.map_err(|e| e.to_string()),
            Err(_) => {
                self.mark_down();
                Err(format!("no answer within {} ms", self.timeout.as_millis()))
            }
        }
    }

    /// The pool's size, idle connections and waiters (for /metrics).
    pub fn status(&self) -> deadpool_redis::Status {
        self.pool.status()
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn is_down(&self) -> bool {
        self.now_ms() < self.down_until_ms.load(Ordering::Relaxed)
    }

    fn mark_down(&self) {
        let until = self.now_ms() + COOL_DOWN.as_millis() as u64;
        if self.down_until_ms.swap(until, Ordering::Relaxed) <= self.now_ms() {
            tracing::warn!(
                timeout_ms = self.timeout.as_millis() as u64,
                "Redis did not answer in time; skipping it for {} s",
                COOL_DOWN.as_secs()
            );
        }
    }
}

/// `ns:{tag}:rest` — the tag decides the cluster slot.
pub fn key(namespace: &str, tag: &str, rest: &str) -> String {
    format!("{namespace}:{{{tag}}}:{rest}")
}

/// A SCAN pattern for keys `ns:{tag}:…`: the namespace and tag are matched literally, `rest_glob` as a glob.
pub fn pattern(namespace: &str, tag: &str, rest_glob: &str) -> String {
    let lit = |s: &str| {
        s.chars().fold(String::new(), |mut out, c| {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                out.push('\\');
            }
            out.push(c);
            out
        })
    };
    format!("{}:{{{}}}:{rest_glob}", lit(namespace), lit(tag))
}

/// Deletes every key matching `pattern` (SCAN + UNLINK, each call within the short timeout); returns how many.
pub async fn delete_matching(pool: &RedisPool, pattern: &str) -> Result<usize, String> {
    let mut conn = pool.bounded(pool.get()).await?;
    let (mut cursor, mut n) = (0u64, 0usize);
    loop {
        let (next, keys): (u64, Vec<String>) =
            pool.bounded(redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(500).query_async(&mut conn)).await?;
        if !keys.is_empty() {
            n += pool.bounded(redis::cmd("UNLINK").arg(&keys).query_async::<usize>(&mut conn)).await?;
        }
        if next == 0 {
            return Ok(n);
        }
        cursor = next;
    }
}

/// PING for /readyz: always tried (a probe must see Redis come back), within the same timeout.
pub async fn ping(pool: &RedisPool) -> Result<(), String> {
    let fut = async {
        let mut conn = pool.pool.get().await.map_err(|e| e.to_string())?;
        redis::cmd("PING").query_async::<String>(&mut conn).await.map_err(|e| e.to_string())?;
        Ok::<_, String>(())
    };
    match tokio::time::timeout(pool.timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err("timed out".into()),
    }
}

/// `SET key token NX PX ttl`: a short lock. `Ok(Some(token))` when taken, `Ok(None)` when someone holds it,
/// `Err` when Redis does not answer (callers decide whether to go on without it).
pub async fn try_lock(pool: &RedisPool, key: &str, ttl: Duration) -> Result<Option<String>, String> {
    let token = crate::crypto::secrets::random_token(12);
    let set: Option<String> = pool
        .bounded(async {
            let mut conn = pool.get().await.map_err(|e| e.to_string())?;
            redis::cmd("SET")
                .arg(key)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(ttl.as_millis() as u64)
                .query_async::<Option<String>>(&mut conn)
                .await
                .map_err(|e| e.to_string())
        })
        .await?;
    Ok(set.map(|_| token))
}

/// Releases the lock only if it is still ours (it may have expired and been taken since).
pub async fn unlock(pool: &RedisPool, key: &str, token: &str) {
    const SCRIPT: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
    let _ = pool
        .bounded(async {
            let mut conn = pool.get().await.map_err(|e| e.to_string())?;
            redis::cmd("EVAL").arg(SCRIPT).arg(1).arg(key).arg(token).query_async::<i64>(&mut conn).await.map_err(|e| e.to_string())
        })
        .await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn patterns_match_the_tag_literally() {
        assert_eq!(super::pattern("igny8", "12", "*"), "igny8:{12}:*");
        assert_eq!(super::pattern("ns", "a*b?[c]", "count:*"), "ns:{a\\*b\\?\\[c\\]}:count:*");
    }
}
