//! Background tasks: the Tasks page.

use domain::page::Page;
use domain::task::TaskView;
use leptos::prelude::*;

use crate::error::ApiResult;

/// `since_hours`: only tasks created in the last so many hours; `user`: the
/// username of whoever started them; `event`: the event they belong to.
#[server]
pub async fn list_tasks(
    status: Option<String>,
    since_hours: Option<i64>,
    user: Option<String>,
    event: Option<i64>,
    page: Option<u32>,
) -> ApiResult<Page<TaskView>> {
    use super::context;
    let actor = context::actor().await?;
    let state = context::state()?;
    let now = state.services.clock().now();
    let query = services::jobs::TaskQuery {
        status: status.as_deref().and_then(domain::task::TaskStatus::from_key),
        since: since_hours.filter(|h| *h > 0).map(|h| now.minus_millis(h.saturating_mul(3_600_000))),
        username: user.filter(|u| !u.trim().is_empty()),
        event_id: event,
    };
    Ok(state.services.list_tasks(&actor, query, domain::page::PageRequest::new(page, None)).await?)
}

#[server]
pub async fn get_task(id: i64) -> ApiResult<TaskView> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.get_task(&actor, id).await?)
}

#[server]
pub async fn retry_task(id: i64) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.retry_task(&actor, id).await?;
    context::redirect_with_flash(&format!("/admin/tasks/{id}"), super::flash::QUEUED);
    Ok(())
}

#[server]
pub async fn cancel_task(id: i64) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.cancel_task(&actor, id).await?;
    context::redirect_with_flash(&format!("/admin/tasks/{id}"), super::flash::SAVED);
    Ok(())
}

#[server]
pub async fn start_worker_check() -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let id = context::state()?.services.start_worker_check(&actor).await?;
    context::redirect_with_flash(&format!("/admin/tasks/{id}"), super::flash::QUEUED);
    Ok(())
}
