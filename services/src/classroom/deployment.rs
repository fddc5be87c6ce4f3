//! Deploying and ending events, and power actions on their VMs: the bridge
//! between the classroom (events, participants, VM records) and the
//! provisioning engine ([`crate::provisioning`]), which knows only plans and
//! owners. The engine's owner for an event is `event-<id>` and its key for a
//! VM is the VM record's id, so the store's recorder
//! (`store::VmRecorder`) writes progress straight into the VM records.
//!
//! Each state change is one method: `deploy_event`, `end_event`,
//! `vm_action` (acting user first), and for jobs `run_event_deployment`,
//! `run_event_decommission` and `schedule_events` (no acting user: the job
//! was authorised when it was queued, or the schedule is the actor).

use std::collections::HashMap;

use domain::activity::{ActivityTarget, ActorKind};
use domain::classroom::{EventStatus, EventView, VmFacts, VmState, VmView, can_on_vm};
use domain::mail::MailAction;
use domain::{Action, Actor, AppError};

use super::event_mails::Recipients;
use super::ports::{NewVm, Replanning, VmUpdate};
use crate::Services;
use crate::jobs::worker::StepError;
use crate::jobs::{Job, Requester};
use crate::provisioning::{self, PlannedVm, ProvisionError, ResetTarget, TemplateRef, VmAction, VmStage};

/// The provisioning owner of an event's VMs (its VMs carry the tag `openvle-event-<id>`).
pub fn event_owner(event_id: i64) -> String {
    format!("event-{event_id}")
}

/// The event an owner key names, if it names one.
pub fn event_of_owner(owner: &str) -> Option<i64> {
    owner.strip_prefix("event-")?.parse().ok()
}

/// How often the scheduler compares an active event's VMs with the cluster.
const RECONCILE_EVERY_SECS: i64 = 300;
const TRANSITION_PERIOD_HOURS: &str = "events.transition_period_hours";
/// How long before an event's start ("starting") and end ("ending soon")
/// its participants are mailed.
const NOTICE_AHEAD_SECS: i64 = 3600;
/// Events per page of the scheduler's round.
const SCHEDULE_BATCH: u32 = 200;

/// What a power action did, for the page to say so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionOutcome {
    /// Done; the VM's record shows its new state.
    Done(VmState),
    /// Queued as a task (resetting to the template clones afresh).
    Queued(i64),
}

fn retry(e: impl std::fmt::Display) -> StepError {
    StepError::retryable(e.to_string())
}

/// A provisioning error as the user sees it: specific where it can be.
fn user_error(e: ProvisionError) -> AppError {
    match e {
        ProvisionError::VmNotFound { .. } | ProvisionError::NotOwned { .. } => AppError::conflict("vm_not_on_cluster"),
        ProvisionError::VmLocked { .. } => AppError::conflict("vm_locked"),
        ProvisionError::NodeOffline { .. } => AppError::conflict("node_offline"),
        other => {
            tracing::warn!(error = %other, "VM action failed");
            AppError::conflict("vm_action_failed")
        }
    }
}

impl Services {
    /// "Deploy now": moves the event to `deploying` (taking the snapshot
    /// when it was planned) and queues its deployment. From `running` it adds
    /// VMs for participants added since; from `failed` it retries, and
    /// `allow_partial` deploys what fits when capacity is short (the
    /// instructor confirmed after seeing the per-node shortfall).
    pub async fn deploy_event(&self, actor: &Actor, event_id: i64, allow_partial: bool) -> Result<i64, AppError> {
        let event = self.event_for(actor, event_id, Action::Update).await?;
        match event.status {
            EventStatus::Planned | EventStatus::Failed | EventStatus::Running => {}
            EventStatus::Deploying => return Err(AppError::conflict("event_deploying")),
            _ => return Err(AppError::conflict("event_not_deployable")),
        }
        // The snapshot is taken now: an environment without templates would
        // give nobody a VM, and the event could not change it afterwards.
        if event.status == EventStatus::Planned {
            let environment = self.ports.environments.by_id(event.environment_id).await?;
            if environment.is_none_or(|e| e.templates.is_empty()) {
                return Err(AppError::conflict("environment_empty"));
            }
        }
        let mut activity =
            self.event_activity(actor, "event.deploy", ActivityTarget::new("events", event_id, &event.name), event_id);
        activity.details = serde_json::json!({ "from": event.status.key(), "allow_partial": allow_partial });
        if !self.move_event_recorded(event_id, event.status, EventStatus::Deploying, None, &activity).await? {
            return Err(AppError::conflict("event_status_changed"));
        }
        let requester =
            Requester { actor: Some(actor), event_id: Some(event_id), parent_id: None, idempotency_key: None };
        // Part of the change recorded with the move.
        self.enqueue_recorded(&Job::DeployEvent { event_id, allow_partial }, requester, None)
            .await?
            .ok_or_else(|| AppError::conflict("duplicate"))
    }

