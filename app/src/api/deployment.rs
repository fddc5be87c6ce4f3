//! Deploying and ending events, and power actions on VMs (issue 5): each
//! server function checks the caller and calls one use case in
//! `services::classroom::deployment`.

use leptos::prelude::*;

use crate::error::ApiResult;

/// Whether a checkbox was ticked (browsers send "on").
#[cfg(feature = "ssr")]
fn ticked(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|v| matches!(v, "on" | "true" | "1"))
}

/// "Deploy now"; `allow_partial` (ticked after a capacity refusal) deploys what fits.
#[server]
pub async fn deploy_event(id: i64, #[server(default)] allow_partial: Option<String>) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.deploy_event(&actor, id, ticked(&allow_partial)).await?;
    context::redirect_with_flash(&format!("/events/{id}"), super::flash::QUEUED);
    Ok(())
}

/// "End now": removes every VM of the event; `confirm` must be ticked.
#[server]
pub async fn end_event(id: i64, #[server(default)] confirm: Option<String>) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    if !ticked(&confirm) {
        return Err(domain::AppError::invalid("confirm", domain::error::Problem::Required).into());
    }
    context::state()?.services.end_event(&actor, id).await?;
    context::redirect_with_flash(&format!("/events/{id}"), super::flash::QUEUED);
    Ok(())
}

/// "Back to planning": a failed event of which nothing reached the cluster.
#[server]
pub async fn return_to_planning(id: i64) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.return_to_planning(&actor, id).await?;
    context::redirect_with_flash(&format!("/events/{id}"), super::flash::SAVED);
    Ok(())
}

/// A power action on one VM (`start`, `shutdown`, `stop`, `reboot`, `pause`,
/// `resume`, `reset_to_template`); the destructive ones (stop, reset) need
/// `confirm` ticked. `back`: the page to return to (a local path).
#[server]
pub async fn vm_action(
    id: i64,
    action: String,
    #[server(default)] confirm: Option<String>,
    #[server(default)] back: Option<String>,
) -> ApiResult<()> {
    use super::context;
    use services::classroom::deployment::ActionOutcome;
    let actor = context::actor().await?;
    let action = services::provisioning::VmAction::parse(&action)
        .ok_or_else(|| domain::AppError::invalid("action", domain::error::Problem::Unknown))?;
    if action.is_destructive() && !ticked(&confirm) {
        return Err(domain::AppError::invalid("confirm", domain::error::Problem::Required).into());
    }
    let outcome = context::state()?.services.vm_action(&actor, id, action).await?;
    // Only paths on this site: an open redirect would send users anywhere.
    let back =
        back.as_deref().and_then(domain::redirect::local_path).map_or_else(|| format!("/vms/{id}"), str::to_string);
    let flash = match outcome {
        ActionOutcome::Done(_) => super::flash::DONE,
        ActionOutcome::Queued(_) => super::flash::QUEUED,
    };
    context::redirect_with_flash(&back, flash);
    Ok(())
}

/// The newest drift a reconcile pass found for the event (those who manage it).
#[server]
pub async fn event_drift(event_id: i64) -> ApiResult<Option<domain::reconcile::EventDrift>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.event_drift(&actor, event_id).await?)
}
