//! What a server function knows about its request: the services, the caller's
//! session and address. Provided by the server for every request.

use domain::user::SessionUser;
use domain::{Actor, AppError};
use http::header::{COOKIE, SET_COOKIE};
use http::request::Parts;
use leptos::prelude::*;
use services::Services;

pub const SESSION_COOKIE: &str = "openvle_session";

/// Request-independent state the server provides to every server function.
#[derive(Clone)]
pub struct ServerState {
    pub services: Services,
    /// Mark cookies `Secure` (the public URL is https).
    pub secure_cookies: bool,
}

/// The client's address as the server determined it (proxy-aware when configured).
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);

pub fn state() -> Result<ServerState, AppError> {
    if let Some(state) = use_context::<ServerState>() {
        return Ok(state);
    }
    // Outside any request: a page whose browser went away while it rendered (its
    // reactive owner, with the request's context, is gone while a resource still
    // runs), or leptos listing the app's routes at start-up. Nobody is calling.
    if parts().is_none() {
        return Err(AppError::NotSignedIn);
    }
    Err(services::ports::internal("server state missing", &"no ServerState in context"))
}

fn parts() -> Option<Parts> {
    use_context::<Parts>()
}

/// Whether a request comes from a plain HTML form (no JavaScript): the
/// browser then gets a redirect back to a page, never the function's value.
pub fn accepts_html(headers: &http::HeaderMap) -> bool {
    headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
}

/// Whether this server function was called by a plain form: not by the
/// hydrated page, and not directly by a page rendering on the server (whose
/// request, the page's GET, accepts HTML too).
pub fn from_plain_form() -> bool {
    parts().is_some_and(|p| p.uri.path().starts_with(super::SERVER_FN_PREFIX) && accepts_html(&p.headers))
}

pub fn client_ip() -> String {
    parts().and_then(|p| p.extensions.get::<ClientIp>().map(|ip| ip.0.clone())).unwrap_or_else(|| "unknown".into())
}

/// The request's id (`x-request-id`, set by the server for every request) and
/// the client's address: copied into the activities the request causes.
/// A request id a client sent itself is kept only if it looks like one.
pub fn origin() -> domain::activity::Origin {
    let request_id = parts().and_then(|p| request_id(&p.headers));
    domain::activity::Origin { request_id, client_ip: Some(client_ip()) }
}

/// The request id of a request's headers (see [`origin`]), for handlers outside server functions.
pub fn request_id(headers: &http::HeaderMap) -> Option<String> {
    headers.get("x-request-id").and_then(|v| v.to_str().ok()).filter(|id| usable_request_id(id)).map(str::to_owned)
}

/// Whether a request id (perhaps sent by the client or a proxy) can go into
/// logs and activities as it is: short, and only letters, digits, `-_.`.
pub fn usable_request_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// The value of cookie `name` in a request's headers, if set and not empty.
pub fn cookie_value(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty())
}

/// The session token from the request's cookie, if any.
pub fn session_token() -> Option<String> {
    cookie_value(&parts()?.headers, SESSION_COOKIE)
}

/// The signed-in user, or `None` for an anonymous request.
pub async fn session_user() -> Result<Option<SessionUser>, AppError> {
    match session_token() {
        Some(token) => state()?.services.session_user(&token).await,
        None => Ok(None),
    }
}

/// The caller, who must be signed in and have accepted every active policy.
pub async fn actor() -> Result<Actor, AppError> {
    let user = session_user().await?.ok_or(AppError::NotSignedIn)?;
    if !user.pending_policies.is_empty() {
        return Err(AppError::PolicyRequired);
    }
    Ok(Actor { origin: origin(), ..user.actor })
}

/// The caller, signed in, whether or not they accepted the policies yet
/// (for accepting them, for their own account, and for signing out).
pub async fn actor_with_pending_policies() -> Result<Actor, AppError> {
    let actor = session_user().await?.ok_or(AppError::NotSignedIn)?.actor;
    Ok(Actor { origin: origin(), ..actor })
}

fn set_cookie(value: String) {
    if let (Some(options), Ok(header)) =
        (use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(&value))
    {
        options.append_header(SET_COOKIE, header);
    }
}

/// A `Set-Cookie` value for one of our cookies: HttpOnly so scripts cannot read it;
/// SameSite=Lax so other sites cannot post with it; Secure when served over https.
/// `max_age_secs` 0 removes the cookie. Shared by server functions and plain handlers
/// (single sign-on) so every cookie is formatted the same way.
pub fn cookie_header(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

/// The session cookie's `Set-Cookie` value.
pub fn session_cookie_header(token: &str, max_age_secs: i64, secure: bool) -> String {
    cookie_header(SESSION_COOKIE, token, max_age_secs, secure)
}

pub fn set_session_cookie(token: &str, max_age_secs: i64, secure: bool) {
    set_cookie(session_cookie_header(token, max_age_secs, secure));
}

pub fn clear_session_cookie(secure: bool) {
    set_cookie(session_cookie_header("", 0, secure));
}

/// After a successful form post: go to `path` with a flash message. Works
/// for plain form posts (303 + Location) and for the hydrated client (which
/// follows the redirect header and navigates).
pub fn redirect_with_flash(path: &str, flash: &str) {
    let separator = if path.contains('?') { '&' } else { '?' };
    leptos_axum::redirect(&format!("{path}{separator}ok={flash}"));
}

/// The preferred language from `Accept-Language`, for visitors not signed in.
pub fn browser_language() -> domain::Language {
    parts()
        .and_then(|p| p.headers.get(http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map(str::to_owned))
        .and_then(|header| {
            header
                .split(',')
                .filter_map(|part| part.split(';').next())
                .find_map(|tag| domain::Language::from_code(tag.trim().get(..2)?))
        })
        .unwrap_or_default()
}
