//! The steps of the product's own jobs.

use std::time::Duration;

use async_trait::async_trait;

use super::Job;
use super::ports::TaskRecord;
use super::worker::{StepError, StepRunner};
use crate::Services;
use crate::provisioning::{ProvisionError, VmAction, VmStage};

fn provision_error(e: ProvisionError) -> StepError {
    if e.is_retryable() { StepError::retryable(e.to_string()) } else { StepError::permanent(e.to_string()) }
}

/// Whether a failure now is final (the worker retries only below `max_attempts`).
fn last_attempt(task: &TaskRecord) -> bool {
    task.attempts >= task.max_attempts
}

/// Runs the jobs defined in [`Job`] with the real services.
pub struct ProductSteps {
    services: Services,
}

impl ProductSteps {
    pub fn new(services: Services) -> ProductSteps {
        ProductSteps { services }
    }
}

#[async_trait]
impl StepRunner for ProductSteps {
    async fn run_step(&self, task: &TaskRecord, job: &Job, step: &str) -> Result<(), StepError> {
        match (job, step) {
            (Job::PurgeSessions, "purge") => {
                let removed =
                    self.services.purge_expired_sessions().await.map_err(|e| StepError::retryable(e.to_string()))?;
                let attempts = self
                    .services
                    .purge_expired_pending_logins()
                    .await
                    .map_err(|e| StepError::retryable(e.to_string()))?;
                tracing::info!(task = task.id, removed, attempts, "expired sessions and sign-in attempts removed");
                Ok(())
            }
            (Job::SyncTemplates, "sync") => {
                let (found, missing) =
                    self.services.sync_templates().await.map_err(|e| StepError::retryable(e.to_string()))?;
                tracing::info!(task = task.id, found, missing, "VM templates synchronised");
                Ok(())
            }
            (Job::PurgeActivities, "purge") => {
                let removed =
                    self.services.purge_old_activities().await.map_err(|e| StepError::retryable(e.to_string()))?;
                tracing::info!(task = task.id, removed, "activities past their retention removed");
                Ok(())
            }
            (Job::Ping { sleep_ms, .. }, "wait") => {
                tokio::time::sleep(Duration::from_millis(*sleep_ms)).await;
                Ok(())
            }
            (Job::Ping { .. }, "answer") => {
                tracing::info!(task = task.id, attempt = task.attempts, "worker check answered");
                Ok(())
            }
            (Job::SendMail { mail_id }, "send") => {
                self.services.deliver_mail(*mail_id, task.attempts >= task.max_attempts).await
            }
            (Job::DeployEvent { event_id, allow_partial }, "deploy") => {
                self.services.run_event_deployment(task.id, *event_id, *allow_partial, last_attempt(task)).await
            }
            (Job::DecommissionEvent { event_id }, "decommission") => {
                self.services.run_event_decommission(task.id, *event_id, last_attempt(task)).await
            }
            (Job::DecommissionEvent { event_id }, "connections") => {
                self.services.run_connection_removal(*event_id).await
            }
            (Job::SyncConnections { event_id }, "sync") => {
                self.services.run_connection_sync(*event_id, last_attempt(task)).await
            }
            (Job::ScheduleEvents, "schedule") => {
                self.services.schedule_events().await.map_err(|e| StepError::retryable(e.to_string()))
            }
            (
                Job::DeployVms { .. } | Job::DecommissionVms { .. } | Job::ReconcileVms { .. } | Job::VmAction { .. },
                _,
            ) => self.provision(task, job, step).await,
            (job, step) => Err(StepError::permanent(format!("job {} has no step {step:?}", job.kind()))),
        }
    }
}

impl ProductSteps {
    /// The provisioning jobs: thin wrappers around [`crate::provisioning::Provisioner`].
    async fn provision(&self, task: &TaskRecord, job: &Job, step: &str) -> Result<(), StepError> {
        let engine = self.services.provisioner().await.map_err(|e| StepError::retryable(e.to_string()))?;
        match (job, step) {
            (Job::DeployVms { owner, plan, allow_partial }, "deploy") => {
                let report = engine.deploy(owner, plan, *allow_partial).await.map_err(provision_error)?;
                let failed: Vec<_> = report.vms.iter().filter(|v| v.last.stage == VmStage::Failed).collect();
                tracing::info!(
                    task = task.id,
                    owner,
                    ready = report.count(VmStage::Ready),
                    failed = failed.len(),
                    "deployment ran"
                );
                let Some(first) = failed.first() else { return Ok(()) };
                let message = format!(
                    "{} of {} VMs failed; first {}: {}",
                    failed.len(),
                    plan.len(),
                    first.last.name,
                    first.last.message.as_deref().unwrap_or("unknown error")
                );
                // A re-run creates only what is missing, so retrying is safe.
                if failed.iter().any(|v| v.retryable) {
                    Err(StepError::retryable(message))
                } else {
                    Err(StepError::permanent(message))
                }
            }
            (Job::DecommissionVms { owner, plan }, "decommission") => {
                engine.decommission(owner, plan).await.map(|_| ()).map_err(provision_error)
            }
            (Job::ReconcileVms { owner }, "reconcile") => {
                // The recorder fixed the records and recorded what differed (`event.reconcile`).
                let drift = engine.reconcile(owner).await.map_err(provision_error)?;
                tracing::info!(task = task.id, owner, differences = drift.len(), "VMs compared with the cluster");
                // An address the reconcile corrected reaches Guacamole's connections.
                match crate::classroom::deployment::event_of_owner(owner) {
                    Some(event_id) => self
                        .services
                        .queue_connection_sync(event_id)
                        .await
                        .map_err(|e| StepError::retryable(e.to_string())),
                    None => Ok(()),
                }
            }
            (Job::VmAction { owner, vmid, action: VmAction::ResetToTemplate, reset }, "act") => {
                let reset =
                    reset.as_ref().ok_or_else(|| StepError::permanent("resetting a VM needs its plan entry"))?;
                let outcome = engine.reset_to_template(owner, *vmid, reset).await.map_err(provision_error)?;
                match outcome.last.stage {
                    VmStage::Ready => Ok(()),
                    _ => Err(StepError {
                        message: outcome.last.message.unwrap_or_default(),
                        retryable: outcome.retryable,
                    }),
                }
            }
            (Job::VmAction { owner, vmid, action, .. }, "act") => {
                engine.power(owner, *vmid, *action).await.map(|_| ()).map_err(provision_error)
            }
            (job, step) => Err(StepError::permanent(format!("job {} has no step {step:?}", job.kind()))),
        }
    }
}
