//! The provisioning engine: turns a plan (the VMs an event needs) into VMs on
//! the cluster and removes them again, drives one VM's power, and compares
//! what was recorded with what the cluster holds.
//!
//! It knows nothing of events or participants: its input is a [`Plan`] and an
//! owner key (e.g. `event-42`), and it reports every VM's progress through a
//! [`ProvisioningRecorder`] that the caller implements to persist it and show
//! it live. Callers authorise before they call (the engine runs inside jobs,
//! where there is no acting user).
//!
//! Every entry point is idempotent: VMs are found again by their name (and
//! the owner's tag), so a re-run creates nothing twice and a decommission
//! that was interrupted finishes the job.

mod engine;
pub mod names;
mod placement;

use std::sync::Arc;

use async_trait::async_trait;
use domain::AppError;
use serde::{Deserialize, Serialize};

pub use engine::{ClonePacer, DeploymentReport, Hiccups, Provisioner, ProvisioningConfig, VmOutcome};
pub use placement::{CapacityReport, NodeCapacity};

use crate::Services;
use crate::cluster::{PowerOp, VmError};
use crate::ports::StoreError;

/// What [`Services`] needs to build a [`Provisioner`] for a job.
#[derive(Clone)]
pub struct ProvisioningSetup {
    recorder: Arc<dyn ProvisioningRecorder>,
    config: ProvisioningConfig,
    /// Shared by every job of the process (clone slots, VMID hint).
    pacer: Arc<ClonePacer>,
}

impl Services {
    /// Enables the provisioning jobs; `recorder` persists their results.
    pub fn with_provisioning(
        mut self,
        recorder: Arc<dyn ProvisioningRecorder>,
        config: ProvisioningConfig,
    ) -> Services {
        self.provisioning = Some(ProvisioningSetup { recorder, config, pacer: Arc::default() });
        self
    }

    /// A provisioner on the cluster in use. For jobs and use cases that
    /// have authorised their caller already.
    pub async fn provisioner(&self) -> Result<Provisioner, AppError> {
        let setup = self.provisioning.as_ref().ok_or_else(|| AppError::conflict("provisioning_not_configured"))?;
        let cluster = self.current_cluster().await?;
        Ok(Provisioner::new(cluster, setup.recorder.clone(), setup.config.clone(), setup.pacer.clone()))
    }
}

/// A template VM on the cluster to clone from.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TemplateRef {
    pub vmid: u32,
    /// Where the template was seen; the engine follows it if it moved.
    pub node: String,
}

/// One VM the plan wants.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedVm {
    /// The caller's stable key for this VM (e.g. `p12/t3/1`), echoed in
    /// every progress update; unique within a plan.
    pub key: String,
    /// The name is `<shortname>-<username>-<template_name>` (see [`names`]).
    pub shortname: String,
    pub username: String,
    pub template_name: String,
    /// 1 for the first VM of this template for this user; `N > 1` adds `-N`.
    #[serde(default = "first_copy")]
    pub copy: u32,
    pub source: TemplateRef,
    /// Clone linked (fast, shares the template's disk) when the template allows.
    pub linked_clone: bool,
    pub memory_mib: u64,
    pub cores: u32,
    /// Extra Proxmox tags (sanitised); the owner's tag is always added.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The VM's description (Markdown) as Proxmox shows it.
    #[serde(default)]
    pub description: String,
}

fn first_copy() -> u32 {
    1
}

/// What resetting a VM to its template needs: its name (as deployed) and
/// its plan entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResetTarget {
    pub name: String,
    pub vm: PlannedVm,
}

/// Where a VM is in its life as the engine sees it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VmStage {
    Cloning,
    Configuring,
    Starting,
    WaitingForIp,
    /// Running (with an address when the guest agent gave one).
    Ready,
    /// Gave up; the message says why, in Proxmox's words where it has some.
    Failed,
    /// No node had room, and a partial deployment was confirmed.
    Unplaced,
    Stopping,
    Deleting,
    /// Gone from the cluster (or never there).
    Deleted,
}

/// One progress report about one planned VM.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmProgress {
    /// [`PlannedVm::key`]; empty for a VM of the owner that no plan entry
    /// names any more (found by its tag while decommissioning).
    pub key: String,
    pub name: String,
    pub stage: VmStage,
    pub vmid: Option<u32>,
    pub node: Option<String>,
    pub ip: Option<String>,
    pub message: Option<String>,
}

/// A VM as the caller recorded it, for [`Provisioner::reconcile`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedVm {
    pub key: String,
    pub name: String,
    pub vmid: Option<u32>,
    pub node: Option<String>,
    /// What the record says: `running`, `stopped`, ... (`None`: unknown).
    pub status: Option<String>,
    /// The recorded address (what Guacamole's connections point at).
    pub ip: Option<String>,
}

