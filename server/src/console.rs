//! `GET /console/{vm}/websocket`: the built-in console's WebSocket. The caller is
//! the signed-in session; [`ConsoleAccess`] decides which Proxmox VM (if any) that
//! is, and only then is the Proxmox side opened and the upgrade accepted, so a
//! refused caller gets 401 (no session) or 403 (anyone who may not use the VM,
//! including a VM that does not exist or that they cannot see: the same answer,
//! so guessed ids reveal nothing) and not a single byte; 409 when the VM does not
//! run; an accepted one is recorded as `vm.console_open`. Bytes are relayed as they
//! come, both ways, until either side closes (the VM stopping closes Proxmox's side).
//! The browser never sees a Proxmox ticket or token.

use std::sync::Arc;

use app::api::context::{ClientIp, SESSION_COOKIE, cookie_value, request_id};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use domain::activity::Origin;
use domain::{Actor, AppError};
use futures_util::{FutureExt, SinkExt};
use services::Services;
use services::console::{ConsoleAccess, ConsoleBackend, ConsoleChannel};

#[derive(Clone)]
pub struct ConsoleState {
    pub services: Services,
    pub access: Arc<dyn ConsoleAccess>,
    pub backend: Arc<dyn ConsoleBackend>,
}

/// Generic over the state of the router it is merged into (the site's `WebState`).
pub fn router<S: Clone + Send + Sync + 'static>(state: ConsoleState) -> Router<S> {
    Router::new().route("/console/{vm}/websocket", get(console_socket)).with_state(state)
}

/// A browser always sends Origin with a WebSocket handshake; another site's page
/// must not ride on our cookie (cross-site WebSocket hijacking).
fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match (host, origin) {
        (Some(host), Some(origin)) => origin.split_once("://").is_some_and(|(_, rest)| rest == host),
        _ => false,
    }
}

async fn console_socket(
    State(state): State<ConsoleState>,
    Path(vm): Path<String>,
    headers: HeaderMap,
    client_ip: Option<Extension<ClientIp>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !same_origin(&headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let user = match cookie_value(&headers, SESSION_COOKIE) {
        Some(token) => state.services.session_user(&token).await.ok().flatten(),
        None => None,
    };
    let Some(user) = user.filter(|u| u.pending_policies.is_empty()) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    // The activity log gets the request id and address, as for server functions.
    let origin = Origin { request_id: request_id(&headers), client_ip: client_ip.map(|Extension(ip)| ip.0) };
    let actor = Actor { origin, ..user.actor };
    let target = match state.access.console_target(&actor, &vm).await {
        Ok(target) => target,
        // The VM does not run (any more): nothing to connect to. Only a caller
        // who may use the VM gets this far (`console_target` checks access first).
        Err(AppError::Conflict { .. }) => return StatusCode::CONFLICT.into_response(),
        // Not found, not visible or not allowed: one answer for all of them.
        Err(_) => return StatusCode::FORBIDDEN.into_response(),
    };
    let channel = match state.backend.open(&target).await {
        Ok(channel) => channel,
        Err(e) => {
            tracing::warn!(target: "console", vm = %vm, error = %e, "console unavailable");
            return (StatusCode::BAD_GATEWAY, "the VM's console is unavailable").into_response();
        }
    };
    if let Err(e) = state.access.opened(&actor, &vm).await {
        tracing::warn!(target: "console", vm = %vm, error = %e, "console opening not recorded");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    upgrade.protocols(["binary"]).on_upgrade(move |socket| relay(socket, channel))
}

async fn relay(mut browser: WebSocket, channel: ConsoleChannel) {
    let ConsoleChannel { mut to_vm, mut from_vm } = channel;
    loop {
        tokio::select! {
            bytes = from_vm.recv() => match bytes {
                Some(bytes) => {
                    // What else the VM side has ready goes out with it: one
                    // flush (one write) per burst instead of per message.
                    let mut burst = Some(bytes);
                    let mut ended = false;
                    while let Some(bytes) = burst.take() {
                        if browser.feed(Message::Binary(bytes)).await.is_err() {
                            ended = true;
                            break;
                        }
                        match from_vm.recv().now_or_never() {
                            Some(Some(next)) => burst = Some(next),
                            Some(None) => {
                                let _ = browser.feed(Message::Close(None)).await;
                                ended = true;
                            }
                            None => {}
                        }
                    }
                    if browser.flush().await.is_err() || ended {
                        break;
                    }
                }
                None => {
                    let _ = browser.send(Message::Close(None)).await;
                    break;
                }
            },
            message = browser.recv() => match message {
                Some(Ok(Message::Binary(bytes))) => {
                    if to_vm.send(bytes).await.is_err() {
                        let _ = browser.send(Message::Close(None)).await;
                        break;
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Text(_))) => {}
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            },
        }
    }
    to_vm.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_origin_handshakes() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "vle.example:8443".parse().unwrap());
        assert!(!same_origin(&headers), "no Origin: refused");
        headers.insert(header::ORIGIN, "https://vle.example:8443".parse().unwrap());
        assert!(same_origin(&headers));
        headers.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!same_origin(&headers));
    }
}
