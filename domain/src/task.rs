//! Background work as the UI shows it: a Task (one job) made of SubTasks
//! (its steps), queued on one of the original product's queues.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Queued,
    Running,
    Failed,
    Success,
    Cancelled,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 5] =
        [TaskStatus::Queued, TaskStatus::Running, TaskStatus::Failed, TaskStatus::Success, TaskStatus::Cancelled];

    pub fn key(self) -> &'static str {
        match self {
            TaskStatus::Queued => "queued",
            TaskStatus::Running => "running",
            TaskStatus::Failed => "failed",
            TaskStatus::Success => "success",
            TaskStatus::Cancelled => "cancelled",
        }
    }

    pub fn from_key(key: &str) -> Option<TaskStatus> {
        TaskStatus::ALL.into_iter().find(|s| s.key() == key)
    }

    /// Nothing more will happen to a task in this state unless someone retries it.
    pub fn is_final(self) -> bool {
        matches!(self, TaskStatus::Failed | TaskStatus::Success | TaskStatus::Cancelled)
    }
}

/// The queues of the original product, each with its retry schedule
/// (OPENVLE-REFERENCE.md section 4).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Queue {
    PveVmClone,
    PveVmActions,
    PvePeriodic,
    Mails,
    Guacamole,
    Moodle,
    CorePeriodic,
}

impl Queue {
    pub const ALL: [Queue; 7] = [
        Queue::PveVmClone,
        Queue::PveVmActions,
        Queue::PvePeriodic,
        Queue::Mails,
        Queue::Guacamole,
        Queue::Moodle,
        Queue::CorePeriodic,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Queue::PveVmClone => "pve_vm_clone",
            Queue::PveVmActions => "pve_vm_actions",
            Queue::PvePeriodic => "pve_periodic",
            Queue::Mails => "mails",
            Queue::Guacamole => "guacamole",
            Queue::Moodle => "moodle",
            Queue::CorePeriodic => "core_periodic",
        }
    }

    pub fn from_key(key: &str) -> Option<Queue> {
        Queue::ALL.into_iter().find(|q| q.key() == key)
    }

    /// Seconds to wait before the 1st, 2nd, 3rd... retry; the last value repeats.
    pub fn retry_intervals_secs(self) -> &'static [u64] {
        match self {
            Queue::PveVmClone | Queue::Guacamole | Queue::Moodle => &[10, 30, 60],
            Queue::PveVmActions | Queue::PvePeriodic | Queue::CorePeriodic => &[5, 10, 15],
            Queue::Mails => &[30, 60, 120],
        }
    }

    /// How many attempts a job gets in all: periodic queues have a fixed 3,
    /// the others `WORKER_MAX_RETRY` retries after the first attempt.
    pub fn max_attempts(self, worker_max_retry: u32) -> u32 {
        match self {
            Queue::PvePeriodic | Queue::CorePeriodic => 3,
            _ => worker_max_retry + 1,
        }
    }
}

/// One step of a task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubTaskView {
    pub id: i64,
    pub position: i64,
    pub action: String,
    pub status: TaskStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub updated_at: Timestamp,
}

/// What a task does, as the Tasks page names it in the reader's language
/// (the app's i18n); [`TaskTitle::english`] is also the name stored with the
/// task, which activities about it carry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TaskTitle {
    PurgeSessions,
    SyncTemplates,
    PurgeActivities,
    WorkerCheck {
        sleep_ms: u64,
        node: Option<String>,
    },
    DeployVms {
        owner: String,
        count: usize,
    },
    DecommissionVms {
        owner: String,
    },
    ReconcileVms {
        owner: String,
    },
    /// `action`: the power action's key (start, shutdown, ...).
    VmAction {
        vmid: u32,
        action: String,
    },
    SendMail {
        mail_id: i64,
    },
    DeployEvent {
        event_id: i64,
        partial: bool,
    },
    DecommissionEvent {
        event_id: i64,
    },
    ScheduleEvents,
    SyncConnections {
        event_id: i64,
    },
    /// A task whose job this version cannot read: the name stored with it.
    Stored(String),
}

impl TaskTitle {
    pub fn english(&self) -> String {
        match self {
            TaskTitle::PurgeSessions => "Remove expired sessions".into(),
            TaskTitle::SyncTemplates => "Synchronise VM templates".into(),
            TaskTitle::PurgeActivities => "Remove activities past their retention".into(),
            TaskTitle::WorkerCheck { sleep_ms, node: None } => format!("Worker check ({sleep_ms} ms)"),
            TaskTitle::WorkerCheck { sleep_ms, node: Some(node) } => format!("Worker check on {node} ({sleep_ms} ms)"),
            TaskTitle::DeployVms { owner, count } => format!("Deploy {count} VMs of {owner}"),
            TaskTitle::DecommissionVms { owner } => format!("Remove the VMs of {owner}"),
            TaskTitle::ReconcileVms { owner } => format!("Compare the VMs of {owner} with the cluster"),
            TaskTitle::VmAction { vmid, action } => format!("VM {vmid}: {action}"),
            TaskTitle::SendMail { mail_id } => format!("Send email #{mail_id}"),
            TaskTitle::DeployEvent { event_id, partial: false } => format!("Deploy event {event_id}"),
            TaskTitle::DeployEvent { event_id, partial: true } => format!("Deploy what fits of event {event_id}"),
            TaskTitle::DecommissionEvent { event_id } => format!("End event {event_id}: remove its VMs"),
            TaskTitle::ScheduleEvents => "Start and end events on time".into(),
            TaskTitle::SyncConnections { event_id } => format!("Guacamole connections of event {event_id}"),
            TaskTitle::Stored(name) => name.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskView {
    pub id: i64,
    pub title: TaskTitle,
    pub kind: String,
    pub queue: Queue,
    pub status: TaskStatus,
    pub event_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub attempts: i64,
    pub max_attempts: i64,
    pub last_error: Option<String>,
    pub next_run_at: Option<Timestamp>,
    pub subtasks: Vec<SubTaskView>,
    /// Children of a fan-out (e.g. one per VM of a deployment): done / total.
    pub children_done: i64,
    pub children_total: i64,
}

impl TaskView {
    /// Progress in percent: finished steps, or finished children for a fan-out.
    pub fn progress_percent(&self) -> u8 {
        let (done, total) = if self.children_total > 0 {
            (self.children_done, self.children_total)
        } else {
            let done = self.subtasks.iter().filter(|s| s.status == TaskStatus::Success).count();
            (i64::try_from(done).unwrap_or(0), i64::try_from(self.subtasks.len()).unwrap_or(0))
        };
        if self.status == TaskStatus::Success {
            return 100;
        }
        if total == 0 {
            return 0;
        }
        u8::try_from((done * 100 / total).clamp(0, 100)).unwrap_or(100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_keep_the_original_retry_schedule() {
        assert_eq!(Queue::PveVmClone.retry_intervals_secs(), [10, 30, 60]);
        assert_eq!(Queue::Mails.retry_intervals_secs(), [30, 60, 120]);
        assert_eq!(Queue::PveVmActions.max_attempts(5), 6);
        assert_eq!(Queue::CorePeriodic.max_attempts(5), 3);
        for q in Queue::ALL {
            assert_eq!(Queue::from_key(q.key()), Some(q));
        }
    }
}
