//! Job queues: they carry task ids from whoever enqueues to the workers.
//! The SQL task table is the source of truth; a queue may deliver a task
//! twice (the worker's claim makes that harmless) but must not lose one.

mod memory;
mod redis;

pub use memory::MemoryQueue;
pub use redis::RedisQueue;
