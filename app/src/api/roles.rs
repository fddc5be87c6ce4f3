//! Roles and the permission catalogue.

use domain::user::RoleView;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ApiResult;

/// One permission a role can hold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Permission {
    pub key: String,
    pub object_type: domain::ObjectType,
    pub level: domain::AccessLevel,
}

#[server]
pub async fn list_roles() -> ApiResult<Vec<RoleView>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.list_roles(&actor).await?)
}

#[server]
pub async fn get_role(id: i64) -> ApiResult<RoleView> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.get_role(&actor, id).await?)
}

#[server]
pub async fn list_permissions() -> ApiResult<Vec<Permission>> {
    use super::context;
    let actor = context::actor().await?;
    let entries = context::state()?.services.permissions(&actor)?;
    Ok(entries.into_iter().map(|e| Permission { key: e.key, object_type: e.object_type, level: e.level }).collect())
}

#[server]
pub async fn create_role(
    key: String,
    name: String,
    description: String,
    #[server(default)] permissions: Vec<String>,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let input = services::roles::RoleInput { key, name, description, permissions };
    let id = context::state()?.services.create_role(&actor, input).await?;
    context::redirect_with_flash(&format!("/admin/roles/{id}"), super::flash::CREATED);
    Ok(())
}

#[server]
pub async fn update_role(
    id: i64,
    name: String,
    description: String,
    #[server(default)] permissions: Vec<String>,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let input = services::roles::RoleInput { key: String::new(), name, description, permissions };
    context::state()?.services.update_role(&actor, id, input).await?;
    context::redirect_with_flash(&format!("/admin/roles/{id}"), super::flash::SAVED);
    Ok(())
}

#[server]
pub async fn copy_role(id: i64, key: String, name: String) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let new_id = context::state()?.services.copy_role(&actor, id, &key, &name).await?;
    context::redirect_with_flash(&format!("/admin/roles/{new_id}"), super::flash::CREATED);
    Ok(())
}

#[server]
pub async fn delete_role(id: i64) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.delete_role(&actor, id).await?;
    context::redirect_with_flash("/admin/roles", super::flash::DELETED);
    Ok(())
}
