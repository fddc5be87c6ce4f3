//! The Redis queue: one stream per queue with a consumer group. A worker
//! reads with its own consumer name; what it reads stays pending until it
//! acknowledges; deliveries pending longer than the visibility timeout (the
//! worker died) are claimed by the next worker that asks. Delayed tasks
//! (retries) wait in a sorted set and are moved to the stream when due, by a
//! script, so two workers never move the same one. With Redis persistence
//! (appendonly) queued tasks survive a Redis restart.

use std::time::Duration;

use async_trait::async_trait;
use domain::task::Queue;
use domain::time::Timestamp;
use redis::aio::ConnectionManager;
use redis::{Script, Value};
use services::StoreError;
use services::jobs::{Delivery, JobQueue};

use crate::now_millis;

const GROUP: &str = "workers";

/// Moves due members of the delayed set (KEYS[1]) to the stream (KEYS[2]).
const PROMOTE: &str = r"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('XADD', KEYS[2], '*', 'task', id)
end
return #due
";

#[derive(Clone)]
pub struct RedisQueue {
    /// Pushes, acknowledgements, claims.
    conn: ConnectionManager,
    /// Blocking reads only: a blocked read would hold up every other command
    /// sharing its connection.
    reader: ConnectionManager,
    prefix: String,
    promote: Script,
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(format!("redis queue: {e}"))
}

fn stream_key(prefix: &str, queue: Queue) -> String {
    format!("{prefix}:queue:{}", queue.key())
}

fn delayed_key(prefix: &str, queue: Queue) -> String {
    format!("{prefix}:delayed:{}", queue.key())
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

/// The first `[id, [field, value, ...]]` entry of a stream reply list.
fn first_entry(entries: &Value) -> Option<(String, i64)> {
    let Value::Array(entries) = entries else { return None };
    let Value::Array(entry) = entries.first()? else { return None };
    let id = text(entry.first()?)?;
    let Value::Array(fields) = entry.get(1)? else { return None };
    let mut pairs = fields.chunks(2);
    let task = pairs.find(|p| p.first().and_then(text).as_deref() == Some("task"))?;
    let task_id = text(task.get(1)?)?.parse().ok()?;
    Some((id, task_id))
}

impl RedisQueue {
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisQueue, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client.clone()).await?;
        let reader = ConnectionManager::new(client).await?;
        let queue = RedisQueue { conn, reader, prefix: prefix.to_string(), promote: Script::new(PROMOTE) };
        for q in Queue::ALL {
            queue.ensure_group(q).await?;
        }
        Ok(queue)
    }

    async fn ensure_group(&self, queue: Queue) -> Result<(), redis::RedisError> {
        let mut conn = self.conn.clone();
        let created: Result<(), redis::RedisError> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(stream_key(&self.prefix, queue))
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        match created {
            Err(e) if e.to_string().contains("BUSYGROUP") => Ok(()),
            other => other,
        }
    }

    async fn promote_due(&self, queues: &[Queue]) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        for queue in queues {
            self.promote
                .key(delayed_key(&self.prefix, *queue))
                .key(stream_key(&self.prefix, *queue))
                .arg(now_millis())
                .invoke_async::<i64>(&mut conn)
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    /// A delivery a dead consumer left pending for longer than `visibility`.
    async fn reclaim(
        &self,
        consumer: &str,
        queues: &[Queue],
        visibility: Duration,
    ) -> Result<Option<Delivery>, StoreError> {
        let mut conn = self.conn.clone();
        for queue in queues {
            let reply: Value = redis::cmd("XAUTOCLAIM")
                .arg(stream_key(&self.prefix, *queue))
                .arg(GROUP)
                .arg(consumer)
                .arg(u64::try_from(visibility.as_millis()).unwrap_or(u64::MAX))
                .arg("0-0")
                .arg("COUNT")
                .arg(1)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            if let Value::Array(parts) = &reply
                && let Some((receipt, task_id)) = parts.get(1).and_then(first_entry)
            {
                tracing::info!(
                    task = task_id,
                    queue = queue.key(),
                    "reclaimed a delivery from a worker that went away"
                );
                return Ok(Some(Delivery { queue: *queue, task_id, receipt }));
            }
        }
        Ok(None)
    }
}

#[async_trait]
impl JobQueue for RedisQueue {
    async fn push(&self, queue: Queue, task_id: i64, due: Option<Timestamp>) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        match due {
            Some(due) if due.millis() > now_millis() => redis::cmd("ZADD")
                .arg(delayed_key(&self.prefix, queue))
                .arg(due.millis())
                .arg(task_id)
                .query_async::<()>(&mut conn)
                .await
                .map_err(unavailable),
            _ => redis::cmd("XADD")
                .arg(stream_key(&self.prefix, queue))
                .arg("*")
                .arg("task")
                .arg(task_id)
                .query_async::<()>(&mut conn)
                .await
                .map_err(unavailable),
        }
    }

    async fn pull(
        &self,
        consumer: &str,
        queues: &[Queue],
        wait: Duration,
        visibility: Duration,
    ) -> Result<Option<Delivery>, StoreError> {
        self.promote_due(queues).await?;
        if let Some(delivery) = self.reclaim(consumer, queues, visibility).await? {
            return Ok(Some(delivery));
        }
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(GROUP)
            .arg(consumer)
            .arg("COUNT")
            .arg(1)
            .arg("BLOCK")
            .arg(u64::try_from(wait.as_millis()).unwrap_or(1000).max(1))
            .arg("STREAMS");
        for queue in queues {
            cmd.arg(stream_key(&self.prefix, *queue));
        }
        for _ in queues {
            cmd.arg(">");
        }
        let mut reader = self.reader.clone();
        let reply: Value = cmd.query_async(&mut reader).await.map_err(unavailable)?;
        // RESP2: [[stream, [[id, [k, v]]]], ...]; nil when the wait ran out.
        let Value::Array(streams) = reply else { return Ok(None) };
        for stream in &streams {
            let Value::Array(parts) = stream else { continue };
            let Some(name) = parts.first().and_then(text) else { continue };
            let Some((receipt, task_id)) = parts.get(1).and_then(first_entry) else { continue };
            if let Some(queue) = queues.iter().find(|q| stream_key(&self.prefix, **q) == name) {
                return Ok(Some(Delivery { queue: *queue, task_id, receipt }));
            }
        }
        Ok(None)
    }

    async fn ack(&self, delivery: &Delivery) -> Result<(), StoreError> {
        if delivery.receipt.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        let stream = stream_key(&self.prefix, delivery.queue);
        redis::pipe()
            .cmd("XACK")
            .arg(&stream)
            .arg(GROUP)
            .arg(&delivery.receipt)
            .ignore()
            .cmd("XDEL")
            .arg(&stream)
            .arg(&delivery.receipt)
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(unavailable)
    }
}
