//! What the job system needs from storage: the task table (source of
//! truth), the queue that carries task ids to workers, and leases for
//! electing one scheduler.

use std::time::Duration;

use async_trait::async_trait;
use domain::activity::Activity;
use domain::page::{Page, PageRequest};
use domain::task::{Queue, SubTaskView, TaskStatus};
use domain::time::Timestamp;

use crate::ports::StoreError;

#[derive(Clone, Debug)]
pub struct NewTask {
    pub kind: String,
    pub name: String,
    pub queue: Queue,
    /// The job as JSON.
    pub payload: String,
    pub event_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: Timestamp,
    pub max_attempts: i64,
    pub idempotency_key: Option<String>,
    pub steps: Vec<String>,
    /// The request that asked for it (`x-request-id`), for the job's logs.
    pub request_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TaskRecord {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub queue: Queue,
    pub status: TaskStatus,
    pub payload: String,
    pub event_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Claims so far (each run of the task counts once).
    pub attempts: i64,
    pub max_attempts: i64,
    pub last_error: Option<String>,
    pub next_run_at: Option<Timestamp>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<Timestamp>,
    pub request_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SubTaskRecord {
    pub id: i64,
    pub task_id: i64,
    pub position: i64,
    pub action: String,
    pub status: TaskStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub updated_at: Timestamp,
}

impl SubTaskRecord {
    pub fn into_view(self) -> SubTaskView {
        SubTaskView {
            id: self.id,
            position: self.position,
            action: self.action,
            status: self.status,
            attempts: self.attempts,
            last_error: self.last_error,
            updated_at: self.updated_at,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    pub created_by: Option<i64>,
    pub event_id: Option<i64>,
    pub since: Option<Timestamp>,
    /// Only top-level tasks (children show inside their parent).
    pub top_level_only: bool,
}

#[async_trait]
pub trait TaskRepo: Send + Sync {
    /// Creates the task and its steps in one transaction; `None` when the
    /// idempotency key is taken.
    async fn create(&self, task: &NewTask, activity: Option<&Activity>) -> Result<Option<i64>, StoreError>;
    async fn get(&self, id: i64) -> Result<Option<TaskRecord>, StoreError>;
    async fn subtasks(&self, id: i64) -> Result<Vec<SubTaskRecord>, StoreError>;
    /// (finished, all) children of a fan-out task.
    async fn children_progress(&self, id: i64) -> Result<(i64, i64), StoreError>;
    async fn list(&self, filter: &TaskFilter, page: PageRequest) -> Result<Page<TaskRecord>, StoreError>;
    /// Takes the task for `owner` until `lease_until` if it is queued and
    /// due, or running under an expired lease. Counts an attempt. False when
    /// someone else has it or it is finished: the caller drops its message.
    async fn claim(&self, id: i64, owner: &str, now: Timestamp, lease_until: Timestamp) -> Result<bool, StoreError>;
    /// Keeps a long-running claim alive; false when the lease was lost.
    async fn extend_lease(&self, id: i64, owner: &str, lease_until: Timestamp) -> Result<bool, StoreError>;
    async fn set_subtask(
        &self,
        task_id: i64,
        position: i64,
        status: TaskStatus,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// Ends the owner's claim with a final status.
    async fn finish(
        &self,
        id: i64,
        owner: &str,
        status: TaskStatus,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// Gives the task back to the queue to run at `next_run_at` (a retry, or
    /// a worker shutting down).
    async fn requeue(
        &self,
        id: i64,
        owner: &str,
        next_run_at: Timestamp,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// Failed → queued again; its failed steps start over, attempts reset.
    async fn retry(&self, id: i64, now: Timestamp, activity: Option<&Activity>) -> Result<bool, StoreError>;
    /// Queued → cancelled.
    async fn cancel(&self, id: i64, now: Timestamp, activity: Option<&Activity>) -> Result<bool, StoreError>;
    /// Tasks a worker should have but may not: queued and last handed to
    /// the queue before `handed_before`, or running under a claim that expired
    /// before `now`. They are marked as handed now, so each is handed over
    /// again at most once per period.
    async fn overdue(
        &self,
        handed_before: Timestamp,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<(i64, Queue)>, StoreError>;
}

/// A message handed to a worker: "run task `task_id`".
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub queue: Queue,
    pub task_id: i64,
    /// The queue's handle for acknowledging this delivery.
    pub receipt: String,
}

#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Makes task `task_id` available to workers of `queue`, now or at `due`.
    async fn push(&self, queue: Queue, task_id: i64, due: Option<Timestamp>) -> Result<(), StoreError>;
    /// The next delivery for `consumer` from any of `queues`, waiting at most
    /// `wait`. Deliveries another consumer did not acknowledge within
    /// `visibility` (it crashed) are handed out again.
    async fn pull(
        &self,
        consumer: &str,
        queues: &[Queue],
        wait: Duration,
        visibility: Duration,
    ) -> Result<Option<Delivery>, StoreError>;
    /// The delivery was handled (or is not ours to handle): forget it.
    async fn ack(&self, delivery: &Delivery) -> Result<(), StoreError>;
}

#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes or renews the lease `name` for `holder` for `ttl`. Returns the
    /// fencing token (it grows with every change of holder), or `None` when
    /// another holder has it.
    async fn acquire(&self, name: &str, holder: &str, ttl: Duration) -> Result<Option<u64>, StoreError>;
    async fn release(&self, name: &str, holder: &str) -> Result<(), StoreError>;
    /// Who holds the lease `name` now (`None`: nobody, or it expired).
    async fn holder(&self, name: &str) -> Result<Option<String>, StoreError>;
}
