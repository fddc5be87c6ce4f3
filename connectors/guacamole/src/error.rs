//! Guacamole's error answers, `{"message": .., "type": .., ...}`, as types.

use serde::Deserialize;

/// The `type` of a Guacamole REST error (`org.apache.guacamole.rest.APIError.Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApiErrorType {
    BadRequest,
    InvalidCredentials,
    InsufficientCredentials,
    InternalError,
    NotFound,
    PermissionDenied,
    StreamError,
    #[serde(other)]
    Other,
}

#[derive(Debug, thiserror::Error)]
pub enum GuacError {
    #[error("Guacamole settings: {reason}")]
    Config { reason: String },
    #[error("Guacamole refused the admin sign-in: {message}")]
    InvalidCredentials { message: String },
    #[error("Guacamole denied the request ({what}): {message}")]
    PermissionDenied { what: String, message: String },
    #[error("Guacamole has no {what}: {message}")]
    NotFound { what: String, message: String },
    #[error("Guacamole rejected {what}: {message}")]
    BadRequest { what: String, message: String },
    #[error("Guacamole failed ({what}), HTTP {status}: {message}")]
    Server { what: String, status: u16, message: String },
    #[error("cannot reach Guacamole ({what}): {message}")]
    Transport { what: String, message: String },
    #[error("unexpected answer from Guacamole ({what}): {message}")]
    Decode { what: String, message: String },
}

impl GuacError {
    /// Failures worth retrying later (network, Guacamole's own errors).
    pub fn is_retryable(&self) -> bool {
        matches!(self, GuacError::Transport { .. } | GuacError::Server { .. })
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    message: Option<String>,
    #[serde(rename = "type")]
    kind: Option<ApiErrorType>,
}

/// The typed error for a non-success answer to the request `what`.
pub(crate) fn from_response(what: &str, status: u16, body: &[u8]) -> GuacError {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|b| b.message.clone())
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect());
    let kind = parsed.and_then(|b| b.kind);
    let what = what.to_owned();
    match (kind, status) {
        (Some(ApiErrorType::InvalidCredentials | ApiErrorType::InsufficientCredentials), _) => {
            GuacError::InvalidCredentials { message }
        }
        (Some(ApiErrorType::PermissionDenied), _) | (None, 401 | 403) => GuacError::PermissionDenied { what, message },
        (Some(ApiErrorType::NotFound), _) | (None, 404) => GuacError::NotFound { what, message },
        (Some(ApiErrorType::BadRequest), _) | (None, 400) => GuacError::BadRequest { what, message },
        _ => GuacError::Server { what, status, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_guacamole_error_bodies() {
        let body = br#"{"message":"No such user: \"bob\"","translatableMessage":null,"statusCode":null,"expected":null,"patches":null,"type":"NOT_FOUND"}"#;
        assert!(
            matches!(from_response("user bob", 404, body), GuacError::NotFound { message, .. } if message == "No such user: \"bob\"")
        );
        let body = br#"{"message":"Invalid login.","type":"INVALID_CREDENTIALS"}"#;
        assert!(matches!(from_response("sign-in", 403, body), GuacError::InvalidCredentials { .. }));
        let body = br#"{"message":"Permission Denied.","type":"PERMISSION_DENIED"}"#;
        assert!(matches!(from_response("users", 403, body), GuacError::PermissionDenied { .. }));
        let proxy = from_response("users", 502, b"<html>Bad Gateway</html>");
        assert!(matches!(&proxy, GuacError::Server { status: 502, .. }) && proxy.is_retryable());
        let body = br#"{"message":"x","type":"SOMETHING_NEW"}"#;
        assert!(matches!(from_response("users", 500, body), GuacError::Server { .. }));
    }
}
