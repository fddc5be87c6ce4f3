//! Sessions and login-attempt counters in Redis: shared by every replica and
//! expired by Redis itself.

use crate::now_millis;
use async_trait::async_trait;
use domain::SecretText;
use domain::time::Timestamp;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use services::StoreError;
use services::jobs::LeaseStore;
use services::ports::{AttemptCounter, PendingLogins, SessionRecord, SessionStore};

use crate::queue::RedisQueue;

#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
    queue: RedisQueue,
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(format!("redis: {e}"))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredSession {
    user_id: i64,
    created_at: i64,
    expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl RedisStore {
    /// `url` like `redis://127.0.0.1:6379/0`; `prefix` separates installations
    /// (and test runs) sharing one Redis.
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisStore, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client).await?;
        let queue = RedisQueue::connect(url, prefix).await?;
        Ok(RedisStore { conn, prefix: prefix.to_string(), queue })
    }

    pub fn queue(&self) -> RedisQueue {
        self.queue.clone()
    }

    pub async fn ping(&self) -> Result<(), redis::RedisError> {
        let mut conn = self.conn.clone();
        redis::cmd("PING").query_async::<String>(&mut conn).await.map(|_| ())
    }

    fn session_key(&self, token_hash: &str) -> String {
        format!("{}:session:{token_hash}", self.prefix)
    }

    fn user_sessions_key(&self, user_id: i64) -> String {
        format!("{}:user-sessions:{user_id}", self.prefix)
    }

    fn pending_login_key(&self, id: &str) -> String {
        format!("{}:pending-login:{id}", self.prefix)
    }

    fn lease_key(&self, name: &str) -> String {
        format!("{}:lease:{name}", self.prefix)
    }

    fn attempts_key(&self, key: &str) -> String {
        format!("{}:attempts:{key}", self.prefix)
    }
}

fn ttl_millis(expires_at: Timestamp, now_millis: i64) -> u64 {
    u64::try_from((expires_at.millis() - now_millis).max(1)).unwrap_or(1)
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn create(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let value = serde_json::to_string(&StoredSession {
            user_id: session.user_id,
            created_at: session.created_at.millis(),
            expires_at: session.expires_at.millis(),
            id_token: session.id_token.as_ref().map(|t| t.expose().to_string()),
        })
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let ttl = ttl_millis(session.expires_at, now_millis());
        let index = self.user_sessions_key(session.user_id);
        redis::pipe()
            .atomic()
            .pset_ex(self.session_key(&session.token_hash), value, ttl)
            .sadd(&index, &session.token_hash)
            .pexpire(&index, i64::try_from(ttl).unwrap_or(i64::MAX))
            .query_async::<()>(&mut conn)
            .await
            .map_err(unavailable)
    }

    async fn get(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let mut conn = self.conn.clone();
        let raw: Option<String> = conn.get(self.session_key(token_hash)).await.map_err(unavailable)?;
        raw.map(|raw| {
            let s: StoredSession = serde_json::from_str(&raw).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok(SessionRecord {
                token_hash: token_hash.to_string(),
                user_id: s.user_id,
                created_at: Timestamp(s.created_at),
                expires_at: Timestamp(s.expires_at),
                id_token: s.id_token.map(SecretText),
            })
        })
        .transpose()
    }

    async fn extend(&self, token_hash: &str, expires_at: Timestamp) -> Result<(), StoreError> {
        let Some(mut session) = self.get(token_hash).await? else {
            return Ok(());
        };
        session.expires_at = expires_at;
        self.create(&session).await
    }

    async fn delete(&self, token_hash: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        conn.del::<_, ()>(self.session_key(token_hash)).await.map_err(unavailable)
    }

    async fn delete_for_user(&self, user_id: i64, keep: Option<&str>) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let index = self.user_sessions_key(user_id);
        let hashes: Vec<String> = conn.smembers(&index).await.map_err(unavailable)?;
        for hash in hashes.iter().filter(|h| Some(h.as_str()) != keep) {
            redis::pipe()
                .del(self.session_key(hash))
                .srem(&index, hash)
                .query_async::<()>(&mut conn)
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    /// Redis expires sessions by itself; nothing to purge.
    async fn purge_expired(&self, _now: Timestamp) -> Result<u64, StoreError> {
        Ok(0)
    }
}

#[async_trait]
impl AttemptCounter for RedisStore {
    async fn add(&self, key: &str, window_secs: u64, _now: Timestamp) -> Result<u32, StoreError> {
        let mut conn = self.conn.clone();
        let key = self.attempts_key(key);
        // INCR then EXPIRE NX: the window starts with the first failure and is
        // not pushed back by later ones.
        let (count,): (u32,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(window_secs)
            .arg("NX")
            .ignore()
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(count)
    }

    async fn count(&self, key: &str, _now: Timestamp) -> Result<u32, StoreError> {
        let mut conn = self.conn.clone();
        let n: Option<u32> = conn.get(self.attempts_key(key)).await.map_err(unavailable)?;
        Ok(n.unwrap_or(0))
    }

    async fn retry_after(&self, key: &str, _now: Timestamp) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        let ttl: i64 = conn.ttl(self.attempts_key(key)).await.map_err(unavailable)?;
        Ok(u64::try_from(ttl).unwrap_or(0))
    }

    async fn reset(&self, key: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        conn.del::<_, ()>(self.attempts_key(key)).await.map_err(unavailable)
    }
}

/// Renews our lease, takes a free one (bumping the fencing token), or
/// answers -1 when someone else holds it. KEYS: lease, token counter.
const ACQUIRE: &str = r"
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('GET', KEYS[2]) or '0')
end
if not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return redis.call('INCR', KEYS[2])
end
return -1
";

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

#[async_trait]
impl LeaseStore for RedisStore {
    async fn acquire(&self, name: &str, holder: &str, ttl: std::time::Duration) -> Result<Option<u64>, StoreError> {
        let mut conn = self.conn.clone();
        let key = self.lease_key(name);
        let token: i64 = redis::Script::new(ACQUIRE)
            .key(&key)
            .key(format!("{key}:token"))
            .arg(holder)
            .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(u64::try_from(token).ok())
    }

    async fn release(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        redis::Script::new(RELEASE)
            .key(self.lease_key(name))
            .arg(holder)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    async fn holder(&self, name: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn.clone();
        // The key expires with the lease: present means held.
        redis::cmd("GET").arg(self.lease_key(name)).query_async(&mut conn).await.map_err(unavailable)
    }
}

/// Expired by Redis itself; `GETDEL` makes a take single-use across replicas.
#[async_trait]
impl PendingLogins for RedisStore {
    async fn put(&self, id: &str, value: &str, expires_at: Timestamp) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let ttl = ttl_millis(expires_at, now_millis());
        conn.pset_ex::<_, _, ()>(self.pending_login_key(id), value, ttl).await.map_err(unavailable)
    }

    async fn take(&self, id: &str, _now: Timestamp) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn.clone();
        conn.get_del(self.pending_login_key(id)).await.map_err(unavailable)
    }

    async fn purge_expired(&self, _now: Timestamp) -> Result<u64, StoreError> {
        Ok(0)
    }
}
