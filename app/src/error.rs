//! The error type of every server function: the domain's [`AppError`],
//! wrapped so that Leptos can carry it across the wire (JSON) and through a
//! no-JavaScript form redirect (`?__err=`).

use domain::AppError;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(error: AppError) -> ApiError {
        ApiError(error)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    /// Failures of the transport itself: a form that could not be decoded is
    /// the caller's fault (400-style), anything else is ours.
    fn from_server_fn_error(value: ServerFnErrorErr) -> ApiError {
        match value {
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                ApiError(AppError::BadRequest(message))
            }
            ServerFnErrorErr::Deserialization(message) => ApiError(AppError::BadRequest(message)),
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => ApiError(AppError::Unreachable),
            other => ApiError(AppError::Internal {
                reference: format!("server-fn/{}", short_kind(&other)),
            }),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A stable name for a transport failure, without its (possibly sensitive) text.
fn short_kind(error: &ServerFnErrorErr) -> &'static str {
    match error {
        ServerFnErrorErr::Registration(_) => "registration",
        ServerFnErrorErr::UnsupportedRequestMethod(_) => "method",
        ServerFnErrorErr::ServerError(_) => "server",
        ServerFnErrorErr::MiddlewareError(_) => "middleware",
        ServerFnErrorErr::Serialization(_) => "serialization",
        _ => "other",
    }
}
