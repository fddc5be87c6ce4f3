//! Events stuck in `deploying` or `decommissioning`: the job that should
//! move them on is gone (the process died between moving the event and
//! queueing its job, an administrator cancelled the task, or it ended
//! without moving the event). The scheduler's round finds them and queues
//! the idempotent job once more; if that one dies too, the event is
//! `failed` with the reason, for a person to decide.
//!
//! "Gone" means: the event's newest job of that kind ended (failed,
//! cancelled or succeeded) more than [`STUCK_AFTER_SECS`] ago, or the event
//! has no such job at all and still has none a moment later (a request moves
//! the event and queues its job within milliseconds; the second look keeps
//! the scheduler from queueing a twin in that window). A queued or running
//! job is alive: the worker and the scheduler already recover those (expired
//! claims, re-handed queue messages).

use std::time::Duration;

use domain::AppError;
use domain::activity::{ActivityTarget, ActorKind, Outcome};
use domain::classroom::{EventStatus, EventView};
use domain::page::PageRequest;
use domain::task::TaskStatus;

use crate::Services;
use crate::jobs::{Job, Requester, TaskFilter, TaskRecord};

/// How long after its job ended an event still in a working status counts as stuck.
pub(crate) const STUCK_AFTER_SECS: i64 = 60;
/// The second look for an event with no job at all.
const SECOND_LOOK: Duration = Duration::from_secs(2);

impl Services {
    /// The event's newest top-level task of `kind`.
    async fn newest_task(&self, event_id: i64, kind: &str) -> Result<Option<TaskRecord>, AppError> {
        let filter = TaskFilter { event_id: Some(event_id), top_level_only: true, ..TaskFilter::default() };
        let tasks = self.ports.tasks.list(&filter, PageRequest::new(Some(1), Some(50))).await?.items;
        Ok(tasks.into_iter().find(|t| t.kind == kind))
    }

    /// Part of the scheduler's round for an event in `deploying` or
    /// `decommissioning`: re-queues its job when it is gone (once), else
    /// fails the event with the reason.
    pub(crate) async fn recover_stuck_event(&self, event: &EventView) -> Result<(), AppError> {
        let (job, verb) = match event.status {
            EventStatus::Deploying => (Job::DeployEvent { event_id: event.id, allow_partial: false }, "deploy"),
            EventStatus::Decommissioning => (Job::DecommissionEvent { event_id: event.id }, "decommission"),
            _ => return Ok(()),
        };
        let now = self.clock.now();
        let newest = match self.newest_task(event.id, job.kind()).await? {
            Some(task) => Some(task),
            None => {
                tokio::time::sleep(SECOND_LOOK).await;
                self.newest_task(event.id, job.kind()).await?
            }
        };
        let gone = match &newest {
            None => true,
            Some(task) if matches!(task.status, TaskStatus::Queued | TaskStatus::Running) => false,
            Some(task) => task.updated_at.plus_secs(STUCK_AFTER_SECS) <= now,
        };
        if !gone {
            return Ok(());
        }
        let target = ActivityTarget::new("events", event.id, &event.name);
        let requester = Requester {
            event_id: Some(event.id),
            ..Requester::system(Some(format!("recover:event-{}:{verb}", event.id)))
        };
        if let Some(task) = self.enqueue(&job, requester).await? {
            tracing::warn!(event = event.id, task, "event stuck without a job: its {verb} job is queued again");
            let mut activity = self.system_activity(ActorKind::Scheduler, &format!("event.recover_{verb}"), target);
            activity.event_id = Some(event.id);
            activity.details = serde_json::json!({ "task": task, "previous_task": newest.as_ref().map(|t| t.id) });
            return self.record(&activity).await;
        }
        // Recovered once already, and that job is gone too.
        let reason = match &newest {
            Some(task) => format!(
                "the {verb} job (task {}) ended without finishing the event: {}",
                task.id,
                task.last_error.as_deref().unwrap_or(task.status.key())
            ),
            None => format!("the {verb} job was lost"),
        };
        if self.move_event(event.id, event.status, EventStatus::Failed, Some(&reason)).await? {
            tracing::warn!(event = event.id, reason, "stuck event marked failed");
            let mut activity = self.system_activity(ActorKind::Scheduler, "event.stuck", target);
            (activity.event_id, activity.outcome, activity.reason) = (Some(event.id), Outcome::Failed, Some(reason));
            self.record(&activity).await?;
        }
        Ok(())
    }
}
