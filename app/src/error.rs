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
        #[cfg(feature = "ssr")]
        set_status(&error);
        ApiError(error)
    }
}

/// The HTTP status a failed server function answers with. Plain form posts
/// are left alone: they get a redirect back to the form, which shows the error.
/// So are pages rendering on the server, whose resources call server functions
/// directly: a section that fails does not fail the page (the page's own
/// object sets it, see `components::page_error_view`).
#[cfg(feature = "ssr")]
fn set_status(error: &AppError) {
    use http::StatusCode;
    use leptos::prelude::use_context;
    let Some(parts) = use_context::<http::request::Parts>() else {
        return;
    };
    let server_function = parts.uri.path().starts_with(crate::api::SERVER_FN_PREFIX);
    let from_plain_form = crate::api::context::accepts_html(&parts.headers);
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    if !server_function || from_plain_form {
        return;
    }
    response.set_status(match error {
        AppError::NotSignedIn | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
        AppError::Forbidden | AppError::AccountDisabled { .. } | AppError::PolicyRequired => StatusCode::FORBIDDEN,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
        AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Conflict { .. } | AppError::InUse { .. } => StatusCode::CONFLICT,
        AppError::Unreachable | AppError::DirectoryUnreachable => StatusCode::SERVICE_UNAVAILABLE,
        AppError::CheckFailed { .. } => StatusCode::BAD_GATEWAY,
        AppError::Cluster { problem } => {
            use domain::cluster::ClusterProblem as P;
            match problem {
                P::NotConfigured | P::SecretKeyMissing | P::SecretUnreadable => StatusCode::CONFLICT,
                P::Setup { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                // The cluster failed, not us: a gateway error.
                _ => StatusCode::BAD_GATEWAY,
            }
        }
        AppError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    });
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
            ServerFnErrorErr::Args(message)
            | ServerFnErrorErr::MissingArg(message)
            | ServerFnErrorErr::Deserialization(message) => AppError::BadRequest { detail: message }.into(),
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => ApiError(AppError::Unreachable),
            other => AppError::Internal { reference: format!("server-fn/{}", short_kind(&other)) }.into(),
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
