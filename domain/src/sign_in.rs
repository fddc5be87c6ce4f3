//! What the administrator sees of the institution's sign-in (LDAP and OpenID Connect):
//! the effective configuration, the role rules, and the results of the "Test" actions.

use serde::{Deserialize, Serialize};

/// One configuration variable and its effective value (secrets only said to be set).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigEntry {
    pub variable: String,
    pub value: String,
}

/// A configured sign-in method.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodOverview {
    pub settings: Vec<ConfigEntry>,
    /// Group → role rules in the order they are tried, then the default, one line each.
    pub role_rules: Vec<String>,
}

/// The admin Sign-in page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOverview {
    /// Whether users other than administrators may sign in with a local password.
    pub local_login_non_admins: bool,
    pub directory: Option<MethodOverview>,
    pub provider: Option<MethodOverview>,
}

/// The result of looking a user up in the directory with the service account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryCheck {
    pub username: String,
    /// `None` when no entry matches.
    pub found: Option<DirectoryEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    pub name: Option<String>,
    pub email: Option<String>,
    pub groups: Vec<String>,
    /// The role the rules give this user at their next sign-in.
    pub role_key: String,
    pub disabled: bool,
}

/// What the OpenID provider's discovery document and signing keys say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderCheck {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub end_session_endpoint: Option<String>,
    pub signing_key_ids: Vec<String>,
    /// Settings that do not fit the provider (unknown scopes, logout without endpoint...).
    pub warnings: Vec<String>,
}
