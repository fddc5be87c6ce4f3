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

pub mod connection_templates;
pub mod console;
pub mod deployment;
mod drift;
pub mod environments;
mod event_mails;
pub mod events;
pub mod guacamole;
mod overlaps;
pub mod ports;
mod recovery;
pub mod templates;
pub mod vms;

use domain::AppError;
use domain::activity::{Activity, ActivityTarget, ActorKind, Outcome};
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

    /// Moves an event along its lifecycle (for jobs: recorded as `event.status`
    /// by `system`). Refuses moves the state machine does not allow;
    /// `Ok(false)` when another process moved it first (nothing recorded).
    /// `planned` → `deploying` takes the environment snapshot.
    pub async fn move_event(
        &self,
        event_id: i64,
        from: EventStatus,
        to: EventStatus,
        failure_reason: Option<&str>,
    ) -> Result<bool, AppError> {
        let activity = self.status_activity(ActorKind::System, event_id, from, to, failure_reason).await?;
        self.move_event_recorded(event_id, from, to, failure_reason, &activity).await
    }

    /// `event.status` by the product (`System`: a job; `Scheduler`: the
    /// schedule); a move to `failed` is a failed outcome with the message.
    pub(crate) async fn status_activity(
        &self,
        kind: ActorKind,
        event_id: i64,
        from: EventStatus,
        to: EventStatus,
        failure_reason: Option<&str>,
    ) -> Result<Activity, AppError> {
        let name = self.ports.events.by_id(event_id, 0).await?.map(|e| e.name).unwrap_or_default();
        let mut activity = self.system_activity(kind, "event.status", ActivityTarget::new("events", event_id, &name));
        activity.event_id = Some(event_id);
        activity.details = serde_json::json!({ "from": from.key(), "to": to.key() });
        if to == EventStatus::Failed {
            activity.outcome = Outcome::Failed;
            activity.reason = Some("event_failed".into());
            activity.details["message"] = failure_reason.unwrap_or_default().into();
        }
        Ok(activity)
    }

    /// [`Services::move_event`] recorded as `activity` (written only when the move is made).
    pub(crate) async fn move_event_recorded(
        &self,
        event_id: i64,
        from: EventStatus,
        to: EventStatus,
        failure_reason: Option<&str>,
        activity: &Activity,
    ) -> Result<bool, AppError> {
        if !from.can_move_to(to) {
            return Err(AppError::conflict("event_status_move"));
        }
        if (from, to) == (EventStatus::Planned, EventStatus::Deploying) {
            return Ok(self.ports.events.begin_deployment(event_id, Some(activity)).await?);
        }
        let reason = if to == EventStatus::Failed { failure_reason } else { None };
        let moved = self.ports.events.set_status(event_id, from, to, reason, Some(activity)).await?;
        if moved && to == EventStatus::Ending {
            // Deactivation: the sync revokes the participants' READ, whoever
            // made the move (the schedule's round, a job, an administrator).
            self.queue_connection_sync(event_id).await?;
        }
        Ok(moved)
    }
}
