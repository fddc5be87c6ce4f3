//! What every signed-in user may do to their own account.

use leptos::prelude::*;

use crate::error::ApiResult;

#[server]
pub async fn update_own_profile(name: String, email: String, language: String) -> ApiResult<()> {
    use super::context;
    let actor = context::actor_with_pending_policies().await?;
    let state = context::state()?;
    let input = services::accounts::ProfileInput { name, email, language };
    state.services.update_profile(&actor, actor.user_id, input).await?;
    context::redirect_with_flash("/profile", super::flash::SAVED);
    Ok(())
}

#[server]
pub async fn change_own_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor_with_pending_policies().await?;
    if new_password != confirm_password {
        return Err(domain::AppError::conflict("passwords_differ").into());
    }
    let state = context::state()?;
    let keep = context::session_token().map(|t| state.services.token_hash(&t)).unwrap_or_default();
    state.services.change_own_password(&actor, &current_password, &new_password, &keep).await?;
    context::redirect_with_flash("/profile", super::flash::PASSWORD_CHANGED);
    Ok(())
}

/// The user's own account as the profile page shows it.
#[server]
pub async fn own_account() -> ApiResult<domain::user::UserView> {
    use super::context;
    let actor = context::actor_with_pending_policies().await?;
    Ok(context::state()?.services.get_user(&actor, actor.user_id).await?)
}

/// The caller's time zone choice, the site's zone and the list to choose from.
#[server]
pub async fn own_time_zone() -> ApiResult<domain::zone::TimeZoneChoice> {
    use super::context;
    let actor = context::actor_with_pending_policies().await?;
    Ok(context::state()?.services.own_time_zone(&actor).await?)
}

/// Sets the caller's time zone (IANA name); empty: the site's.
#[server]
pub async fn set_own_time_zone(#[server(default)] time_zone: String) -> ApiResult<()> {
    use super::context;
    let actor = context::actor_with_pending_policies().await?;
    context::state()?.services.set_own_time_zone(&actor, &time_zone).await?;
    context::redirect_with_flash("/profile", super::flash::SAVED);
    Ok(())
}
