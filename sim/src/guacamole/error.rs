//! Guacamole's REST error answers (`org.apache.guacamole.rest.APIError`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub(crate) struct GuacError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    translation_key: &'static str,
}

impl GuacError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> GuacError {
        GuacError { status, kind, message: message.into(), translation_key: "APP.TEXT_UNTRANSLATED" }
    }

    pub fn bad_request(message: impl Into<String>) -> GuacError {
        GuacError::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    /// Wrong username or password, or JSON data that is invalid, expired or used.
    pub fn invalid_login() -> GuacError {
        GuacError {
            translation_key: "LOGIN.ERROR_INVALID_LOGIN",
            ..GuacError::new(StatusCode::FORBIDDEN, "INVALID_CREDENTIALS", "Invalid login.")
        }
    }

    /// A missing, unknown or expired token, or an action the user may not take.
    pub fn permission_denied() -> GuacError {
        GuacError::new(StatusCode::FORBIDDEN, "PERMISSION_DENIED", "Permission Denied.")
    }

    pub fn not_found(message: impl Into<String>) -> GuacError {
        GuacError::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }
}

impl IntoResponse for GuacError {
    fn into_response(self) -> Response {
        let translatable: Value = if self.translation_key == "APP.TEXT_UNTRANSLATED" {
            json!({ "key": self.translation_key, "variables": { "MESSAGE": self.message } })
        } else {
            json!({ "key": self.translation_key, "variables": null })
        };
        let body = json!({
            "message": self.message,
            "translatableMessage": translatable,
            "statusCode": null,
            "expected": null,
            "patches": null,
            "type": self.kind,
        });
        (self.status, axum::Json(body)).into_response()
    }
}
