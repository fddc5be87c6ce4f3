//! The worker: pulls task ids, claims the task in SQL, runs its remaining
//! steps, and retries or dead-letters on failure.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use domain::task::{Queue, TaskStatus};
use domain::time::Timestamp;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::{Delivery, Job, JobQueue, TaskRecord, TaskRepo};
use crate::clock::Clock;

/// Why a step failed, and whether trying again may help.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct StepError {
    pub message: String,
    pub retryable: bool,
}

impl StepError {
    pub fn retryable(message: impl Into<String>) -> StepError {
        StepError { message: message.into(), retryable: true }
    }

    pub fn permanent(message: impl Into<String>) -> StepError {
        StepError { message: message.into(), retryable: false }
    }
}

/// Runs one step of a job. Must be idempotent: a step can run again after a
/// crash between doing its work and recording that it did.
#[async_trait]
pub trait StepRunner: Send + Sync {
    async fn run_step(&self, task: &TaskRecord, job: &Job, step: &str) -> Result<(), StepError>;
}

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Unique per process: a crashed worker's deliveries are recognised by it.
    pub name: String,
    pub queues: Vec<Queue>,
    /// Jobs running at once in this process.
    pub concurrency: usize,
    /// Jobs running at once against one Proxmox node.
    pub per_node_limit: usize,
    /// How long a claim lasts without renewal; a crashed worker's jobs are
    /// taken over after this.
    pub visibility: Duration,
    /// On shutdown, how long running jobs may take before they are handed back.
    pub grace: Duration,
    /// Multiplies the retry intervals (1.0 in production; tests shorten them).
    pub retry_scale: f64,
}

impl WorkerConfig {
    pub fn new(name: String) -> WorkerConfig {
        WorkerConfig {
            name,
            queues: Queue::ALL.to_vec(),
            concurrency: 8,
            per_node_limit: 2,
            visibility: Duration::from_secs(60),
            grace: Duration::from_secs(30),
            retry_scale: 1.0,
        }
    }
}

/// Delay before retry number `retry` (1-based): the queue's schedule, then
/// doubling past its end (capped at 10 minutes), with ±10 % jitter so that a
/// classroom of failures does not retry in lockstep.
pub fn retry_delay(queue: Queue, retry: u32, scale: f64) -> Duration {
    let schedule = queue.retry_intervals_secs();
    let index = usize::try_from(retry.max(1) - 1).unwrap_or(usize::MAX);
    let last = schedule.last().copied().unwrap_or(10);
    let base = match schedule.get(index) {
        Some(secs) => *secs as f64,
        None => {
            let beyond = u32::try_from(index + 1 - schedule.len()).unwrap_or(u32::MAX).min(16);
            (last as f64 * 2f64.powi(i32::try_from(beyond).unwrap_or(16))).min(600.0)
        }
    };
    let jitter = 0.9 + rand::random::<f64>() * 0.2;
    Duration::from_secs_f64((base * jitter * scale).max(0.0))
}

pub struct Worker {
    repo: Arc<dyn TaskRepo>,
    queue: Arc<dyn JobQueue>,
    runner: Arc<dyn StepRunner>,
    clock: Arc<dyn Clock>,
    config: WorkerConfig,
    node_limits: Mutex<HashMap<String, Arc<Semaphore>>>,
}

fn later(now: Timestamp, duration: Duration) -> Timestamp {
    Timestamp(now.0.saturating_add(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)))
}

impl Worker {
    pub fn new(
        repo: Arc<dyn TaskRepo>,
        queue: Arc<dyn JobQueue>,
        runner: Arc<dyn StepRunner>,
        clock: Arc<dyn Clock>,
        config: WorkerConfig,
    ) -> Arc<Worker> {
        Arc::new(Worker { repo, queue, runner, clock, config, node_limits: Mutex::new(HashMap::new()) })
    }

    fn node_limit(&self, node: &str) -> Arc<Semaphore> {
        let mut limits = self.node_limits.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        limits.entry(node.to_string()).or_insert_with(|| Arc::new(Semaphore::new(self.config.per_node_limit))).clone()
    }

