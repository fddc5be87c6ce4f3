//! The scheduler: one active instance across all processes (a lease with a
//! fencing token), enqueueing periodic work once per period. Each periodic
//! job carries an idempotency key naming its period, so even two schedulers
//! that both believe they lead cannot enqueue the same work twice.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::{Job, Requester};
use crate::Services;

/// Work the scheduler starts, with its period in seconds.
pub fn periodic_jobs() -> Vec<(Job, i64)> {
    vec![
        (Job::PurgeSessions, 3600),
        (Job::SyncTemplates, 300),
        (Job::PurgeActivities, 86_400),
        (Job::ScheduleEvents, 30),
    ]
}

pub const LEASE_NAME: &str = "scheduler";

pub struct Scheduler {
    services: Services,
    holder: String,
    tick: Duration,
    lease_ttl: Duration,
    /// A queued task not picked up for this long is handed to the queue again.
    reconcile_after: Duration,
}

impl Scheduler {
    pub fn new(services: Services, holder: String, tick: Duration) -> Arc<Scheduler> {
        Arc::new(Scheduler { services, holder, tick, lease_ttl: tick * 3, reconcile_after: Duration::from_secs(300) })
    }

    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(holder = %self.holder, "scheduler started");
        loop {
            if let Err(e) = self.tick_once().await {
                tracing::warn!(error = %e, "scheduler tick failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.tick) => {}
                _ = shutdown.changed() => break,
            }
        }
        let _ = self.services.ports.leases.release(LEASE_NAME, &self.holder).await;
        tracing::info!(holder = %self.holder, "scheduler stopped");
    }

    /// One round: lead or stand by; if leading, enqueue what is due and hand
    /// over tasks a queue lost (Redis restarted without persistence, queue
    /// down when the task was created). Returns whether this instance led.
    pub async fn tick_once(&self) -> Result<bool, domain::AppError> {
        let Some(token) = self.services.ports.leases.acquire(LEASE_NAME, &self.holder, self.lease_ttl).await? else {
            return Ok(false);
        };
        let now = self.services.clock.now();
        for (job, period_secs) in periodic_jobs() {
            let period = now.millis() / (period_secs * 1000);
            let key = format!("periodic:{}:{period}", job.kind());
            if let Some(id) = self.services.enqueue(&job, Requester::system(Some(key))).await? {
                tracing::info!(task = id, fencing_token = token, kind = job.kind(), "periodic job enqueued");
            }
        }
        let after = i64::try_from(self.reconcile_after.as_millis()).unwrap_or(i64::MAX);
        let overdue = self.services.ports.tasks.overdue(now.minus_millis(after), now, 500).await?;
        for (id, queue) in overdue {
            self.services.ports.queue.push(queue, id, None).await?;
        }
        Ok(true)
    }
}
