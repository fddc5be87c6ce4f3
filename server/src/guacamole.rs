//! `GET /vms/{id}/guacamole`: the hand-off into Apache Guacamole. The
//! signed-in owner of the VM is redirected (303) to Guacamole with a one-time
//! sign-in assertion in the URL fragment, straight into the VM's connection
//! (see ARCHITECTURE.md, "Guacamole single sign-on").
//!
//! A GET, so that Connect can be a plain link opening a new tab; it still
//! refuses navigations another site starts (`Sec-Fetch-Site: cross-site`),
//! which would otherwise sign the visitor in to Guacamole unasked. The
//! response is never cached and sends no Referer onwards; the Location is
//! never logged.

use app::api::context::{ClientIp, SESSION_COOKIE, cookie_value};
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::AppError;

use crate::web::WebState;

fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], text).into_response()
}

pub async fn hand_off(
    State(state): State<WebState>,
    Path(vm_id): Path<i64>,
    client_ip: Option<Extension<ClientIp>>,
    headers: HeaderMap,
) -> Response {
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return plain(StatusCode::FORBIDDEN, "Open the VM from OpenVLE's own pages.");
    }
    let services = &state.system.services;
    let user = match cookie_value(&headers, SESSION_COOKIE) {
        Some(token) => services.session_user(&token).await.ok().flatten(),
        None => None,
    };
    let Some(user) = user.filter(|u| u.pending_policies.is_empty()) else {
        let next = format!("/login?next=/vms/{vm_id}/guacamole");
        return (StatusCode::SEE_OTHER, [(header::LOCATION, next)]).into_response();
    };
    let origin = domain::activity::Origin {
        request_id: app::api::context::request_id(&headers),
        client_ip: client_ip.map(|Extension(ClientIp(ip))| ip),
    };
    let actor = domain::Actor { origin, ..user.actor };
    match services.guacamole_hand_off(&actor, vm_id).await {
        Ok(Some(link)) => {
            let Ok(location) = HeaderValue::from_str(&link.url) else {
                return plain(StatusCode::BAD_GATEWAY, "Guacamole's address cannot be used in a redirect.");
            };
            let mut response = StatusCode::SEE_OTHER.into_response();
            let headers = response.headers_mut();
            headers.insert(header::LOCATION, location);
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            response
        }
        Ok(None) => plain(StatusCode::CONFLICT, "This VM is not reached through Guacamole: use its console."),
        Err(AppError::NotFound) => plain(StatusCode::NOT_FOUND, "No such VM."),
        Err(AppError::Forbidden) => {
            plain(StatusCode::FORBIDDEN, "Only the VM's owner signs in to it through Guacamole.")
        }
        Err(AppError::Conflict { .. }) => plain(
            StatusCode::CONFLICT,
            "The VM's Guacamole connection is not ready (the event is not active, or it is still being created).",
        ),
        Err(e) => {
            tracing::warn!(vm_id, error = %e, "Guacamole hand-off failed");
            plain(StatusCode::BAD_GATEWAY, "Guacamole is unavailable; try again, or use the built-in console.")
        }
    }
}
