//! Job queues: they carry task ids from whoever enqueues to the workers.
//! The SQL task table is the source of truth; a queue may deliver a task
//! twice (the worker's claim makes that harmless) but must not lose one.

mod memory;
mod redis;

pub use memory::MemoryQueue;
pub use redis::RedisQueue;

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