    /// "End now": moves the event to `decommissioning` and queues the
    /// removal of its VMs; it is `finished` once none is left.
    pub async fn end_event(&self, actor: &Actor, event_id: i64) -> Result<i64, AppError> {
        let event = self.event_for(actor, event_id, Action::Update).await?;
        match event.status {
            EventStatus::Running | EventStatus::Ending | EventStatus::Failed => {}
            EventStatus::Deploying => return Err(AppError::conflict("event_deploying")),
            EventStatus::Decommissioning => return Err(AppError::conflict("event_ending")),
            EventStatus::Planned | EventStatus::Finished => return Err(AppError::conflict("event_not_deployed")),
        }
        let mut activity =
            self.event_activity(actor, "event.end", ActivityTarget::new("events", event_id, &event.name), event_id);
        activity.details = serde_json::json!({ "from": event.status.key() });
        if !self.move_event_recorded(event_id, event.status, EventStatus::Decommissioning, None, &activity).await? {
            return Err(AppError::conflict("event_status_changed"));
        }
        let requester =
            Requester { actor: Some(actor), event_id: Some(event_id), parent_id: None, idempotency_key: None };
        // Part of the change recorded with the move.
        self.enqueue_recorded(&Job::DecommissionEvent { event_id }, requester, None)
            .await?
            .ok_or_else(|| AppError::conflict("duplicate"))
    }

    /// "Back to planning": a failed event of which nothing was created on the
    /// cluster (a capacity refusal, say) becomes planned again, so its
    /// environment, dates and participants can change before the next
    /// deployment takes a new snapshot. The cluster is asked first, so a VM
    /// it has for the event (even one never recorded) keeps the event failed:
    /// ending it removes such VMs.
    pub async fn return_to_planning(&self, actor: &Actor, event_id: i64) -> Result<(), AppError> {
        let event = self.event_for(actor, event_id, Action::Update).await?;
        if event.status != EventStatus::Failed {
            return Err(AppError::conflict("event_not_failed"));
        }
        let engine = self.provisioner().await?;
        // Fixes the records first: a VM found by name gets its vmid recorded.
        let drift = engine.reconcile(&event_owner(event_id)).await.map_err(|e| {
            tracing::warn!(event_id, error = %e, "the cluster could not be compared with the event");
            AppError::conflict("cluster_not_asked")
        })?;
        if drift.iter().any(|d| matches!(d, provisioning::Drift::Unrecorded { .. })) {
            return Err(AppError::conflict("event_has_vms"));
        }
        let mut activity = self.event_activity(
            actor,
            "event.return_to_planning",
            ActivityTarget::new("events", event_id, &event.name),
            event_id,
        );
        activity.details = serde_json::json!({ "failure_reason": event.failure_reason });
        match self.ports.events.return_to_planning(event_id, Some(&activity)).await? {
            Replanning::Done => Ok(()),
            Replanning::NotFailed => Err(AppError::conflict("event_status_changed")),
            Replanning::HasVms => Err(AppError::conflict("event_has_vms")),
        }
    }

