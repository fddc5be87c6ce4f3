//! Signing in through the institution's OpenID provider (single sign-on).
//!
//! `oidc_begin` keeps the attempt's secrets server-side under a random id (the browser
//! only holds that id in a cookie) for ten minutes; `oidc_finish` takes them back (once:
//! a replayed callback finds nothing), lets the provider check the code, and opens a
//! session for the `oidc` account. Which account wins is the rule of ARCHITECTURE.md: a
//! username that belongs to a local or LDAP account is refused, never merged.

use base64::Engine;
use domain::activity::Origin;
use domain::{AppError, AuthBackend, UserStatus, validate};
use serde::{Deserialize, Serialize};

use crate::Services;
use crate::identity_provider::{ExternalIdentity, IdentityProvider, IdpError};
use crate::ports::internal;
use crate::sessions::NewSession;

/// How long a sign-in attempt may take at the provider.
pub const PENDING_LOGIN_SECS: i64 = 10 * 60;

/// Sign-ins one client address may start per window: each start stores an attempt, so
/// an unbounded number would let anyone fill the store.
pub const STARTS_PER_CLIENT: u32 = 30;
pub const START_WINDOW_SECS: u64 = 10 * 60;

/// Reasons (`AppError::Conflict`) a single sign-on fails with; the login page shows them.
pub mod reasons {
    /// No (or an expired, or an already used) sign-in attempt for this callback.
    pub const EXPIRED: &str = "oidc_expired";
    /// The callback's state does not match the attempt.
    pub const STATE: &str = "oidc_state";
    /// The provider rejected the code or its token was invalid.
    pub const REJECTED: &str = "oidc_rejected";
    /// The provider cannot be used (unreachable or misconfigured).
    pub const UNAVAILABLE: &str = "oidc_unavailable";
    /// The username belongs to a local or directory account.
    pub const OTHER_ACCOUNT: &str = "account_belongs_elsewhere";
    /// Single sign-on is not enabled.
    pub const DISABLED: &str = "oidc_disabled";
}

#[derive(Serialize, Deserialize)]
struct Pending {
    provider: String,
    next: String,
}

/// A sign-in attempt that was started: send the browser to `authorize_url` and give it
/// `pending_id` in a cookie.
#[derive(Debug)]
pub struct OidcStart {
    pub authorize_url: String,
    pub pending_id: String,
}

impl Services {
    fn provider(&self) -> Result<&dyn IdentityProvider, AppError> {
        self.identity_provider.as_deref().ok_or_else(|| AppError::conflict(reasons::DISABLED))
    }

    /// The label of the single sign-on button, when it is enabled.
    pub fn oidc_button(&self) -> Option<String> {
        self.identity_provider.as_ref().map(|p| p.display_name())
    }

    /// Starts a single sign-on; `next` is where to go afterwards (checked by the caller).
    pub async fn oidc_begin(&self, next: &str, client_ip: &str) -> Result<OidcStart, AppError> {
        let provider = self.provider()?;
        let key = format!("oidc:ip:{client_ip}");
        let now = self.clock.now();
        if self.ports.attempts.add(&key, START_WINDOW_SECS, now).await? > STARTS_PER_CLIENT {
            tracing::warn!(%client_ip, "too many single sign-on starts from one address");
            let retry_after_secs = self.ports.attempts.retry_after(&key, now).await?.max(1);
            return Err(AppError::RateLimited { retry_after_secs });
        }
        let (authorize_url, provider_pending) = provider.begin().await.map_err(idp_error)?;
        let pending_id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let value = serde_json::to_string(&Pending { provider: provider_pending, next: next.to_string() })
            .map_err(|e| internal("storing a sign-in attempt", &e))?;
        let expires = self.clock.now().plus_secs(PENDING_LOGIN_SECS);
        self.ports.pending_logins.put(&self.token_hash(&pending_id), &value, expires).await?;
        Ok(OidcStart { authorize_url, pending_id })
    }

