//! Single sign-on through the OpenID provider: two plain GET handlers.
//!
//! `GET /auth/oidc/start?next=/path` starts an attempt (its secrets stay on the server,
//! the browser gets only their random id in the `openvle_oidc` cookie) and sends the
//! browser to the provider; `GET /auth/oidc/callback?code&state` is where the provider
//! sends it back (`OIDC_REDIRECT_URL`). These GETs change state but pass no Origin check:
//! the `state` parameter bound to the HttpOnly cookie protects them. Every failure ends
//! on the login page with `?oidc_error=<reason>`, which it shows as a sentence.

use std::collections::HashMap;

use app::api::auth::safe_next;
use app::api::context::{ClientIp, cookie_header, cookie_value};
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::AppError;
use services::oidc::PENDING_LOGIN_SECS;

use crate::web::WebState;

/// The cookie naming the pending sign-in attempt.
pub const OIDC_COOKIE: &str = "openvle_oidc";

/// 303 to `location`, setting the given cookies.
fn see_other(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    for value in cookies {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The reason key the login page turns into a sentence.
fn reason(error: &AppError) -> String {
    match error {
        AppError::Conflict { reason } => reason.clone(),
        AppError::AccountDisabled { .. } => "account_disabled".into(),
        AppError::RateLimited { .. } => "rate_limited".into(),
        _ => services::oidc::reasons::UNAVAILABLE.into(),
    }
}

fn to_login(error: &AppError, secure: bool) -> Response {
    let location = format!("/login?oidc_error={}", app::url_encode(&reason(error)));
    see_other(&location, &[cookie_header(OIDC_COOKIE, "", 0, secure)])
}

/// `GET /auth/oidc/start?next=/path`
pub async fn start(
    State(state): State<WebState>,
    client_ip: Option<Extension<ClientIp>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let secure = state.server.secure_cookies;
    let next = safe_next(query.get("next").map(String::as_str)).to_string();
    let client_ip = client_ip.map(|Extension(ClientIp(ip))| ip).unwrap_or_else(|| "unknown".into());
    match state.system.services.oidc_begin(&next, &client_ip).await {
        Ok(start) => see_other(
            &start.authorize_url,
            &[cookie_header(OIDC_COOKIE, &start.pending_id, PENDING_LOGIN_SECS, secure)],
        ),
        Err(error) => to_login(&error, secure),
    }
}

/// `GET /auth/oidc/callback?code&state` (or `?error=...` when the provider refused).
pub async fn callback(
    State(state): State<WebState>,
    client_ip: Option<Extension<ClientIp>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let origin = domain::activity::Origin {
        request_id: app::api::context::request_id(&headers),
        client_ip: client_ip.map(|Extension(ClientIp(ip))| ip),
    };
    let secure = state.server.secure_cookies;
    let services = &state.system.services;
    let pending_id = cookie_value(&headers, OIDC_COOKIE).unwrap_or_default();
    let code = query.get("code").map(String::as_str).unwrap_or_default();
    let returned_state = query.get("state").map(String::as_str).unwrap_or_default();
    if let Some(error) = query.get("error") {
        tracing::info!(%error, description = query.get("error_description").map(String::as_str).unwrap_or(""), "the OpenID provider refused the sign-in");
        // Consume the attempt so that it cannot be used later.
        let _ = services.oidc_abandon(&pending_id).await;
        return to_login(&AppError::conflict(services::oidc::reasons::REJECTED), secure);
    }
    match services.oidc_finish(&pending_id, code, returned_state, &origin).await {
        Ok((session, next)) => {
            let next = safe_next(Some(&next)).to_string();
            let pending_policies = services
                .session_user(&session.token)
                .await
                .ok()
                .flatten()
                .is_some_and(|u| !u.pending_policies.is_empty());
            let location =
                if pending_policies { format!("/policies/accept?next={}", app::url_encode(&next)) } else { next };
            see_other(
                &location,
                &[
                    app::api::context::session_cookie_header(&session.token, session.lifetime_secs, secure),
                    cookie_header(OIDC_COOKIE, "", 0, secure),
                ],
            )
        }
        Err(error) => to_login(&error, secure),
    }
}
