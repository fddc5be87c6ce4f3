//! Apache Guacamole: the connection administrators edit (secrets write-only)
//! with "Test connection", connection templates (of a VM template or one VM),
//! and the Guacamole connections deployment made for a VM.

use domain::SecretText;
use domain::classroom::{ConnectionTemplateView, VmConnectionView};
use domain::guacamole::GuacamoleView;
use leptos::prelude::*;

use crate::error::ApiResult;

/// The connection in use, without its secrets.
#[server]
pub async fn guacamole_settings() -> ApiResult<GuacamoleView> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.guacamole_settings(&actor).await?)
}

/// Saves the connection; empty secret fields keep the ones in use.
#[server]
pub async fn save_guacamole(
    guacamole_url: String,
    admin_username: String,
    #[server(default)] admin_password: SecretText,
    #[server(default)] data_source: String,
    sso_method: String,
    #[server(default)] json_secret_key: SecretText,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let input = domain::guacamole::GuacamoleInput {
        url: guacamole_url,
        admin_username,
        admin_password: admin_password.0,
        data_source,
        sso_method,
        json_secret_key: json_secret_key.0,
    };
    context::state()?.services.save_guacamole(&actor, &input).await?;
    context::redirect_with_flash("/admin/guacamole", super::flash::SAVED);
    Ok(())
}

/// Signs in with the admin account of the connection in use and lists the
/// data source; changes nothing. Answers the data source's name.
#[server]
pub async fn test_guacamole() -> ApiResult<String> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.test_guacamole(&actor).await?)
}

/// `template_id` or `vm_id` names what the connection templates belong to.
#[cfg(feature = "ssr")]
fn binding(
    template_id: Option<i64>,
    vm_id: Option<i64>,
) -> Result<domain::classroom::ConnectionBinding, domain::AppError> {
    match (template_id, vm_id) {
        (Some(id), None) => Ok(domain::classroom::ConnectionBinding::Template(id)),
        (None, Some(id)) => Ok(domain::classroom::ConnectionBinding::Vm(id)),
        _ => Err(domain::AppError::invalid("template_id", domain::error::Problem::Required)),
    }
}

/// Where a connection template form returns to.
#[cfg(feature = "ssr")]
fn page_of(binding: domain::classroom::ConnectionBinding) -> String {
    match binding {
        domain::classroom::ConnectionBinding::Template(id) => format!("/templates/{id}"),
        domain::classroom::ConnectionBinding::Vm(id) => format!("/vms/{id}"),
    }
}

#[server]
pub async fn list_connection_templates(
    #[server(default)] template_id: Option<i64>,
    #[server(default)] vm_id: Option<i64>,
) -> ApiResult<Vec<ConnectionTemplateView>> {
    use super::context;
    let actor = context::actor().await?;
    let binding = binding(template_id, vm_id)?;
    Ok(context::state()?.services.list_connection_templates(&actor, binding).await?)
}

#[allow(clippy::too_many_arguments)]
#[server]
pub async fn create_connection_template(
    #[server(default)] template_id: Option<i64>,
    #[server(default)] vm_id: Option<i64>,
    protocol: String,
    #[server(default)] port: String,
    #[server(default)] conn_username: String,
    #[server(default)] conn_password: String,
    #[server(default)] rdp_security: String,
    #[server(default)] ignore_cert: Option<String>,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let binding = binding(template_id, vm_id)?;
    let input = domain::classroom::ConnectionTemplateInput {
        protocol,
        port,
        username: conn_username,
        password: conn_password,
        rdp_security,
        ignore_cert: ignore_cert.is_some(),
    };
    context::state()?.services.create_connection_template(&actor, binding, &input).await?;
    context::redirect_with_flash(&page_of(binding), super::flash::CREATED);
    Ok(())
}

/// Needs the confirmation checkbox: VMs deployed later lose the connection.
#[server]
pub async fn delete_connection_template(id: i64, #[server(default)] confirm: Option<String>) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    if !confirm.as_deref().is_some_and(|v| matches!(v, "on" | "true" | "1")) {
        return Err(domain::AppError::invalid("confirm", domain::error::Problem::Required).into());
    }
    let binding = context::state()?.services.delete_connection_template(&actor, id).await?;
    context::redirect_with_flash(&page_of(binding), super::flash::DELETED);
    Ok(())
}

#[server]
pub async fn vm_connections(vm_id: i64) -> ApiResult<Vec<VmConnectionView>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.vm_connections(&actor, vm_id).await?)
}
