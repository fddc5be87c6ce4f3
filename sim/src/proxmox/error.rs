//! Error answers shaped like Proxmox's: the message in the HTTP reason phrase (where
//! real `pveproxy` puts it), and a JSON body `{"data": null, ...}`.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    /// Per-parameter messages of a 400 "Parameter verification failed.".
    errors: BTreeMap<String, String>,
    /// Whether the message is also in the body's `message` (Proxmox does this for errors
    /// raised by API handlers, not for authentication and permission failures).
    message_in_body: bool,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>, message_in_body: bool) -> ApiError {
        ApiError { status, message: message.into(), errors: BTreeMap::new(), message_in_body }
    }

    /// The usual failure of an API handler: HTTP 500 with the message.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message, true)
    }

    pub fn unauthorized(message: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, message, false)
    }

    /// Proxmox's wording for a missing privilege on an ACL path.
    pub fn forbidden(acl_path: &str, privilege: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, format!("Permission check failed ({acl_path}, {privilege})"), false)
    }

    pub fn param(name: &str, message: impl Into<String>) -> ApiError {
        let mut errors = BTreeMap::new();
        errors.insert(name.to_owned(), message.into());
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: "Parameter verification failed.".into(),
            errors,
            message_in_body: false,
        }
    }

    pub fn not_implemented(method: &str, path: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_IMPLEMENTED, format!("Method '{method} {path}' not implemented"), false)
    }

    /// A `...websocket` request whose upgrade Proxmox refuses (`die` in its
    /// handler: 501, the reason in the status line).
    pub fn upgrade_refused(message: String) -> ApiError {
        ApiError::new(StatusCode::NOT_IMPLEMENTED, message, false)
    }

    /// What `pveproxy` answers when it cannot forward a request to another node.
    pub fn node_unreachable(node: &str) -> ApiError {
        ApiError::new(
            // 595 is Proxmox's own code for proxy connection failures.
            StatusCode::from_u16(595).unwrap_or(StatusCode::BAD_GATEWAY),
            format!("Errors during connection establishment, proxy handler: No route to host (node '{node}')"),
            false,
        )
    }

    /// An injected failure with an arbitrary status.
    pub fn injected(status: u16, message: &str) -> ApiError {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError::new(status, message, status == StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The missing-config message real Proxmox gives for an unknown VMID on a node.
    pub fn no_such_vm(node: &str, vmid: u32) -> ApiError {
        ApiError::internal(format!("Configuration file 'nodes/{node}/qemu-server/{vmid}.conf' does not exist"))
    }

    pub fn vm_locked(vmid: u32, lock: &str) -> ApiError {
        ApiError::internal(format!("VM {vmid} is locked ({lock})"))
    }
}

/// Reason phrases must be visible ASCII and short; Proxmox also flattens newlines.
fn reason_phrase(message: &str) -> String {
    let mut out: String =
        message.trim().chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { ' ' }).collect();
    out.truncate(200);
    out
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "data": Value::Null });
        if !self.errors.is_empty() {
            body["errors"] = json!(self.errors);
        }
        if self.message_in_body {
            body["message"] = Value::String(format!("{}\n", self.message));
        }
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Ok(reason) = hyper::ext::ReasonPhrase::try_from(reason_phrase(&self.message)) {
            response.extensions_mut().insert(reason);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_is_printable_single_line() {
        assert_eq!(reason_phrase("a\nb\u{e9}c "), "a b c");
        assert_eq!(reason_phrase(&"x".repeat(300)).len(), 200);
    }

    #[test]
    fn response_carries_reason_and_body() {
        let response = ApiError::vm_locked(105, "clone").into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let reason = response.extensions().get::<hyper::ext::ReasonPhrase>().unwrap();
        assert_eq!(reason.as_bytes(), b"VM 105 is locked (clone)");
        let param = ApiError::param("newid", "missing").into_response();
        assert_eq!(param.status(), StatusCode::BAD_REQUEST);
    }
}