    /// A power action on one VM by its owner, the event's instructors or an
    /// administrator. Power actions run at once and answer the new state;
    /// resetting to the template is queued (it clones afresh).
    pub async fn vm_action(&self, actor: &Actor, vm_id: i64, action: VmAction) -> Result<ActionOutcome, AppError> {
        let vm = self.get_vm(actor, vm_id).await?;
        let role = self.ports.events.role_of(vm.event_id, actor.user_id).await?;
        let facts = VmFacts { vm_id: vm.id, owner_id: vm.owner_id, event_id: vm.event_id };
        if !can_on_vm(actor, Action::Control, facts, role) {
            return Err(AppError::Forbidden);
        }
        let event = self.ports.events.by_id(vm.event_id, actor.user_id).await?.ok_or(AppError::NotFound)?;
        if !matches!(event.status, EventStatus::Running | EventStatus::Ending | EventStatus::Failed) {
            return Err(AppError::conflict("event_not_running"));
        }
        let vmid = vm.vmid.ok_or_else(|| AppError::conflict("vm_not_on_cluster"))?;
        let owner = event_owner(vm.event_id);
        let target = ActivityTarget::new("vms", vm.id, &vm.name);
        let mut activity = self.event_activity(actor, &format!("vm.{}", action.key()), target, vm.event_id);
        if action == VmAction::ResetToTemplate {
            let reset = self.reset_target(&vm).await?;
            let job = Job::VmAction { owner, vmid, action, reset: Some(Box::new(reset)) };
            let requester =
                Requester { actor: Some(actor), event_id: Some(vm.event_id), parent_id: None, idempotency_key: None };
            // The request is the change: recorded with its task.
            let task = self
                .enqueue_recorded(&job, requester, Some(&activity))
                .await?
                .ok_or_else(|| AppError::conflict("duplicate"))?;
            return Ok(ActionOutcome::Queued(task));
        }
        let engine = self.provisioner().await?;
        let guest = engine.power(&owner, vmid, action).await.map_err(user_error)?;
        // Proxmox's bulk state shows a paused VM as running: the action says more.
        let state = match (action, guest.status.as_str()) {
            (VmAction::Pause, _) => VmState::Paused,
            (_, "stopped") => VmState::Stopped,
            (VmAction::Shutdown | VmAction::Stop, _) => VmState::Stopped,
            _ => VmState::Running,
        };
        let ip = if state == VmState::Stopped { None } else { vm.ip.clone() };
        let update = VmUpdate { vmid: Some(vmid), node: Some(guest.node), state, ip, last_error: None };
        activity.details = serde_json::json!({ "state": state.key() });
        self.ports.vms.update(vm.id, &update, self.clock.now(), Some(&activity)).await?;
        Ok(ActionOutcome::Done(state))
    }

    /// What resetting a VM to its template clones: its plan entry as the
    /// event's snapshot has it.
    async fn reset_target(&self, vm: &VmView) -> Result<ResetTarget, AppError> {
        let plan = self.provisioning_plan(vm.event_id).await?;
        let key = vm.id.to_string();
        let entry = plan.into_iter().find(|p| p.key == key).ok_or_else(|| AppError::conflict("vm_not_planned"))?;
        Ok(ResetTarget { name: vm.name.clone(), vm: entry })
    }