    /// Completes a single sign-on from the callback. Returns the new session and where to
    /// go next.
    pub async fn oidc_finish(
        &self,
        pending_id: &str,
        code: &str,
        state: &str,
        origin: &Origin,
    ) -> Result<(NewSession, String), AppError> {
        let provider = self.provider()?;
        let now = self.clock.now();
        let raw = match pending_id {
            "" => None,
            id => self.ports.pending_logins.take(&self.token_hash(id), now).await?,
        };
        let Some(raw) = raw else {
            tracing::info!("single sign-on callback without a pending attempt (expired, replayed or forged)");
            return Err(AppError::conflict(reasons::EXPIRED));
        };
        let pending: Pending = serde_json::from_str(&raw).map_err(|e| internal("reading a sign-in attempt", &e))?;
        let identity = provider.finish(code, state, &pending.provider).await.map_err(idp_error)?;
        let session = self.oidc_login(&identity, origin).await?;
        Ok((session, pending.next))
    }

    /// Forgets a sign-in attempt the provider refused (the user cancelled, for example).
    pub async fn oidc_abandon(&self, pending_id: &str) -> Result<(), AppError> {
        if !pending_id.is_empty() {
            self.ports.pending_logins.take(&self.token_hash(pending_id), self.clock.now()).await?;
        }
        Ok(())
    }

    /// Creates or updates the `oidc` account for a proven identity and opens a session. A
    /// username that belongs to a local or LDAP account is refused: accounts never merge.
    pub async fn oidc_login(&self, identity: &ExternalIdentity, origin: &Origin) -> Result<NewSession, AppError> {
        let Ok(username) = validate::username(&identity.username) else {
            tracing::warn!(
                username = %identity.username,
                "single sign-on refused: the provider's username is not a valid OpenVLE username"
            );
            return Err(AppError::conflict(reasons::REJECTED));
        };
        let existing = self.ports.users.by_username(&username).await?;
        if let Some(user) = &existing
            && user.auth_backend != AuthBackend::Oidc
        {
            tracing::warn!(
                %username,
                backend = user.auth_backend.key(),
                "single sign-on refused: the username belongs to another kind of account"
            );
            return Err(AppError::conflict(reasons::OTHER_ACCOUNT));
        }
        if let Some(user) = &existing
            && !user.status.can_sign_in()
        {
            return Err(AppError::AccountDisabled { status: user.status });
        }
        let user = self
            .upsert_external(
                &username,
                AuthBackend::Oidc,
                identity.name.as_deref(),
                identity.email.as_deref(),
                &identity.role_key,
                existing,
            )
            .await?;
        if !user.status.can_sign_in() {
            return Err(AppError::AccountDisabled { status: UserStatus::Inactive });
        }
        self.open_session(&user, origin, Some(identity.id_token.clone())).await
    }

    /// Housekeeping for the scheduler.
    pub async fn purge_expired_pending_logins(&self) -> Result<u64, AppError> {
        Ok(self.ports.pending_logins.purge_expired(self.clock.now()).await?)
    }
}

fn idp_error(error: IdpError) -> AppError {
    match error {
        IdpError::TamperedState => {
            tracing::warn!("single sign-on refused: state mismatch (forged or mixed-up callback)");
            AppError::conflict(reasons::STATE)
        }
        IdpError::CodeRejected(message) => {
            tracing::warn!(%message, "single sign-on refused by the provider");
            AppError::conflict(reasons::REJECTED)
        }
        IdpError::WrongIssuer(message) | IdpError::Unreachable(message) => {
            tracing::error!(%message, "the OpenID provider cannot be used");
            AppError::conflict(reasons::UNAVAILABLE)
        }
        IdpError::Other(message) => {
            tracing::error!(%message, "single sign-on failed");
            AppError::conflict(reasons::UNAVAILABLE)
        }
    }
}
