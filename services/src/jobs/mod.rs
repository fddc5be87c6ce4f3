//! Background jobs: what can run, how it is queued, and who may see and
//! steer it. A job is stored as a Task with one SubTask per step (the SQL
//! store is the source of truth); the queue only carries task ids. Workers
//! claim a task in SQL before running it, so a message delivered twice runs
//! once, and a step that succeeded is never run again.

mod ports;
pub mod scheduler;
mod steps;
pub mod worker;

use domain::access::ObjectType;
use domain::activity::{Activity, ActivityTarget};
use domain::page::{Page, PageRequest};
use domain::task::{Queue, TaskStatus, TaskTitle, TaskView};
use domain::{Action, Actor, AppError, Target};
use serde::{Deserialize, Serialize};

pub use ports::{Delivery, JobQueue, LeaseStore, NewTask, SubTaskRecord, TaskFilter, TaskRecord, TaskRepo};
pub use steps::ProductSteps;

use crate::provisioning::{PlannedVm, ResetTarget, VmAction};
use crate::{Services, authorize};

/// Everything OpenVLE can do in the background, with its payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Removes expired sessions (periodic housekeeping).
    PurgeSessions,
    /// Copies the templates' node and resources from the cluster and marks missing ones (classroom).
    SyncTemplates,
    /// Removes activities older than the retention setting.
    PurgeActivities,
    /// Proves that workers run: waits, then succeeds. Administrators start it
    /// from the Tasks page; the tests use it to stand for real work. With a
    /// node it takes one of that node's slots, like a VM job would.
    Ping {
        sleep_ms: u64,
        #[serde(default)]
        node: Option<String>,
    },
    // ----- provisioning (crate::provisioning); `owner` is e.g. `event-42` -----
    /// Clones, configures, starts and waits for every VM of the plan.
    DeployVms {
        owner: String,
        plan: Vec<PlannedVm>,
        /// Deploy what fits when capacity is short (the instructor confirmed).
        #[serde(default)]
        allow_partial: bool,
    },
    /// Stops and deletes every VM of the plan and of the owner.
    DecommissionVms { owner: String, plan: Vec<PlannedVm> },
    /// Compares the owner's recorded VMs with the cluster.
    ReconcileVms { owner: String },
    /// A power action on one VM; resetting it to its template needs `reset`.
    VmAction {
        owner: String,
        vmid: u32,
        action: VmAction,
        #[serde(default)]
        reset: Option<Box<ResetTarget>>,
    },
    /// Delivers one mail of the sent log (idempotent: a mail recorded as
    /// sent is not sent again).
    SendMail { mail_id: i64 },
    // ----- classroom events (crate::classroom::deployment) -----
    /// Deploys an event's plan (snapshot × participants) and moves the event
    /// to `running`, or `failed` with the reason.
    DeployEvent {
        event_id: i64,
        #[serde(default)]
        allow_partial: bool,
    },
    /// Removes every VM of an event and moves it to `finished`.
    DecommissionEvent { event_id: i64 },
    /// Starts and ends events on time and reconciles active ones (periodic).
    ScheduleEvents,
    /// Makes Guacamole hold the connections an event's VMs need now (created,
    /// at the VMs' current addresses, READ granted while the event is active).
    SyncConnections { event_id: i64 },
}

