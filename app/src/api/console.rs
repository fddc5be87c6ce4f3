//! The built-in console page's server function. The console itself is a
//! WebSocket (`/console/{vm}/websocket`, served by the server crate).

use domain::classroom::VmView;
use leptos::prelude::*;

use crate::error::ApiResult;

/// The VM behind the console page, when the caller may open its console (the
/// rule of its power actions). The page's script asks again after a dropped
/// connection, to tell a stopped VM or a withdrawn permission from a network hiccup.
#[server]
pub async fn vm_console(id: i64) -> ApiResult<VmView> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.console_vm(&actor, id).await?)
}