    /// The engine's plan for an event: its snapshot × its current
    /// participants, each VM keyed by its record (recorded here, once).
    async fn provisioning_plan(&self, event_id: i64) -> Result<Vec<PlannedVm>, AppError> {
        let plan = self.deployment_plan(event_id).await?;
        let templates: HashMap<i64, _> = plan.templates.iter().map(|t| (t.template_id, t)).collect();
        let template_ids: Vec<i64> = templates.keys().copied().collect();
        let template_tags = self.template_proxmox_tags(&template_ids).await?;
        let mut entries = Vec::with_capacity(plan.vms.len());
        for vm in &plan.vms {
            let template = templates.get(&vm.template_id).ok_or(AppError::NotFound)?;
            entries.push(PlannedVm {
                key: format!("{}/{}/{}", vm.owner_id, vm.template_id, vm.ordinal),
                shortname: plan.event.short_name.clone(),
                username: vm.username.clone(),
                template_name: template.name.clone(),
                copy: vm.ordinal,
                source: TemplateRef { vmid: template.proxmox_vmid, node: template.node.clone() },
                linked_clone: template.linked_clone,
                memory_mib: u64::from(template.memory_mib),
                cores: template.cores,
                tags: template_tags.get(&vm.template_id).cloned().unwrap_or_default(),
                description: format!("OpenVLE: {} ({}) for {}", plan.event.name, plan.event.short_name, vm.username),
            });
        }
        let names = provisioning::names::assign(&entries).map_err(|e| {
            tracing::warn!(event_id, error = %e, "no VM names for the event");
            AppError::conflict("vm_names")
        })?;
        let new: Vec<NewVm> = plan
            .vms
            .iter()
            .zip(&names)
            .map(|(vm, name)| NewVm {
                event_id,
                owner_id: vm.owner_id,
                template_id: vm.template_id,
                ordinal: vm.ordinal,
                name: name.clone(),
            })
            .collect();
        let before = self.record_planned_vms(event_id, &[]).await?;
        let records = self.record_planned_vms(event_id, &new).await?;
        self.inherit_template_tags(&before, &records).await?;
        let ids: HashMap<String, i64> =
            records.iter().map(|r| (format!("{}/{}/{}", r.owner_id, r.template_id, r.ordinal), r.id)).collect();
        for entry in &mut entries {
            let id = ids.get(&entry.key).ok_or(AppError::NotFound)?;
            entry.key = id.to_string();
        }
        Ok(entries)
    }

    /// The `DeployEvent` job: deploys what the event's plan is missing and
    /// moves the event to `running`, or to `failed` with the reason once no
    /// retry is left (at once for a capacity refusal, which needs the
    /// instructor's decision). The mails announcing either are queued first
    /// (see [`super::event_mails`]); `task_id` keys the failure mails.
    pub(crate) async fn run_event_deployment(
        &self,
        task_id: i64,
        event_id: i64,
        allow_partial: bool,
        last_attempt: bool,
    ) -> Result<(), StepError> {
        let Some(event) = self.ports.events.by_id(event_id, 0).await.map_err(retry)? else {
            return Ok(());
        };
        if event.status != EventStatus::Deploying {
            // Ended meanwhile, or a twin of this job finished it.
            return Ok(());
        }
        let failure = match (self.provisioning_plan(event_id).await, self.provisioner().await) {
            (Ok(plan), Ok(engine)) => {
                let deployed = engine.deploy(&event_owner(event_id), &plan, allow_partial).await;
                // Whatever came up gets its connections now, independently of the VMs that failed.
                if deployed.is_ok() {
                    self.queue_connection_sync(event_id).await.map_err(retry)?;
                }
                match deployed {
                    Err(e @ ProvisionError::InsufficientCapacity { .. }) => Some((e.to_string(), false)),
                    Err(e) => Some((e.to_string(), e.is_retryable())),
                    Ok(report) => {
                        let failed: Vec<_> = report.vms.iter().filter(|v| v.last.stage == VmStage::Failed).collect();
                        failed.first().map(|first| {
                            let message = format!(
                                "{} of {} VMs failed; first {}: {}",
                                failed.len(),
                                plan.len(),
                                first.last.name,
                                first.last.message.as_deref().unwrap_or("unknown error")
                            );
                            (message, failed.iter().any(|v| v.retryable))
                        })
                    }
                }
            }
            (Err(e), _) | (_, Err(e)) => Some((e.to_string(), true)),
        };
        match &failure {
            None => {
                let occasion = format!("event-{event_id}");
                // The event's admins hear that the event is ready; students
                // that their own machines are.
                self.mail_event(MailAction::EventDeployed, &event, Recipients::EventAdmins, &occasion, None)
                    .await
                    .map_err(retry)?;
                self.mail_event(MailAction::VmsReady, &event, Recipients::Students, &occasion, None)
                    .await
                    .map_err(retry)?;
            }
            Some((message, retryable)) if !retryable || last_attempt => {
                let occasion = format!("task-{task_id}");
                self.mail_event(
                    MailAction::EventDeploymentFailed,
                    &event,
                    Recipients::EventAdmins,
                    &occasion,
                    Some(message),
                )
                .await
                .map_err(retry)?;
            }
            Some(_) => {}
        }
        self.settle(event_id, EventStatus::Deploying, EventStatus::Running, failure, last_attempt).await
    }

