//! Terms of use: administration and acceptance.

use domain::policy::PolicyView;
use leptos::prelude::*;

use crate::error::ApiResult;

#[server]
pub async fn list_policies() -> ApiResult<Vec<PolicyView>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.list_policies(&actor).await?)
}

#[server]
pub async fn create_policy(name: String, description: String, content: String) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let input = services::policies::PolicyInput { name, description, content };
    context::state()?.services.create_policy(&actor, input).await?;
    context::redirect_with_flash("/admin/policies", super::flash::CREATED);
    Ok(())
}

#[server]
pub async fn set_policy_active(id: i64, active: bool) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.set_policy_active(&actor, id, active).await?;
    context::redirect_with_flash("/admin/policies", super::flash::SAVED);
    Ok(())
}

/// The caller's own pending policies (allowed before accepting them).
#[server]
pub async fn pending_policies() -> ApiResult<Vec<PolicyView>> {
    use super::context;
    let actor = context::actor_with_pending_policies().await?;
    Ok(context::state()?.services.pending_policies(&actor).await?)
}

#[server]
pub async fn accept_policy(id: i64, next: Option<String>) -> ApiResult<()> {
    use super::context;
    let actor = context::actor_with_pending_policies().await?;
    let state = context::state()?;
    state.services.accept_policy(&actor, id).await?;
    let remaining = state.services.pending_policies(&actor).await?;
    let next = super::auth::safe_next(next.as_deref());
    if remaining.is_empty() {
        context::redirect_with_flash(next, super::flash::ACCEPTED);
    } else {
        leptos_axum::redirect(&format!("/policies/accept?next={}", crate::url_encode(next)));
    }
    Ok(())
}
