//! The institution's directory (LDAP) as the sign-in use case sees it.
//!
//! The adapter (`ldap-connector`'s `adapter`) talks to the directory and applies the
//! configured group → role rules (`LDAP_ROLE_RULES`, `LDAP_DEFAULT_ROLE`); the use case
//! decides what a sign-in means for OpenVLE's accounts (see `Services::login`).

use async_trait::async_trait;

/// A person as the directory describes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryAccount {
    /// The username as the directory stores it.
    pub username: String,
    /// Display name, or given name and surname; `None` when the entry has neither.
    pub name: Option<String>,
    pub email: Option<String>,
    /// Group names (or DNs) the user belongs to, for the administrator's "Test" view.
    pub groups: Vec<String>,
    /// The OpenVLE role key the configured rules give these groups.
    pub role_key: String,
    /// Only a lookup can report this; a sign-in fails with [`DirectoryError::AccountDisabled`].
    pub disabled: bool,
}

/// What can go wrong, in the terms the sign-in acts on. Details for the administrator go
/// to the log; nothing here carries a password.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// Wrong password or unknown user (deliberately one variant).
    #[error("invalid username or password")]
    InvalidCredentials,
    #[error("the directory account is disabled")]
    AccountDisabled,
    /// No connection, no answer in time, or TLS failed.
    #[error("directory unreachable: {0}")]
    Unreachable(String),
    /// The directory answered, but not as configured (misconfiguration, protocol error).
    #[error("directory error: {0}")]
    Failed(String),
}

#[async_trait]
pub trait Directory: Send + Sync {
    /// Checks a username and password; on success the account with its mapped role.
    async fn authenticate(&self, username: &str, password: &str) -> Result<DirectoryAccount, DirectoryError>;
    /// Finds a user without their password (service account); `Ok(None)` when none matches.
    async fn lookup(&self, username: &str) -> Result<Option<DirectoryAccount>, DirectoryError>;
    /// The effective role rules, one line each (`pattern → role`, then the default), for
    /// the administrator's view.
    fn role_rules(&self) -> Vec<String>;
    /// The effective configuration as (variable, value) pairs, without secrets.
    fn settings(&self) -> Vec<(String, String)>;
}
