//! The institution's OpenID provider as the sign-in use case sees it.
//!
//! The adapter (`oidc-connector`'s `adapter`) runs the authorization-code flow and applies
//! the configured group → role rules (`OIDC_ROLE_RULES`, `OIDC_DEFAULT_ROLE`); the use case
//! decides what a sign-in means for OpenVLE's accounts (see `Services::oidc_finish`).

use async_trait::async_trait;
use domain::SecretText;
use domain::sign_in::ProviderCheck;

/// A person as the identity provider describes them, with their mapped role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalIdentity {
    pub username: String,
    pub email: Option<String>,
    pub name: Option<String>,
    /// The OpenVLE role key the configured rules give the provider's groups.
    pub role_key: String,
    /// The raw ID token, kept with the session for RP-initiated logout.
    pub id_token: SecretText,
}

/// What can go wrong, in the terms the sign-in acts on. Details for the administrator go
/// to the log.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdpError {
    /// The callback's `state` does not belong to this sign-in attempt.
    #[error("the sign-in response does not belong to this sign-in attempt")]
    TamperedState,
    /// The provider refused the code (invalid, expired, used twice) or its ID token failed
    /// validation.
    #[error("the provider rejected the sign-in: {0}")]
    CodeRejected(String),
    /// The provider calls itself by another issuer than configured.
    #[error("wrong issuer: {0}")]
    WrongIssuer(String),
    /// No connection or no answer in time.
    #[error("identity provider unreachable: {0}")]
    Unreachable(String),
    #[error("identity provider error: {0}")]
    Other(String),
}

#[async_trait]
pub trait IdentityProvider: Send + Sync {
    /// The label of the sign-in button (`OIDC_DISPLAY_NAME`).
    fn display_name(&self) -> String;
    /// Starts a sign-in: where to send the browser, and the attempt's secrets (opaque JSON)
    /// to keep on the server until the callback.
    async fn begin(&self) -> Result<(String, String), IdpError>;
    /// Completes a sign-in from the callback's `code` and `state` and what `begin` returned.
    async fn finish(&self, code: &str, state: &str, pending: &str) -> Result<ExternalIdentity, IdpError>;
    /// The effective role rules, one line each, for the administrator's view.
    fn role_rules(&self) -> Vec<String>;
    /// The effective configuration as (variable, value) pairs, without secrets.
    fn settings(&self) -> Vec<(String, String)>;
    /// Fetches the discovery document and the signing keys afresh (the admin "Test").
    async fn check(&self) -> Result<ProviderCheck, IdpError>;
    /// Where to send the browser to sign out at the provider too (RP-initiated logout),
    /// or `None` when that is off or the provider offers no end-session endpoint.
    async fn logout_url(&self, id_token: &SecretText) -> Option<String>;
}