impl Job {
    pub fn kind(&self) -> &'static str {
        match self {
            Job::PurgeSessions => "purge_sessions",
            Job::SyncTemplates => "sync_templates",
            Job::PurgeActivities => "purge_activities",
            Job::Ping { .. } => "ping",
            Job::DeployVms { .. } => "deploy_vms",
            Job::DecommissionVms { .. } => "decommission_vms",
            Job::ReconcileVms { .. } => "reconcile_vms",
            Job::VmAction { .. } => "vm_action",
            Job::SendMail { .. } => "send_mail",
            Job::DeployEvent { .. } => "deploy_event",
            Job::DecommissionEvent { .. } => "decommission_event",
            Job::ScheduleEvents => "schedule_events",
            Job::SyncConnections { .. } => "sync_connections",
        }
    }

    /// What the task does, for the Tasks page (in the reader's language).
    pub fn title(&self) -> TaskTitle {
        match self {
            Job::PurgeSessions => TaskTitle::PurgeSessions,
            Job::SyncTemplates => TaskTitle::SyncTemplates,
            Job::PurgeActivities => TaskTitle::PurgeActivities,
            Job::Ping { sleep_ms, node } => TaskTitle::WorkerCheck { sleep_ms: *sleep_ms, node: node.clone() },
            Job::DeployVms { owner, plan, .. } => TaskTitle::DeployVms { owner: owner.clone(), count: plan.len() },
            Job::DecommissionVms { owner, .. } => TaskTitle::DecommissionVms { owner: owner.clone() },
            Job::ReconcileVms { owner } => TaskTitle::ReconcileVms { owner: owner.clone() },
            Job::VmAction { vmid, action, .. } => TaskTitle::VmAction { vmid: *vmid, action: action.key().into() },
            Job::SendMail { mail_id } => TaskTitle::SendMail { mail_id: *mail_id },
            Job::DeployEvent { event_id, allow_partial } => {
                TaskTitle::DeployEvent { event_id: *event_id, partial: *allow_partial }
            }
            Job::DecommissionEvent { event_id } => TaskTitle::DecommissionEvent { event_id: *event_id },
            Job::ScheduleEvents => TaskTitle::ScheduleEvents,
            Job::SyncConnections { event_id } => TaskTitle::SyncConnections { event_id: *event_id },
        }
    }

    pub fn queue(&self) -> Queue {
        match self {
            Job::PurgeSessions | Job::PurgeActivities | Job::Ping { .. } | Job::ScheduleEvents => Queue::CorePeriodic,
            Job::DeployVms { .. } | Job::DeployEvent { .. } => Queue::PveVmClone,
            Job::DecommissionVms { .. } | Job::VmAction { .. } | Job::DecommissionEvent { .. } => Queue::PveVmActions,
            Job::ReconcileVms { .. } | Job::SyncTemplates => Queue::PvePeriodic,
            Job::SendMail { .. } => Queue::Mails,
            Job::SyncConnections { .. } => Queue::Guacamole,
        }
    }

    /// The steps, in order; each becomes a SubTask and is retried on its own.
    pub fn steps(&self) -> &'static [&'static str] {
        match self {
            Job::PurgeSessions | Job::PurgeActivities => &["purge"],
            Job::SyncTemplates => &["sync"],
            Job::Ping { .. } => &["wait", "answer"],
            Job::DeployVms { .. } => &["deploy"],
            Job::DecommissionVms { .. } => &["decommission"],
            Job::ReconcileVms { .. } => &["reconcile"],
            Job::VmAction { .. } => &["act"],
            Job::SendMail { .. } => &["send"],
            Job::DeployEvent { .. } => &["deploy"],
            // Connections go last: the VMs' removal never waits for Guacamole.
            Job::DecommissionEvent { .. } => &["decommission", "connections"],
            Job::ScheduleEvents => &["schedule"],
            Job::SyncConnections { .. } => &["sync"],
        }
    }

    /// The Proxmox node the job works on, for the per-node concurrency limit.
    pub fn node(&self) -> Option<&str> {
        match self {
            // Provisioning paces itself per storage and node.
            Job::PurgeSessions
            | Job::PurgeActivities
            | Job::SyncTemplates
            | Job::DeployVms { .. }
            | Job::DecommissionVms { .. }
            | Job::ReconcileVms { .. }
            | Job::VmAction { .. }
            | Job::SendMail { .. }
            | Job::DeployEvent { .. }
            | Job::DecommissionEvent { .. }
            | Job::ScheduleEvents
            | Job::SyncConnections { .. } => None,
            Job::Ping { node, .. } => node.as_deref(),
        }
    }
}

/// What the Tasks page filters by.
#[derive(Clone, Debug, Default)]
pub struct TaskQuery {
    pub status: Option<TaskStatus>,
    pub since: Option<domain::time::Timestamp>,
    pub username: Option<String>,
    pub event_id: Option<i64>,
}

/// Who asked for a job; `None` for the scheduler.
pub struct Requester<'a> {
    pub actor: Option<&'a Actor>,
    pub event_id: Option<i64>,
    pub parent_id: Option<i64>,
    /// Jobs with the same key are created once (periodic ticks, retried requests).
    pub idempotency_key: Option<String>,
}

impl Requester<'_> {
    pub fn system(idempotency_key: Option<String>) -> Requester<'static> {
        Requester { actor: None, event_id: None, parent_id: None, idempotency_key }
    }
}

