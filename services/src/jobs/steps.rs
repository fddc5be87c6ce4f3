//! The steps of the product's own jobs.

use std::time::Duration;

use async_trait::async_trait;

use super::Job;
use super::ports::TaskRecord;
use super::worker::{StepError, StepRunner};
use crate::Services;

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
            (job, step) => Err(StepError::permanent(format!("job {} has no step {step:?}", job.kind()))),
        }
    }
}