    /// Ends a deployment or decommission step: on success the event moves
    /// on to `done`; a failure (message, retryable) is retried while
    /// attempts are left, else the event is `failed` with the message.
    async fn settle(
        &self,
        event_id: i64,
        from: EventStatus,
        done: EventStatus,
        failure: Option<(String, bool)>,
        last_attempt: bool,
    ) -> Result<(), StepError> {
        match failure {
            None => {
                self.move_event(event_id, from, done, None).await.map_err(retry)?;
                Ok(())
            }
            Some((message, true)) if !last_attempt => Err(StepError::retryable(message)),
            Some((message, _)) => {
                self.move_event(event_id, from, EventStatus::Failed, Some(&message)).await.map_err(retry)?;
                Err(StepError::permanent(message))
            }
        }
    }

    /// The `DecommissionEvent` job: stops and deletes every VM of the event
    /// (also ones no record names, found by the event's tag), forgets the
    /// records and moves the event to `finished`; `failed` with what is left
    /// once no retry is left. Participants are told it began, event admins
    /// when it failed for good (`task_id` keys that mail).
    pub(crate) async fn run_event_decommission(
        &self,
        task_id: i64,
        event_id: i64,
        last_attempt: bool,
    ) -> Result<(), StepError> {
        let Some(event) = self.ports.events.by_id(event_id, 0).await.map_err(retry)? else {
            return Ok(());
        };
        if event.status != EventStatus::Decommissioning {
            return Ok(());
        }
        let occasion = format!("event-{event_id}");
        self.mail_event(MailAction::EventDecommissionStarted, &event, Recipients::Everyone, &occasion, None)
            .await
            .map_err(retry)?;
        let (from, done) = (EventStatus::Decommissioning, EventStatus::Finished);
        let failure = match (self.provisioning_plan(event_id).await, self.provisioner().await) {
            (Ok(plan), Ok(engine)) => match engine.decommission(&event_owner(event_id), &plan).await {
                Ok(_) => {
                    // Nothing of the event is on the cluster any more: forget its VMs.
                    for vm in self.record_planned_vms(event_id, &[]).await.map_err(retry)? {
                        self.forget_vm(vm.id).await.map_err(retry)?;
                    }
                    None
                }
                Err(e) => Some((e.to_string(), e.is_retryable())),
            },
            (Err(e), _) | (_, Err(e)) => Some((e.to_string(), true)),
        };
        if let Some((message, retryable)) = &failure
            && (!retryable || last_attempt)
        {
            let occasion = format!("task-{task_id}");
            self.mail_event(
                MailAction::EventDecommissionFailed,
                &event,
                Recipients::EventAdmins,
                &occasion,
                Some(message),
            )
            .await
            .map_err(retry)?;
        }
        self.settle(event_id, from, done, failure, last_attempt).await
    }

    /// The scheduler's notices: "starting" within [`NOTICE_AHEAD_SECS`]
    /// before a planned event's start (not for an event whose start passed
    /// long ago: it was created late, and "deployed" follows at once), and
    /// "ending soon" within that time before a running event's end. Once per
    /// event and person (the keys); queued before the round moves the event.
    async fn announce_soon(&self, event: &EventView, now: domain::time::Timestamp) -> Result<(), AppError> {
        let occasion = format!("event-{}", event.id);
        let near = |at: domain::time::Timestamp| at.plus_secs(-NOTICE_AHEAD_SECS) <= now;
        match event.status {
            EventStatus::Planned if near(event.starts_at) && now <= event.starts_at.plus_secs(NOTICE_AHEAD_SECS) => {
                self.mail_event(MailAction::EventStarting, event, Recipients::Everyone, &occasion, None).await
            }
            EventStatus::Running if event.ends_at.is_some_and(|end| near(end) && now < end) => {
                self.mail_event(MailAction::EventEndingSoon, event, Recipients::Everyone, &occasion, None).await
            }
            _ => Ok(()),
        }
    }

