//! The OpenID provider as the sign-in use case's port
//! ([`services::identity_provider::IdentityProvider`]): runs the code flow with
//! [`OidcClient`], maps groups to a role with the configured [`RoleRules`], and turns
//! [`OidcError`]s into the few outcomes the use case acts on (details go to the log).
//!
//! Discovery happens at start-up ([`OidcSignIn::warm_up`]); when the provider is not
//! reachable then, the server still starts and discovery is retried on the next sign-in.

use std::sync::Arc;

use async_trait::async_trait;
use domain::SecretText;
use domain::sign_in::ProviderCheck;
use services::identity_provider::{ExternalIdentity, IdentityProvider, IdpError};
use services::role_rules::RoleRules;
use tokio::sync::Mutex;

use crate::{OidcClient, OidcConfig, OidcError, OidcIdentity, PendingLogin, vars};

pub struct OidcSignIn {
    config: OidcConfig,
    rules: RoleRules,
    client: Mutex<Option<Arc<OidcClient>>>,
}

impl OidcSignIn {
    /// `rules` should have a default role; a user no rule and no default maps is refused.
    pub fn new(config: OidcConfig, rules: RoleRules) -> OidcSignIn {
        OidcSignIn { config, rules, client: Mutex::new(None) }
    }

    /// Discovers the provider now; a failure is logged and retried on first use.
    pub async fn warm_up(&self) {
        if let Err(error) = self.client().await {
            tracing::error!(%error, issuer = %self.config.issuer, "OpenID provider discovery failed; retrying at the next sign-in");
        } else {
            tracing::info!(issuer = %self.config.issuer, "OpenID provider discovered");
        }
    }

    async fn client(&self) -> Result<Arc<OidcClient>, OidcError> {
        let mut slot = self.client.lock().await;
        if let Some(client) = slot.as_ref() {
            return Ok(client.clone());
        }
        let client = Arc::new(OidcClient::discover(self.config.clone()).await?);
        *slot = Some(client.clone());
        Ok(client)
    }

    fn identity(&self, identity: OidcIdentity) -> Result<ExternalIdentity, IdpError> {
        let role_key = self
            .rules
            .resolve(identity.groups.iter().map(|g| (g.as_str(), g.as_str())))
            .map(str::to_owned)
            .ok_or_else(|| {
                IdpError::Other(format!("no role rule matches {} and no default role", identity.username))
            })?;
        let name = identity.name.clone().or_else(|| match (&identity.given_name, &identity.family_name) {
            (Some(given), Some(family)) => Some(format!("{given} {family}")),
            (None, Some(only)) | (Some(only), None) => Some(only.clone()),
            (None, None) => None,
        });
        Ok(ExternalIdentity {
            username: identity.username,
            email: identity.email,
            name,
            role_key,
            id_token: SecretText(identity.id_token),
        })
    }
}

fn translate(error: OidcError) -> IdpError {
    match error {
        OidcError::TamperedState => IdpError::TamperedState,
        rejected @ (OidcError::CodeRejected(_) | OidcError::InvalidIdToken(_) | OidcError::Expired(_)) => {
            IdpError::CodeRejected(rejected.to_string())
        }
        wrong @ OidcError::WrongIssuer { .. } => IdpError::WrongIssuer(wrong.to_string()),
        unreachable @ OidcError::Unreachable { .. } => IdpError::Unreachable(unreachable.to_string()),
        other => IdpError::Other(other.to_string()),
    }
}

#[async_trait]
impl IdentityProvider for OidcSignIn {
    fn display_name(&self) -> String {
        self.config.display_name.clone()
    }

    async fn begin(&self) -> Result<(String, String), IdpError> {
        let start = self.client().await.map_err(translate)?.begin_login();
        let pending = serde_json::to_string(&start.pending).map_err(|e| IdpError::Other(e.to_string()))?;
        Ok((start.authorize_url.to_string(), pending))
    }

    async fn finish(&self, code: &str, state: &str, pending: &str) -> Result<ExternalIdentity, IdpError> {
        let pending: PendingLogin =
            serde_json::from_str(pending).map_err(|e| IdpError::Other(format!("unreadable sign-in attempt: {e}")))?;
        let client = self.client().await.map_err(translate)?;
        let identity = client.finish_login(code, state, &pending).await.map_err(translate)?;
        self.identity(identity)
    }

    fn role_rules(&self) -> Vec<String> {
        self.rules.describe()
    }

    fn settings(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> =
            self.config.describe().into_iter().map(|(var, value)| (var.to_string(), value)).collect();
        if self.config.logout {
            out.push((
                format!("post-logout redirect URI ({} on; register it at the provider)", vars::LOGOUT),
                self.config.post_logout_redirect(),
            ));
        }
        out
    }

    async fn check(&self) -> Result<ProviderCheck, IdpError> {
        let summary = OidcClient::test_configuration(self.config.clone()).await.map_err(translate)?;
        Ok(ProviderCheck {
            issuer: summary.issuer,
            authorization_endpoint: summary.authorization_endpoint,
            token_endpoint: summary.token_endpoint,
            end_session_endpoint: summary.end_session_endpoint,
            signing_key_ids: summary.signing_key_ids,
            warnings: summary.warnings,
        })
    }

    async fn logout_url(&self, id_token: &SecretText) -> Option<String> {
        let client = match self.client().await {
            Ok(client) => client,
            Err(error) => {
                // Signing out here still works; only the provider's session stays open.
                tracing::warn!(%error, "cannot sign out at the OpenID provider: discovery failed");
                return None;
            }
        };
        client.logout_url(id_token.expose(), Some(&self.config.post_logout_redirect())).map(|url| url.to_string())
    }
}
