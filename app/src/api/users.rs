//! User administration.

use domain::page::Page;
use domain::user::{AccountControls, RoleView, UserView};
use leptos::prelude::*;

use crate::error::ApiResult;

#[server]
pub async fn list_users(
    q: Option<String>,
    status: Option<String>,
    role: Option<String>,
    page: Option<u32>,
) -> ApiResult<Page<UserView>> {
    use super::context;
    let actor = context::actor().await?;
    let query = services::ports::UserQuery {
        text: q.filter(|t| !t.trim().is_empty()),
        status: status.as_deref().and_then(domain::UserStatus::from_key),
        role_key: role.filter(|r| !r.is_empty()),
    };
    let request = domain::page::PageRequest::new(page, None);
    Ok(context::state()?.services.list_users(&actor, query, request).await?)
}

#[server]
pub async fn get_user(id: i64) -> ApiResult<UserView> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.get_user(&actor, id).await?)
}

/// What the caller may change about the account, for its page's controls.
#[server]
pub async fn controls_for_account(id: i64) -> ApiResult<AccountControls> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.account_controls(&actor, id).await?)
}

#[server]
pub async fn assignable_roles() -> ApiResult<Vec<RoleView>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.assignable_roles(&actor).await?)
}

#[server]
pub async fn create_user(
    username: String,
    name: String,
    email: String,
    language: String,
    password: String,
    #[server(default)] roles: Vec<String>,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let input = services::accounts::UserInput { username, name, email, language, password, role_keys: roles };
    let user = context::state()?.services.create_user(&actor, input).await?;
    context::redirect_with_flash(&format!("/admin/users/{}", user.id), super::flash::CREATED);
    Ok(())
}

#[server]
pub async fn update_user(id: i64, name: String, email: String, language: String) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let input = services::accounts::ProfileInput { name, email, language };
    context::state()?.services.update_profile(&actor, id, input).await?;
    context::redirect_with_flash(&format!("/admin/users/{id}"), super::flash::SAVED);
    Ok(())
}

#[server]
pub async fn set_user_roles(id: i64, #[server(default)] roles: Vec<String>) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.set_user_roles(&actor, id, &roles).await?;
    context::redirect_with_flash(&format!("/admin/users/{id}"), super::flash::SAVED);
    Ok(())
}

#[server]
pub async fn set_user_status(id: i64, status: String) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let status = domain::UserStatus::from_key(&status)
        .ok_or_else(|| domain::AppError::invalid("status", domain::error::Problem::Unknown))?;
    context::state()?.services.set_user_status(&actor, id, status).await?;
    context::redirect_with_flash(&format!("/admin/users/{id}"), super::flash::SAVED);
    Ok(())
}

#[server]
pub async fn set_user_password(id: i64, password: String) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.set_user_password(&actor, id, &password).await?;
    context::redirect_with_flash(&format!("/admin/users/{id}"), super::flash::PASSWORD_CHANGED);
    Ok(())
}

#[server]
pub async fn delete_user(id: i64) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.delete_user(&actor, id).await?;
    context::redirect_with_flash("/admin/users", super::flash::DELETED);
    Ok(())
}
