//! The admin Health page: what the system knows about itself, read-only.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use domain::access::ObjectType;
use domain::cluster::ClusterProblem;
use domain::health::{Dependency, SystemHealth, TaskCounts};
use domain::page::PageRequest;
use domain::task::TaskStatus;
use domain::{Action, Actor, AppError, Target};

use crate::jobs::TaskFilter;
use crate::{Services, authorize};

/// Checks the process's connections (database, Redis, MongoDB, Proxmox VE):
/// the server holds them, so it provides the check.
#[async_trait]
pub trait DependencyProbe: Send + Sync {
    async fn check(&self) -> Vec<Dependency>;
}

/// The activity forwarder's last error in this process (`None` once it works again).
#[derive(Clone, Default)]
pub struct ForwardingStatus(Arc<Mutex<Option<String>>>);

impl ForwardingStatus {
    pub fn set(&self, error: Option<String>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = error;
    }

    pub fn last_error(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Services {
    /// The Proxmox VE cluster in use, through the client the pages use (the
    /// saved connection, else the environment's): `ok (Proxmox VE x.y)`,
    /// `not configured`, or what is wrong.
    pub async fn cluster_status(&self) -> Dependency {
        let status = match self.current_cluster().await {
            Err(AppError::Cluster { problem: ClusterProblem::NotConfigured }) => "not configured".to_string(),
            Err(AppError::Cluster { problem }) => format!("unusable: {problem}"),
            Err(e) => format!("unknown: {e}"),
            Ok(cluster) => match cluster.version().await {
                Ok(v) => format!("ok (Proxmox VE {})", v.version),
                Err(problem) => format!("unreachable: {problem}"),
            },
        };
        Dependency { name: "proxmox".into(), status }
    }

    /// Reports dependencies through `probe` on the Health page.
    pub fn with_probe(mut self, probe: Arc<dyn DependencyProbe>) -> Services {
        self.probe = Some(probe);
        self
    }

    /// Administrators (readers of settings and activities): the Health page.
    pub async fn system_health(&self, actor: &Actor) -> Result<SystemHealth, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Setting))?;
        let activities = self.activity_health(actor).await?;
        let mut dependencies = match &self.probe {
            Some(probe) => probe.check().await,
            None => Vec::new(),
        };
        dependencies.push(self.cluster_status().await);
        let count = |status: TaskStatus| async move {
            let filter = TaskFilter { status: Some(status), ..TaskFilter::default() };
            self.ports.tasks.list(&filter, PageRequest::new(Some(1), Some(1))).await.map(|page| page.total)
        };
        let tasks = TaskCounts {
            queued: count(TaskStatus::Queued).await?,
            running: count(TaskStatus::Running).await?,
            failed: count(TaskStatus::Failed).await?,
        };
        let scheduler_leader = self.ports.leases.holder(crate::jobs::scheduler::LEASE_NAME).await?;
        Ok(SystemHealth {
            dependencies,
            activities,
            forwarding_error: self.forwarding.last_error(),
            tasks,
            scheduler_leader,
        })
    }
}