impl Services {
    /// Stores the job as a queued task and hands it to the queue. Returns
    /// `None` when a job with the same idempotency key exists already. If the
    /// queue is down the task stays queued in SQL and the scheduler hands it
    /// over again later: nothing is lost.
    pub async fn enqueue(&self, job: &Job, by: Requester<'_>) -> Result<Option<i64>, AppError> {
        // A person's request is an activity; the scheduler's periodic work is not
        // (it would flood the log): its effects record their own.
        let activity = by.actor.map(|actor| {
            let mut activity =
                self.activity(actor, "task.create", ActivityTarget::created("tasks", &job.title().english()));
            activity.event_id = by.event_id;
            activity.details = serde_json::json!({ "kind": job.kind() });
            activity
        });
        self.enqueue_recorded(job, by, activity.as_ref()).await
    }

    /// [`Services::enqueue`] for a use case whose change is recorded as
    /// `activity` (with the task, in its transaction), or by another write
    /// (`None`: the task is part of that change).
    pub(crate) async fn enqueue_recorded(
        &self,
        job: &Job,
        by: Requester<'_>,
        activity: Option<&Activity>,
    ) -> Result<Option<i64>, AppError> {
        let new = self.new_task(job, by)?;
        let Some(id) = self.ports.tasks.create(&new, activity).await? else {
            return Ok(None);
        };
        self.hand_over(job.queue(), id).await;
        Ok(Some(id))
    }

    /// The task row of `job` as `by` asks for it, for a repository that
    /// writes it in the transaction of another change (a queued mail).
    pub(crate) fn new_task(&self, job: &Job, by: Requester<'_>) -> Result<NewTask, crate::StoreError> {
        let payload =
            serde_json::to_string(job).map_err(|e| crate::StoreError::Corrupt(format!("encoding a job: {e}")))?;
        Ok(NewTask {
            kind: job.kind().to_string(),
            // Stored in English: activities about the task carry it.
            name: job.title().english(),
            queue: job.queue(),
            payload,
            event_id: by.event_id,
            parent_id: by.parent_id,
            created_by: by.actor.map(|a| a.user_id),
            created_at: self.clock.now(),
            max_attempts: i64::from(job.queue().max_attempts(self.worker_max_retry)),
            idempotency_key: by.idempotency_key,
            steps: job.steps().iter().map(|s| s.to_string()).collect(),
            request_id: by.actor.and_then(|a| a.origin.request_id.clone()),
        })
    }

    /// Hands a task stored as queued to the queue. If the queue is down the
    /// task stays queued in SQL and the scheduler hands it over again later.
    pub(crate) async fn hand_over(&self, queue: Queue, task_id: i64) {
        if let Err(e) = self.ports.queue.push(queue, task_id, None).await {
            tracing::warn!(task = task_id, error = %e, "queue unavailable; the scheduler will hand the task over later");
        }
    }

