//! The Proxmox VE cluster: its connection (settings, test) and what it holds
//! (nodes, templates). The token secret only ever travels into the server.

use domain::SecretText;
use domain::cluster::{ConnectionTest, ConnectionView, NodeView, TemplateView};
use leptos::prelude::*;

use crate::error::ApiResult;

/// The connection in use, without its secret.
#[server]
pub async fn connection_settings() -> ApiResult<ConnectionView> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.connection_settings(&actor).await?)
}

/// Saves the connection; an empty `secret` keeps the one in use. A checkbox
/// sends `verify_tls` only when ticked.
#[server]
pub async fn save_connection(
    url: String,
    token_id: String,
    secret: SecretText,
    fingerprint: String,
    verify_tls: Option<String>,
    pool: String,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let input = domain::cluster::ConnectionInput {
        url,
        token_id,
        secret: secret.0,
        fingerprint,
        verify_tls: verify_tls.is_some_and(|v| v != "false"),
        pool,
    };
    context::state()?.services.save_connection(&actor, &input).await?;
    context::redirect_with_flash("/admin/proxmox", super::flash::SAVED);
    Ok(())
}

/// Version and nodes of the cluster in use, or why it cannot be reached.
#[server]
pub async fn test_connection() -> ApiResult<ConnectionTest> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.test_connection(&actor).await?)
}

#[server]
pub async fn cluster_nodes() -> ApiResult<Vec<NodeView>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.cluster_nodes(&actor).await?)
}

/// The pool's template VMs (what a template form picks from).
#[server]
pub async fn cluster_templates() -> ApiResult<Vec<TemplateView>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.cluster_templates(&actor).await?)
}
