//! `GET /vms/{id}/connect`: where the Connect button leads. Checks that the caller
//! may open the VM's console and sends them to the way of connecting
//! ([`destination`]); a caller who may not gets 404 (or 403) and no redirect.

use app::api::context::{SESSION_COOKIE, cookie_value};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use domain::classroom::Console;
use domain::{Actor, AppError};
use services::Services;

use crate::web::WebState;

/// The one place that chooses how a VM is reached: the owner of a VM whose
/// template uses Guacamole goes to the Guacamole hand-off (when Guacamole is
/// configured); everyone else allowed, e.g. the event's instructors, to the
/// built-in console page.
async fn destination(services: &Services, actor: &Actor, vm_id: i64) -> Result<String, AppError> {
    let vm = services.get_vm(actor, vm_id).await?;
    if vm.console == Console::Guacamole && vm.owner_id == actor.user_id && services.guacamole_configured().await? {
        return Ok(format!("/vms/{vm_id}/guacamole"));
    }
    services.console_vm(actor, vm_id).await?;
    Ok(format!("/vms/{vm_id}/console"))
}

pub async fn connect(State(state): State<WebState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let here = format!("/vms/{id}/connect");
    let services = &state.system.services;
    let user = match cookie_value(&headers, SESSION_COOKIE) {
        Some(token) => services.session_user(&token).await.ok().flatten(),
        None => None,
    };
    let Some(user) = user else {
        return Redirect::to(&format!("/login?next={}", app::url_encode(&here))).into_response();
    };
    if !user.pending_policies.is_empty() {
        return Redirect::to(&format!("/policies/accept?next={}", app::url_encode(&here))).into_response();
    }
    let Ok(vm_id) = id.parse::<i64>() else {
        return (StatusCode::NOT_FOUND, "no such VM").into_response();
    };
    match destination(services, &user.actor, vm_id).await {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(AppError::NotFound) => (StatusCode::NOT_FOUND, "no such VM").into_response(),
        Err(AppError::Forbidden) => (StatusCode::FORBIDDEN, "you may not connect to this VM").into_response(),
        Err(e) => {
            tracing::warn!(vm_id, error = %e, "connect failed");
            (StatusCode::SERVICE_UNAVAILABLE, "cannot connect right now").into_response()
        }
    }
}