/// A difference between the records and the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Drift {
    /// Recorded with a VMID the cluster does not have (deleted by hand?).
    Missing { key: String, vmid: u32 },
    /// Runs on another node than recorded (migrated).
    Moved { key: String, vmid: u32, recorded: Option<String>, actual: String },
    /// Another power state than recorded.
    Status { key: String, vmid: u32, recorded: Option<String>, actual: String },
    /// A running VM's guest agent reports another address than recorded
    /// (a new DHCP lease, a changed network).
    Address { key: String, vmid: u32, recorded: Option<String>, actual: String },
    /// Recorded without a VMID, but a VM of that name exists.
    Found { key: String, vmid: u32, node: String, status: String },
    /// Carries the owner's tag but no record names it.
    Unrecorded { vmid: u32, name: String, node: String },
}

/// Where provisioning results go: implemented by the classroom store.
/// Calls may repeat (jobs are at least once; re-runs report again), so
/// implementations write the latest state rather than append.
#[async_trait]
pub trait ProvisioningRecorder: Send + Sync {
    async fn progress(&self, owner: &str, update: &VmProgress) -> Result<(), StoreError>;
    /// The VMs recorded for `owner`, for reconciling.
    async fn recorded(&self, owner: &str) -> Result<Vec<RecordedVm>, StoreError>;
    /// Drift a reconcile pass found; the implementation fixes its records.
    async fn drift(&self, owner: &str, drift: &[Drift]) -> Result<(), StoreError>;
}

/// Why a provisioning call failed as a whole (single VMs fail in reports).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProvisionError {
    #[error("the plan is not valid: {message}")]
    InvalidPlan { message: String },
    /// Refused before anything was created.
    #[error("{report}")]
    InsufficientCapacity { report: CapacityReport },
    #[error("Proxmox VE: {0}")]
    Cluster(VmError),
    #[error("VM {vmid} is not in the OpenVLE pool")]
    VmNotFound { vmid: u32 },
    #[error("VM {vmid} does not belong to {owner}")]
    NotOwned { vmid: u32, owner: String },
    #[error("VM {vmid} is locked by another task ({message}); try again when it has finished")]
    VmLocked { vmid: u32, message: String },
    #[error("node {node} is offline; VM {vmid} cannot be reached until it is back")]
    NodeOffline { vmid: u32, node: String },
    #[error("{action} of VM {vmid} failed: {message}")]
    ActionFailed { vmid: u32, action: String, message: String },
    #[error("these VMs are still on the cluster: {}", .remaining.join(", "))]
    Leftover { remaining: Vec<String> },
    #[error("recording the results failed: {message}")]
    Recording { message: String },
}

impl ProvisionError {
    /// Whether running the same call again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            ProvisionError::Cluster(e) => e.is_retryable() || matches!(e, VmError::NodeOffline { .. }),
            ProvisionError::VmLocked { .. }
            | ProvisionError::NodeOffline { .. }
            | ProvisionError::Leftover { .. }
            | ProvisionError::Recording { .. } => true,
            _ => false,
        }
    }
}

/// Power actions a user can ask for on one VM.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VmAction {
    Start,
    Shutdown,
    Stop,
    Reboot,
    Pause,
    Resume,
    /// Throws the VM away and clones it afresh from its template.
    ResetToTemplate,
}

impl VmAction {
    /// The Proxmox operation, for all but the reset to template.
    pub fn power_op(self) -> Option<PowerOp> {
        match self {
            VmAction::Start => Some(PowerOp::Start),
            VmAction::Shutdown => Some(PowerOp::Shutdown),
            VmAction::Stop => Some(PowerOp::Stop),
            VmAction::Reboot => Some(PowerOp::Reboot),
            VmAction::Pause => Some(PowerOp::Suspend),
            VmAction::Resume => Some(PowerOp::Resume),
            VmAction::ResetToTemplate => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            VmAction::Start => "start",
            VmAction::Shutdown => "shutdown",
            VmAction::Stop => "stop",
            VmAction::Reboot => "reboot",
            VmAction::Pause => "pause",
            VmAction::Resume => "resume",
            VmAction::ResetToTemplate => "reset_to_template",
        }
    }

    pub const ALL: [VmAction; 7] = [
        VmAction::Start,
        VmAction::Shutdown,
        VmAction::Stop,
        VmAction::Reboot,
        VmAction::Pause,
        VmAction::Resume,
        VmAction::ResetToTemplate,
    ];

    pub fn parse(key: &str) -> Option<VmAction> {
        VmAction::ALL.into_iter().find(|a| a.key() == key)
    }

    /// Loses the guest's unsaved work (power off) or its disk (reset): asks for confirmation first.
    pub fn is_destructive(self) -> bool {
        matches!(self, VmAction::Stop | VmAction::ResetToTemplate)
    }
}
