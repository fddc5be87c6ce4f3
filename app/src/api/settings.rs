//! Runtime settings.

use domain::settings::SettingView;
use leptos::prelude::*;

use crate::error::ApiResult;

#[server]
pub async fn list_settings() -> ApiResult<Vec<SettingView>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.list_settings(&actor).await?)
}

#[server]
pub async fn update_setting(key: String, value: String) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.update_setting(&actor, &key, &value).await?;
    context::redirect_with_flash("/admin/settings", super::flash::SAVED);
    Ok(())
}
