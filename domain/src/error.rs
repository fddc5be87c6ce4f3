//! Errors as the user sees them. They cross the server-function boundary, so
//! they are plain serialisable data; the UI turns them into localised text.
//! Internal failures carry only a reference to the server log, never details.

use serde::{Deserialize, Serialize};

use crate::cluster::ClusterProblem;
use crate::user::UserStatus;

/// Which form field a validation problem belongs to (the form's field name).
pub type Field = String;

/// Why a value was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    Required,
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    /// Characters or shape not allowed; `expected` names the rule (e.g. `username`).
    Format {
        expected: String,
    },
    /// The password is weak; `reason` says how (`common`, `contains_username`, `variety`).
    WeakPassword {
        reason: String,
    },
    /// Another record already uses this value.
    Taken,
    OutOfRange {
        min: i64,
        max: i64,
    },
    /// The value does not name anything known (a role key, a language...).
    Unknown,
    /// The same value is on an earlier line of the same list (a roster).
    Repeated {
        line: usize,
    },
    /// Usernames that no account has (all of them, so that one answer fixes the list).
    NoSuchAccounts {
        usernames: Vec<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum AppError {
    #[error("sign-in required")]
    NotSignedIn,
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("{field}: {problem:?}")]
    Invalid { field: Field, problem: Problem },
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("account is {status:?}")]
    AccountDisabled { status: UserStatus },
    #[error("too many attempts, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The action is not possible in the object's current state
    /// (`reason` is a stable key such as `role_in_use` or `last_admin`).
    #[error("conflict: {reason}")]
    Conflict { reason: String },
    /// A catalogue entry cannot be deleted while something uses it; `used_by`
    /// names every user, so the message can say what to unlink first.
    #[error("in use by {used_by:?}")]
    InUse { used_by: Vec<crate::catalogue::Usage> },
    /// The user must accept the terms of use first.
    #[error("policy acceptance required")]
    PolicyRequired,
    /// The request itself was malformed (missing or unparseable form fields).
    #[error("bad request: {detail}")]
    BadRequest { detail: String },
    /// The browser could not reach the server (network down, server restarting).
    #[error("server unreachable")]
    Unreachable,
    /// The institution's directory (LDAP) could not be reached to check a directory
    /// account's password; local accounts still sign in.
    #[error("directory unreachable")]
    DirectoryUnreachable,
    /// The Proxmox VE cluster could not be used; `problem` says why.
    #[error("Proxmox VE: {problem:?}")]
    Cluster { problem: ClusterProblem },
    /// An administrator's test of another system (the directory, the OpenID provider)
    /// failed; `message` is what that system or the network said, never a secret.
    #[error("{system}: {message}")]
    CheckFailed { system: String, message: String },
    /// Something failed on the server; the log has details under `reference`.
    #[error("internal error (ref {reference})")]
    Internal { reference: String },
}

impl AppError {
    pub fn invalid(field: &str, problem: Problem) -> AppError {
        AppError::Invalid { field: field.to_string(), problem }
    }

    pub fn conflict(reason: &str) -> AppError {
        AppError::Conflict { reason: reason.to_string() }
    }

    /// The field this error belongs to, if it is about one form field.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Errors cross the wire as JSON; every variant must survive the trip
    /// (internally tagged enums cannot wrap bare strings).
    #[test]
    fn every_variant_round_trips_through_json() {
        let all = [
            AppError::NotSignedIn,
            AppError::Forbidden,
            AppError::NotFound,
            AppError::invalid("email", Problem::TooLong { max: 3 }),
            AppError::InvalidCredentials,
            AppError::AccountDisabled { status: UserStatus::Banned },
            AppError::RateLimited { retry_after_secs: 5 },
            AppError::conflict("last_admin"),
            AppError::InUse {
                used_by: vec![crate::catalogue::Usage { kind: "templates".into(), names: vec!["Kali".into()] }],
            },
            AppError::PolicyRequired,
            AppError::BadRequest { detail: "missing field".into() },
            AppError::Unreachable,
            AppError::DirectoryUnreachable,
            AppError::Cluster { problem: ClusterProblem::Api { status: 500, message: "x".into() } },
            AppError::CheckFailed { system: "LDAP".into(), message: "invalid credentials".into() },
            AppError::Internal { reference: "ab12".into() },
        ];
        for error in all {
            let json = serde_json::to_string(&error).unwrap();
            assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), error, "{json}");
        }
    }
}