    /// Works until `shutdown` turns true, then lets running jobs finish within
    /// the grace period and hands the rest back to the queue.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let permits = Arc::new(Semaphore::new(self.config.concurrency.max(1)));
        let mut running: JoinSet<()> = JoinSet::new();
        let in_flight: Arc<Mutex<HashMap<i64, Delivery>>> = Arc::default();
        tracing::info!(worker = %self.config.name, "worker started");
        loop {
            while running.try_join_next().is_some() {}
            let permit = tokio::select! {
                permit = permits.clone().acquire_owned() => match permit { Ok(p) => p, Err(_) => break },
                _ = shutdown.changed() => break,
            };
            if *shutdown.borrow() {
                break;
            }
            let pulled = tokio::select! {
                pulled = self.queue.pull(&self.config.name, &self.config.queues, Duration::from_secs(1), self.config.visibility) => pulled,
                _ = shutdown.changed() => break,
            };
            match pulled {
                Ok(Some(delivery)) => {
                    let worker = self.clone();
                    let in_flight = in_flight.clone();
                    running.spawn(async move {
                        in_flight.lock().unwrap_or_else(|p| p.into_inner()).insert(delivery.task_id, delivery.clone());
                        worker.handle(&delivery).await;
                        in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(&delivery.task_id);
                        drop(permit);
                    });
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "queue unavailable; retrying in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        tracing::info!(worker = %self.config.name, running = running.len(), "worker stopping");
        if tokio::time::timeout(self.config.grace, async { while running.join_next().await.is_some() {} })
            .await
            .is_err()
        {
            running.abort_all();
            while running.join_next().await.is_some() {}
            let unfinished: Vec<Delivery> =
                in_flight.lock().unwrap_or_else(|p| p.into_inner()).drain().map(|(_, d)| d).collect();
            for delivery in unfinished {
                self.hand_back(&delivery).await;
            }
        }
        tracing::info!(worker = %self.config.name, "worker stopped");
    }

    /// A job cut short by shutdown goes back to the queue at once instead of
    /// waiting for its claim to expire.
    async fn hand_back(&self, delivery: &Delivery) {
        let now = self.clock.now();
        let requeued = self.repo.requeue(delivery.task_id, &self.config.name, now, Some("worker shut down"), now).await;
        let pushed = match requeued {
            Ok(()) => self.queue.push(delivery.queue, delivery.task_id, None).await,
            Err(e) => Err(e),
        };
        match pushed {
            Ok(()) => {
                let _ = self.queue.ack(delivery).await;
                tracing::info!(task = delivery.task_id, "handed back to the queue");
            }
            // Left unacknowledged: another worker takes it over after the visibility timeout.
            Err(e) => tracing::warn!(task = delivery.task_id, error = %e, "could not hand the task back"),
        }
    }

    /// Runs one delivery to its end: claimed, stepped through, acknowledged.
    pub async fn handle(&self, delivery: &Delivery) {
        if let Err(e) = self.try_handle(delivery).await {
            // Storage failed mid-way; the claim expires and the job runs again.
            tracing::error!(task = delivery.task_id, error = %e, "task interrupted by a storage error");
        }
    }

    async fn try_handle(&self, delivery: &Delivery) -> Result<(), crate::StoreError> {
        let owner = self.config.name.as_str();
        let now = self.clock.now();
        if !self.repo.claim(delivery.task_id, owner, now, later(now, self.config.visibility)).await? {
            // Finished, cancelled, not yet due, or someone else's: drop this copy.
            return self.queue.ack(delivery).await;
        }
        let Some(task) = self.repo.get(delivery.task_id).await? else {
            return self.queue.ack(delivery).await;
        };
        let job: Job = match serde_json::from_str(&task.payload) {
            Ok(job) => job,
            Err(e) => {
                let reason = format!("unknown job payload: {e}");
                self.repo.finish(task.id, owner, TaskStatus::Failed, Some(&reason), self.clock.now()).await?;
                return self.queue.ack(delivery).await;
            }
        };
        let _node_permit = match job.node() {
            Some(node) => self.node_limit(node).acquire_owned().await.ok(),
            None => None,
        };
        let heartbeat = self.keep_claim(task.id);
        // The job's logs (to its end) and the activities it records carry the
        // id of the request that asked for it.
        let request_id = task.request_id.as_deref().unwrap_or("-");
        let span = tracing::info_span!("task", task = task.id, kind = %task.kind, request_id);
        let run = async {
            let outcome = crate::activities::for_request(task.request_id.clone(), self.run_steps(&task, &job)).await;
            heartbeat.abort();
            self.settle(&task, outcome?).await
        };
        tracing::Instrument::instrument(run, span).await?;
        self.queue.ack(delivery).await
    }

    /// Records how the task's run ended: done, retried later, or failed for good.
    async fn settle(&self, task: &TaskRecord, outcome: Option<StepError>) -> Result<(), crate::StoreError> {
        let owner = self.config.name.as_str();
        let now = self.clock.now();
        match outcome {
            None => self.repo.finish(task.id, owner, TaskStatus::Success, None, now).await?,
            Some(error) if error.retryable && task.attempts < task.max_attempts => {
                let retry = u32::try_from(task.attempts).unwrap_or(u32::MAX);
                let due = later(now, retry_delay(task.queue, retry, self.config.retry_scale));
                self.repo.requeue(task.id, owner, due, Some(&error.message), now).await?;
                self.queue.push(task.queue, task.id, Some(due)).await?;
                tracing::info!(task = task.id, attempt = task.attempts, error = %error, "step failed; retry scheduled");
            }
            Some(error) => {
                // Dead letter: the task stays failed with its reason for an admin to see.
                let reason = if error.retryable {
                    format!("{} (gave up after {} attempts)", error.message, task.attempts)
                } else {
                    error.message.clone()
                };
                self.repo.finish(task.id, owner, TaskStatus::Failed, Some(&reason), now).await?;
                tracing::warn!(task = task.id, error = %reason, "task failed");
            }
        }
        Ok(())
    }

    /// Runs the steps that have not succeeded yet; the first error stops.
    async fn run_steps(&self, task: &TaskRecord, job: &Job) -> Result<Option<StepError>, crate::StoreError> {
        let steps = self.repo.subtasks(task.id).await?;
        for step in steps.iter().filter(|s| s.status != TaskStatus::Success) {
            self.repo.set_subtask(task.id, step.position, TaskStatus::Running, None, self.clock.now()).await?;
            match self.runner.run_step(task, job, &step.action).await {
                Ok(()) => {
                    self.repo.set_subtask(task.id, step.position, TaskStatus::Success, None, self.clock.now()).await?;
                }
                Err(error) => {
                    self.repo
                        .set_subtask(task.id, step.position, TaskStatus::Failed, Some(&error.message), self.clock.now())
                        .await?;
                    return Ok(Some(error));
                }
            }
        }
        Ok(None)
    }

    /// Renews the claim while a long step runs.
    fn keep_claim(&self, task_id: i64) -> tokio::task::AbortHandle {
        let repo = self.repo.clone();
        let clock = self.clock.clone();
        let owner = self.config.name.clone();
        let visibility = self.config.visibility;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(visibility / 3).await;
                let now = clock.now();
                match repo.extend_lease(task_id, &owner, later(now, visibility)).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(task = task_id, "claim lost to another worker");
                        break;
                    }
                    Err(e) => tracing::warn!(task = task_id, error = %e, "could not renew the claim"),
                }
            }
        })
        .abort_handle()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_queue_schedule_then_double() {
        let within = |d: Duration, secs: f64| (secs * 0.9..=secs * 1.1).contains(&d.as_secs_f64());
        assert!(within(retry_delay(Queue::PveVmClone, 1, 1.0), 10.0));
        assert!(within(retry_delay(Queue::PveVmClone, 3, 1.0), 60.0));
        assert!(within(retry_delay(Queue::PveVmClone, 4, 1.0), 120.0));
        assert!(within(retry_delay(Queue::PveVmClone, 10, 1.0), 600.0), "capped at ten minutes");
        assert!(within(retry_delay(Queue::Mails, 2, 0.01), 0.6));
    }
}
