//! The directory as the sign-in use case's port ([`services::directory::Directory`]):
//! authenticates, maps groups to a role with the configured [`RoleRules`], and turns
//! [`LdapError`]s into the few outcomes the use case acts on (details go to the log).

use async_trait::async_trait;
use services::directory::{Directory, DirectoryAccount, DirectoryError};

use crate::{DirectoryUser, LdapDirectory, LdapError, RoleRules};

pub struct LdapSignIn {
    directory: LdapDirectory,
    rules: RoleRules,
}

impl LdapSignIn {
    /// `rules` should have a default role; a user no rule and no default maps is refused.
    pub fn new(directory: LdapDirectory, rules: RoleRules) -> LdapSignIn {
        LdapSignIn { directory, rules }
    }

    fn account(&self, user: DirectoryUser) -> Result<DirectoryAccount, DirectoryError> {
        let role_key = self
            .rules
            .resolve(user.groups.iter().map(|g| (g.dn.as_str(), g.name.as_str())))
            .map(str::to_owned)
            .ok_or_else(|| DirectoryError::Failed(format!("no role rule matches {} and no default role", user.dn)))?;
        let name = user.display_name.clone().or_else(|| match (&user.given_name, &user.surname) {
            (Some(given), Some(sur)) => Some(format!("{given} {sur}")),
            (None, Some(only)) | (Some(only), None) => Some(only.clone()),
            (None, None) => None,
        });
        Ok(DirectoryAccount {
            username: user.username,
            name,
            email: user.email,
            groups: user.groups.into_iter().map(|g| g.dn).collect(),
            role_key,
            disabled: user.disabled,
        })
    }
}

fn translate(error: LdapError) -> DirectoryError {
    match error {
        LdapError::InvalidCredentials => DirectoryError::InvalidCredentials,
        LdapError::AccountDisabled => DirectoryError::AccountDisabled,
        unreachable @ (LdapError::Unreachable { .. } | LdapError::TlsFailure { .. }) => {
            DirectoryError::Unreachable(unreachable.to_string())
        }
        other => DirectoryError::Failed(other.to_string()),
    }
}

#[async_trait]
impl Directory for LdapSignIn {
    async fn authenticate(&self, username: &str, password: &str) -> Result<DirectoryAccount, DirectoryError> {
        let user = self.directory.authenticate(username, password).await.map_err(translate)?;
        self.account(user)
    }

    async fn lookup(&self, username: &str) -> Result<Option<DirectoryAccount>, DirectoryError> {
        match self.directory.lookup(username).await.map_err(translate)? {
            Some(user) => self.account(user).map(Some),
            None => Ok(None),
        }
    }

    fn role_rules(&self) -> Vec<String> {
        self.rules.describe()
    }

    fn settings(&self) -> Vec<(String, String)> {
        self.directory.config().describe().into_iter().map(|(var, value)| (var.to_string(), value)).collect()
    }
}
