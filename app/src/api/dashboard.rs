//! The home page's overview, system-wide notifications and quick links.

use domain::dashboard::{DashboardView, NotificationView, QuickLinkView};
use leptos::prelude::*;

use crate::error::ApiResult;

/// Whether a checkbox was ticked (browsers send "on").
#[cfg(feature = "ssr")]
fn ticked(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|v| matches!(v, "on" | "true" | "1"))
}

/// The caller's overview (what it holds depends on their permissions and events).
#[server]
pub async fn dashboard() -> ApiResult<DashboardView> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.dashboard(&actor).await?)
}

/// The notifications active now (the banner on every page).
#[server]
pub async fn active_notifications() -> ApiResult<Vec<NotificationView>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.active_notifications(&actor).await?)
}

/// Administrators: every notification, active or not.
#[server]
pub async fn list_notifications() -> ApiResult<Vec<NotificationView>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.list_notifications(&actor).await?)
}

/// Creates (no `id`) or changes a notification; times in the editor's zone.
#[server]
pub async fn save_notification(
    #[server(default)] id: Option<i64>,
    message: String,
    severity: String,
    #[server(default)] starts_at: String,
    #[server(default)] ends_at: String,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let form = services::dashboard::NotificationForm { message, severity, starts_at, ends_at };
    context::state()?.services.save_notification(&actor, id, &form).await?;
    let flash = if id.is_some() { super::flash::SAVED } else { super::flash::CREATED };
    context::redirect_with_flash("/admin/dashboard", flash);
    Ok(())
}

/// Deletes a notification; `confirm` must be ticked.
#[server]
pub async fn delete_notification(id: i64, #[server(default)] confirm: Option<String>) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    if !ticked(&confirm) {
        return Err(domain::AppError::invalid("confirm", domain::error::Problem::Required).into());
    }
    context::state()?.services.delete_notification(&actor, id).await?;
    context::redirect_with_flash("/admin/dashboard", super::flash::DELETED);
    Ok(())
}

#[server]
pub async fn list_quick_links() -> ApiResult<Vec<QuickLinkView>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.list_quick_links(&actor).await?)
}

/// Creates (no `id`; no `position`: at the end) or changes a quick link.
#[server]
pub async fn save_quick_link(
    #[server(default)] id: Option<i64>,
    title: String,
    url: String,
    #[server(default)] position: String,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    // Empty: keep the place (a new link goes last).
    let position = match position.trim() {
        "" => None,
        raw => Some(raw.parse::<i64>().map_err(|_| {
            domain::AppError::invalid("position", domain::error::Problem::Format { expected: "integer".into() })
        })?),
    };
    context::state()?.services.save_quick_link(&actor, id, &title, &url, position).await?;
    let flash = if id.is_some() { super::flash::SAVED } else { super::flash::CREATED };
    context::redirect_with_flash("/admin/dashboard", flash);
    Ok(())
}

/// Deletes a quick link; `confirm` must be ticked.
#[server]
pub async fn delete_quick_link(id: i64, #[server(default)] confirm: Option<String>) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    if !ticked(&confirm) {
        return Err(domain::AppError::invalid("confirm", domain::error::Problem::Required).into());
    }
    context::state()?.services.delete_quick_link(&actor, id).await?;
    context::redirect_with_flash("/admin/dashboard", super::flash::DELETED);
    Ok(())
}
