//! The admin Health page's data.

use domain::health::SystemHealth;
use leptos::prelude::*;

use crate::error::ApiResult;

/// Administrators: dependencies, the activity outbox, the task queues and
/// the scheduler's leader, as this process sees them.
#[server]
pub async fn health_report() -> ApiResult<SystemHealth> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.system_health(&actor).await?)
}