    /// The scheduler's classroom round: deploys events whose start has come,
    /// moves events past their end to `ending`, decommissions them after the
    /// transition period (setting `events.transition_period_hours`), compares
    /// active events' VMs with the cluster every few minutes, mails the
    /// "starting" and "ending soon" notices, and recovers events whose job is
    /// gone. Each
    /// move is conditional, so two rounds never queue the same work twice.
    pub async fn schedule_events(&self) -> Result<(), AppError> {
        let now = self.clock.now();
        let hours = self
            .ports
            .settings
            .get(TRANSITION_PERIOD_HOURS)
            .await?
            .and_then(|s| s.value.parse::<i64>().ok())
            .unwrap_or(24);
        // Keyset pages over exactly the events that may need something now,
        // so no event is skipped however many there are.
        let mut after_id = 0;
        loop {
            let batch =
                self.ports.events.needing_schedule(now.plus_secs(NOTICE_AHEAD_SECS), after_id, SCHEDULE_BATCH).await?;
            let Some(last) = batch.last() else { break };
            after_id = last.id;
            let full = batch.len() == SCHEDULE_BATCH as usize;
            for event in batch {
                self.schedule_event(event, now, hours).await?;
            }
            if !full {
                break;
            }
        }
        Ok(())
    }

    /// One event's part of the scheduler's round.
    async fn schedule_event(
        &self,
        event: EventView,
        now: domain::time::Timestamp,
        transition_hours: i64,
    ) -> Result<(), AppError> {
        let system = |key: Option<String>| Requester { event_id: Some(event.id), ..Requester::system(key) };
        // Each move is the schedule's doing, recorded with it (only when made).
        let scheduled = |from: EventStatus, to: EventStatus| async move {
            let activity = self.status_activity(ActorKind::Scheduler, event.id, from, to, None).await?;
            self.move_event_recorded(event.id, from, to, None, &activity).await
        };
        let ended = event.ends_at.is_some_and(|end| end <= now);
        self.announce_soon(&event, now).await?;
        let transition_over = event.ends_at.is_some_and(|end| end.plus_secs(transition_hours * 3600) <= now);
        match event.status {
            // Conditional moves: only the round that makes one queues its job.
            EventStatus::Planned if event.starts_at <= now => {
                let moved = scheduled(EventStatus::Planned, EventStatus::Deploying).await?;
                let job = Job::DeployEvent { event_id: event.id, allow_partial: false };
                if moved {
                    self.enqueue(&job, system(None)).await?;
                }
            }
            EventStatus::Running if ended => {
                // Deactivation: the move queues the sync that revokes READ.
                scheduled(EventStatus::Running, EventStatus::Ending).await?;
            }
            EventStatus::Ending if transition_over => {
                let moved = scheduled(EventStatus::Ending, EventStatus::Decommissioning).await?;
                let job = Job::DecommissionEvent { event_id: event.id };
                if moved {
                    self.enqueue(&job, system(None)).await?;
                }
            }
            // Failed events too: a failed deployment or decommission may
            // have left VMs whose records no longer match the cluster.
            EventStatus::Running | EventStatus::Ending | EventStatus::Failed => {
                let period = now.millis() / (RECONCILE_EVERY_SECS * 1000);
                let key = format!("reconcile:event-{}:{period}", event.id);
                self.enqueue(&Job::ReconcileVms { owner: event_owner(event.id) }, system(Some(key))).await?;
            }
            // Their job may be gone (a crash): see `super::recovery`.
            EventStatus::Deploying | EventStatus::Decommissioning => self.recover_stuck_event(&event).await?,
            _ => {}
        }
        Ok(())
    }
}
