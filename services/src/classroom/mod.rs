//! The classroom use cases: VM templates, environments, events with their
//! participants, and the VMs deployed for them.
//!
//! Each state change is one public method (so the activity log can record it
//! in one place). Authorization: templates and environments by grants; events
//! and VMs by grants or membership ([`domain::classroom::can_on_event`],
//! [`domain::classroom::can_on_vm`]).
//!
//! The provisioning engine reads its input with [`Services::deployment_plan`],
//! moves the event with [`Services::move_event`] and records VMs with
//! [`Services::record_planned_vms`], [`Services::record_vm_state`] and
//! [`Services::forget_vm`] (one method per state change, for the activity log).

pub mod console;
pub mod deployment;
pub mod environments;
pub mod events;
pub mod ports;
pub mod templates;
pub mod vms;

use domain::AppError;
use domain::classroom::{EventStatus, EventView};

use crate::Services;
use ports::SnapshotTemplate;

/// What to deploy for an event: its snapshot of the environment and one
/// entry per VM every participant should have. Read by the provisioning engine.
#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentPlan {
    pub event: EventView,
    pub templates: Vec<SnapshotTemplate>,
    pub vms: Vec<PlannedVm>,
}

/// One VM a participant should have: `ordinal` counts 1..=count of its template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedVm {
    pub owner_id: i64,
    pub username: String,
    pub template_id: i64,
    pub ordinal: u32,
}

impl Services {
    /// The plan of an event whose deployment has begun (for jobs; no actor:
    /// the job was authorized when it was queued). Computed from the snapshot
    /// and the current participants, so participants added later are planned
    /// on the next run and nothing is planned twice.
    pub async fn deployment_plan(&self, event_id: i64) -> Result<DeploymentPlan, AppError> {
        // Viewer 0 is nobody: `my_role` stays empty.
        let event = self.ports.events.by_id(event_id, 0).await?.ok_or(AppError::NotFound)?;
        if !event.status.has_snapshot() {
            return Err(AppError::conflict("event_not_deployed"));
        }
        let templates = self.ports.events.snapshot(event_id).await?;
        let participants = self.ports.events.participants(event_id).await?;
        let mut vms = Vec::new();
        for participant in &participants {
            for template in &templates {
                for ordinal in 1..=template.count {
                    vms.push(PlannedVm {
                        owner_id: participant.user_id,
                        username: participant.username.clone(),
                        template_id: template.template_id,
                        ordinal,
                    });
                }
            }
        }
        Ok(DeploymentPlan { event, templates, vms })
    }

    /// Moves an event along its lifecycle (for jobs and the scheduler). Refuses
    /// moves the state machine does not allow; `Ok(false)` when another process
    /// moved it first. `planned` → `deploying` takes the environment snapshot.
    pub async fn move_event(
        &self,
        event_id: i64,
        from: EventStatus,
        to: EventStatus,
        failure_reason: Option<&str>,
    ) -> Result<bool, AppError> {
        if !from.can_move_to(to) {
            return Err(AppError::conflict("event_status_move"));
        }
        if (from, to) == (EventStatus::Planned, EventStatus::Deploying) {
            return Ok(self.ports.events.begin_deployment(event_id).await?);
        }
        let reason = if to == EventStatus::Failed { failure_reason } else { None };
        Ok(self.ports.events.set_status(event_id, from, to, reason).await?)
    }
}