    /// Top-level tasks (a fan-out's children show inside their parent).
    pub async fn list_tasks(
        &self,
        actor: &Actor,
        query: TaskQuery,
        page: PageRequest,
    ) -> Result<Page<TaskView>, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Task))?;
        let created_by = match query.username.as_deref() {
            // An unknown username matches no task rather than every task.
            Some(name) => Some(self.ports.users.by_username(&name.trim().to_lowercase()).await?.map_or(-1, |u| u.id)),
            None => None,
        };
        let filter = TaskFilter {
            status: query.status,
            created_by,
            event_id: query.event_id,
            since: query.since,
            top_level_only: true,
        };
        let found = self.ports.tasks.list(&filter, page).await?;
        let mut items = Vec::with_capacity(found.items.len());
        for task in found.items {
            items.push(self.task_view(task).await?);
        }
        Ok(Page { items, total: found.total, page: found.page, per_page: found.per_page })
    }

    pub async fn get_task(&self, actor: &Actor, id: i64) -> Result<TaskView, AppError> {
        authorize(actor, Action::Read, Target::One(ObjectType::Task, id))?;
        let task = self.ports.tasks.get(id).await?.ok_or(AppError::NotFound)?;
        self.task_view(task).await
    }

    async fn task_view(&self, task: TaskRecord) -> Result<TaskView, AppError> {
        let subtasks = self.ports.tasks.subtasks(task.id).await?;
        let (children_done, children_total) = self.ports.tasks.children_progress(task.id).await?;
        let created_by = match task.created_by {
            Some(user) => self.ports.users.by_id(user).await?.map(|u| u.username),
            None => None,
        };
        // Named from its job, so each reader sees it in their language.
        let title = match serde_json::from_str::<Job>(&task.payload) {
            Ok(job) => job.title(),
            Err(_) => TaskTitle::Stored(task.name),
        };
        Ok(TaskView {
            id: task.id,
            title,
            kind: task.kind,
            queue: task.queue,
            status: task.status,
            event_id: task.event_id,
            parent_id: task.parent_id,
            created_by,
            created_at: task.created_at,
            updated_at: task.updated_at,
            attempts: task.attempts,
            max_attempts: task.max_attempts,
            last_error: task.last_error,
            next_run_at: task.next_run_at,
            subtasks: subtasks.into_iter().map(SubTaskRecord::into_view).collect(),
            children_done,
            children_total,
        })
    }

    /// Runs a failed task again from its failed step; the steps that
    /// succeeded are not repeated.
    pub async fn retry_task(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        authorize(actor, Action::Update, Target::One(ObjectType::Task, id))?;
        let task = self.ports.tasks.get(id).await?.ok_or(AppError::NotFound)?;
        if task.status != TaskStatus::Failed {
            return Err(AppError::conflict("task_not_failed"));
        }
        let mut activity = self.activity(actor, "task.retry", ActivityTarget::new("tasks", id, &task.name));
        activity.event_id = task.event_id;
        if self.ports.tasks.retry(id, self.clock.now(), Some(&activity)).await?
            && let Err(e) = self.ports.queue.push(task.queue, id, None).await
        {
            tracing::warn!(task = id, error = %e, "queue unavailable; the scheduler will hand the task over later");
        }
        Ok(())
    }

    /// Cancels a task that has not started (or waits for a retry).
    pub async fn cancel_task(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        authorize(actor, Action::Update, Target::One(ObjectType::Task, id))?;
        let task = self.ports.tasks.get(id).await?.ok_or(AppError::NotFound)?;
        let mut activity = self.activity(actor, "task.cancel", ActivityTarget::new("tasks", id, &task.name));
        activity.event_id = task.event_id;
        if !self.ports.tasks.cancel(id, self.clock.now(), Some(&activity)).await? {
            return Err(AppError::conflict("task_not_queued"));
        }
        Ok(())
    }

    /// The worker check an administrator can start from the Tasks page.
    pub async fn start_worker_check(&self, actor: &Actor) -> Result<i64, AppError> {
        authorize(actor, Action::Create, Target::All(ObjectType::Task))?;
        let requester = Requester { actor: Some(actor), event_id: None, parent_id: None, idempotency_key: None };
        self.enqueue(&Job::Ping { sleep_ms: 500, node: None }, requester)
            .await?
            .ok_or_else(|| AppError::conflict("duplicate"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provisioning::TemplateRef;

    /// The stored payload of a provisioning job: what the classroom code
    /// enqueues and what a worker of another version must still read.
    #[test]
    fn provisioning_jobs_round_trip_as_tagged_json() {
        let vm = PlannedVm {
            key: "p7/t3/1".into(),
            shortname: "net24".into(),
            username: "anna".into(),
            template_name: "Debian".into(),
            copy: 1,
            source: TemplateRef { vmid: 9000, node: "pve1".into() },
            linked_clone: true,
            memory_mib: 2048,
            cores: 2,
            tags: vec![],
            description: String::new(),
        };
        let deploy = Job::DeployVms { owner: "event-42".into(), plan: vec![vm.clone()], allow_partial: false };
        let json = serde_json::to_value(&deploy).unwrap();
        assert_eq!(json["kind"], "deploy_vms");
        assert_eq!(json["plan"][0]["source"]["vmid"], 9000);
        assert_eq!(serde_json::from_value::<Job>(json).unwrap(), deploy);
        // Optional fields may be left out by older writers.
        let power: Job =
            serde_json::from_str(r#"{"kind":"vm_action","owner":"event-42","vmid":105,"action":"pause"}"#).unwrap();
        assert_eq!(power, Job::VmAction { owner: "event-42".into(), vmid: 105, action: VmAction::Pause, reset: None });
        assert_eq!((power.queue(), power.steps()), (Queue::PveVmActions, &["act"][..]));
        assert_eq!(deploy.queue(), Queue::PveVmClone);
        assert_eq!(deploy.title(), TaskTitle::DeployVms { owner: "event-42".into(), count: 1 });
        assert_eq!(deploy.title().english(), "Deploy 1 VMs of event-42");
    }
}
