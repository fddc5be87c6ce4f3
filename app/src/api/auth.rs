//! Signing in and out, and what every page needs to know about the visitor.

use domain::Language;
use domain::user::SessionUser;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ApiResult;

/// What the page shell needs: who is signed in, which language, the title.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShellInfo {
    pub user: Option<SessionUser>,
    pub language: Language,
    pub title: String,
    /// The label of the single sign-on button (`OIDC_DISPLAY_NAME`) when OIDC is enabled.
    #[serde(default)]
    pub oidc_button: Option<String>,
    /// The zone times are shown and typed in (the person's, else the site's).
    #[serde(default)]
    pub time_zone: String,
}

/// Public: answers for anonymous visitors too (they get the login page).
#[server]
pub async fn load_shell() -> ApiResult<ShellInfo> {
    use super::context;
    let state = context::state()?;
    let user = context::session_user().await?;
    let title = state
        .services
        .public_settings()
        .await?
        .into_iter()
        .find(|s| s.key == domain::settings::BRANDING_TITLE)
        .map(|s| s.value)
        .unwrap_or_else(|| "OpenVLE".into());
    let language = user.as_ref().map(|u| u.language).unwrap_or_else(context::browser_language);
    // Nobody signed in (user 0): the site's zone.
    let time_zone = state.services.time_zone_of(user.as_ref().map_or(0, |u| u.actor.user_id)).await?;
    Ok(ShellInfo { user, language, title, oidc_button: state.services.oidc_button(), time_zone })
}

/// Only paths on this site (`domain::redirect::local_path`), else the home
/// page: a `next` pointing elsewhere would make the login page an open redirect.
pub fn safe_next(next: Option<&str>) -> &str {
    next.and_then(domain::redirect::local_path).unwrap_or("/")
}

/// Public: this is how one becomes signed in.
#[server]
pub async fn login(username: String, password: String, next: Option<String>) -> ApiResult<()> {
    use super::context;
    let state = context::state()?;
    let session = state.services.login(&username, &password, &context::origin()).await?;
    context::set_session_cookie(&session.token, session.lifetime_secs, state.secure_cookies);
    let next = safe_next(next.as_deref());
    let pending = state.services.session_user(&session.token).await?.is_some_and(|u| !u.pending_policies.is_empty());
    if pending {
        leptos_axum::redirect(&format!("/policies/accept?next={}", crate::url_encode(next)));
    } else {
        leptos_axum::redirect(next);
    }
    Ok(())
}

/// Signed-in users only (an anonymous sign-out is refused like any other call).
#[server]
pub async fn logout() -> ApiResult<()> {
    use super::context;
    let state = context::state()?;
    let actor = context::actor_with_pending_policies().await?;
    let provider_logout = match context::session_token() {
        Some(token) => state.services.logout(&actor, &token).await?,
        None => None,
    };
    context::clear_session_cookie(state.secure_cookies);
    match provider_logout {
        // Single sign-on: sign out at the provider too; it sends the browser back to /login.
        Some(url) => leptos_axum::redirect(&url),
        None => context::redirect_with_flash("/login", super::flash::SIGNED_OUT),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_falls_back_to_the_home_page() {
        // The cases are `domain::redirect`'s; here only the fallback.
        assert_eq!(super::safe_next(Some("/admin/users?page=2")), "/admin/users?page=2");
        assert_eq!(super::safe_next(Some("/\\evil.example")), "/");
        assert_eq!(super::safe_next(None), "/");
    }
}
