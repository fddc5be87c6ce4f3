//! The in-process queue of the embedded default (one process, no Redis).
//! It lives in memory; after a restart the tasks still queued in SQL are
//! handed to it again (`Database::recover_tasks`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use domain::task::Queue;
use domain::time::Timestamp;
use services::StoreError;
use services::jobs::{Delivery, JobQueue};
use tokio::sync::Notify;

use crate::now_millis;

#[derive(Default)]
struct State {
    ready: HashMap<Queue, VecDeque<i64>>,
    /// (due, queue, task) ordered by due time.
    delayed: BinaryHeap<Reverse<(i64, Queue, i64)>>,
}

#[derive(Default)]
pub struct MemoryQueue {
    state: Mutex<State>,
    wake: Notify,
}

impl MemoryQueue {
    pub fn new() -> MemoryQueue {
        MemoryQueue::default()
    }

    /// Moves due delayed tasks to their queues and takes the first ready one;
    /// otherwise says how long until the next delayed task is due.
    fn take(&self, queues: &[Queue]) -> Result<Option<Delivery>, Option<i64>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = now_millis();
        while let Some(Reverse((due, queue, id))) = state.delayed.peek().copied() {
            if due > now {
                break;
            }
            state.delayed.pop();
            state.ready.entry(queue).or_default().push_back(id);
        }
        for queue in queues {
            if let Some(id) = state.ready.get_mut(queue).and_then(VecDeque::pop_front) {
                return Ok(Some(Delivery { queue: *queue, task_id: id, receipt: String::new() }));
            }
        }
        Err(state.delayed.peek().map(|Reverse((due, _, _))| due - now))
    }
}

#[async_trait]
impl JobQueue for MemoryQueue {
    async fn push(&self, queue: Queue, task_id: i64, due: Option<Timestamp>) -> Result<(), StoreError> {
        {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            match due {
                Some(due) if due.millis() > now_millis() => state.delayed.push(Reverse((due.millis(), queue, task_id))),
                _ => state.ready.entry(queue).or_default().push_back(task_id),
            }
        }
        self.wake.notify_waiters();
        Ok(())
    }

    async fn pull(
        &self,
        _consumer: &str,
        queues: &[Queue],
        wait: Duration,
        _visibility: Duration,
    ) -> Result<Option<Delivery>, StoreError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.wake.notified();
            let next_due = match self.take(queues) {
                Ok(delivery) => return Ok(delivery),
                Err(next_due) => next_due,
            };
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let mut until = deadline;
            if let Some(ms) = next_due {
                until = until.min(now + Duration::from_millis(u64::try_from(ms.max(1)).unwrap_or(1)));
            }
            let _ = tokio::time::timeout_at(until, notified).await;
        }
    }

    /// Nothing to forget: a task leaves this queue when it is taken.
    async fn ack(&self, _delivery: &Delivery) -> Result<(), StoreError> {
        Ok(())
    }
}
