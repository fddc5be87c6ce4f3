//! The administrator's view of the institution's sign-in: the effective LDAP and
//! OpenID Connect configuration with their role rules, and the "Test" actions that try
//! them against the real directory and provider without signing anybody in.

use domain::access::ObjectType;
use domain::settings::LOCAL_LOGIN_FOR_NON_ADMINS;
use domain::sign_in::{ConfigEntry, DirectoryCheck, DirectoryEntry, MethodOverview, ProviderCheck, SignInOverview};
use domain::{Action, Actor, AppError, Target, validate};

use crate::directory::DirectoryError;
use crate::identity_provider::IdpError;
use crate::{Services, authorize};

/// Reason keys of the "Test" actions' failures (the message itself carries the details
/// an administrator needs; they never contain a password).
pub mod reasons {
    pub const LDAP_OFF: &str = "ldap_not_configured";
    pub const OIDC_OFF: &str = "oidc_not_configured";
}

fn entries(pairs: Vec<(String, String)>) -> Vec<ConfigEntry> {
    pairs.into_iter().map(|(variable, value)| ConfigEntry { variable, value }).collect()
}

impl Services {
    pub async fn sign_in_overview(&self, actor: &Actor) -> Result<SignInOverview, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Setting))?;
        let local = self.ports.settings.get(LOCAL_LOGIN_FOR_NON_ADMINS).await?;
        Ok(SignInOverview {
            local_login_non_admins: local.is_none_or(|s| s.value == "true"),
            directory: self
                .directory
                .as_ref()
                .map(|d| MethodOverview { settings: entries(d.settings()), role_rules: d.role_rules() }),
            provider: self
                .identity_provider
                .as_ref()
                .map(|p| MethodOverview { settings: entries(p.settings()), role_rules: p.role_rules() }),
        })
    }

    /// Binds with the service account and looks `username` up, showing what a sign-in
    /// would make of them. Changes nothing.
    pub async fn test_directory(&self, actor: &Actor, username: &str) -> Result<DirectoryCheck, AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::Setting))?;
        let username = validate::username(username)?;
        let directory = self.directory.as_ref().ok_or_else(|| AppError::conflict(reasons::LDAP_OFF))?;
        let found = directory.lookup(&username).await.map_err(|error| {
            let message = match error {
                DirectoryError::Unreachable(m) => format!("directory unreachable: {m}"),
                DirectoryError::Failed(m) => m,
                other => other.to_string(),
            };
            AppError::CheckFailed { system: "LDAP".into(), message }
        })?;
        Ok(DirectoryCheck {
            username,
            found: found.map(|a| DirectoryEntry {
                name: a.name,
                email: a.email,
                groups: a.groups,
                role_key: a.role_key,
                disabled: a.disabled,
            }),
        })
    }

    /// Fetches the provider's discovery document and signing keys afresh.
    pub async fn test_identity_provider(&self, actor: &Actor) -> Result<ProviderCheck, AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::Setting))?;
        let provider = self.identity_provider.as_ref().ok_or_else(|| AppError::conflict(reasons::OIDC_OFF))?;
        provider.check().await.map_err(|error| AppError::CheckFailed {
            system: "OpenID Connect".into(),
            message: match error {
                IdpError::Unreachable(m) | IdpError::WrongIssuer(m) | IdpError::Other(m) => m,
                other => other.to_string(),
            },
        })
    }
}
