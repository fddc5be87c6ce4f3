//! What the admin Health page shows: the system's own view of itself.

use serde::{Deserialize, Serialize};

use crate::activity::ActivityHealth;

/// One dependency of this process and whether it answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    /// `database`, `migrations`, `redis`, `mongodb`, `proxmox`.
    pub name: String,
    /// `ok`, `not configured`, or what went wrong (`unreachable: ...`).
    pub status: String,
}

impl Dependency {
    pub fn is_ok(&self) -> bool {
        self.status == "ok" || self.status.starts_with("ok ")
    }
}

/// Tasks by state, across every queue.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCounts {
    pub queued: u64,
    pub running: u64,
    pub failed: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SystemHealth {
    pub dependencies: Vec<Dependency>,
    /// Where activities are kept and the outbox backlog.
    pub activities: ActivityHealth,
    /// The last error of this process's activity forwarder, until it succeeds again.
    pub forwarding_error: Option<String>,
    pub tasks: TaskCounts,
    /// The process that leads the schedulers now (none: no scheduler runs).
    pub scheduler_leader: Option<String>,
}
