//! OpenID Connect relying party for OpenVLE's single sign-on.
//!
//! Build an [`OidcConfig`] (usually [`OidcConfig::from_lookup`] over the `OIDC_*`
//! variables; `None` when disabled), then [`OidcClient::discover`]. A login is
//! [`OidcClient::begin_login`] (redirect the browser, keep [`PendingLogin`] in the
//! session) and [`OidcClient::finish_login`] on the callback, which returns the
//! [`OidcIdentity`]. [`OidcClient::logout_url`] gives the provider's end-session URL,
//! [`OidcClient::test_configuration`] checks settings for the admin "Test" action.
//!
//! This crate is an adapter: it knows nothing of OpenVLE's users or roles; the service
//! layer maps [`OidcIdentity`] and [`OidcError`] into its own terms.
//!
//! Requests go through reqwest with rustls on the `ring` provider (configured here, so no
//! process-wide default is needed) and never follow redirects.

pub mod adapter;
mod claims;
mod client;
mod config;
mod error;
mod http;
#[cfg(feature = "testing")]
pub mod testing;
mod token;

pub use claims::OidcIdentity;
pub use client::{LoginStart, OidcClient, PendingLogin, ProviderSummary};
pub use config::{
    DEFAULT_CLOCK_SKEW, DEFAULT_DISPLAY_NAME, DEFAULT_GROUPS_CLAIM, DEFAULT_SCOPES, DEFAULT_TIMEOUT,
    DEFAULT_USERNAME_CLAIM, OidcConfig, OidcConfigError, vars,
};
pub use error::OidcError;
