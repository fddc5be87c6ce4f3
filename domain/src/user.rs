//! User accounts as the rest of the system sees them.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Inactive,
    EmailPending,
    Banned,
}

impl UserStatus {
    pub const ALL: [UserStatus; 4] =
        [UserStatus::Active, UserStatus::Inactive, UserStatus::EmailPending, UserStatus::Banned];

    pub fn key(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Inactive => "inactive",
            UserStatus::EmailPending => "email_pending",
            UserStatus::Banned => "banned",
        }
    }

    pub fn from_key(key: &str) -> Option<UserStatus> {
        UserStatus::ALL.into_iter().find(|s| s.key() == key)
    }

    pub fn can_sign_in(self) -> bool {
        self == UserStatus::Active
    }
}

/// Where the account's password is checked.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthBackend {
    Internal,
    Ldap,
    Oidc,
}

impl AuthBackend {
    pub fn key(self) -> &'static str {
        match self {
            AuthBackend::Internal => "internal",
            AuthBackend::Ldap => "ldap",
            AuthBackend::Oidc => "oidc",
        }
    }

    pub fn from_key(key: &str) -> Option<AuthBackend> {
        [AuthBackend::Internal, AuthBackend::Ldap, AuthBackend::Oidc].into_iter().find(|b| b.key() == key)
    }
}

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    En,
    De,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::De];

    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::De => "de",
        }
    }

    pub fn from_code(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The language's name in itself, for pickers.
    pub fn native_name(self) -> &'static str {
        match self {
            Language::En => "English",
            Language::De => "Deutsch",
        }
    }
}

/// A role as shown next to a user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRef {
    pub id: i64,
    pub key: String,
    pub name: String,
}

/// What the caller may change about one account, so that its page offers
/// only those controls (the server checks each change again).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountControls {
    pub profile: bool,
    pub roles: bool,
    pub status: bool,
    pub password: bool,
    pub delete: bool,
}

/// A user account without secrets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub language: Language,
    pub status: UserStatus,
    pub auth_backend: AuthBackend,
    pub roles: Vec<RoleRef>,
    pub created_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

/// A role with its permissions, for the Roles pages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleView {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub description: String,
    /// Model-level permission keys such as `events:full`.
    pub permissions: Vec<String>,
    pub member_count: u64,
}

/// The signed-in user as the page shell needs them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionUser {
    pub actor: crate::access::Actor,
    pub name: String,
    /// The names of the user's roles (the actor has their keys), in the same order.
    pub role_names: Vec<String>,
    pub language: Language,
    /// Terms of use this user has not accepted yet.
    pub pending_policies: Vec<i64>,
}
