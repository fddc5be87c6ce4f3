//! LDAP(S) directory client for OpenVLE's sign-in.
//!
//! Build an [`LdapConfig`] (usually [`LdapConfig::from_lookup`] over the `LDAP_*`
//! variables; `None` when LDAP is disabled), then an [`LdapDirectory`].
//! [`LdapDirectory::authenticate`] checks a username and password and returns the
//! [`DirectoryUser`] with their groups; [`LdapDirectory::lookup`] finds a user without a
//! password for the admin "Test" action. [`RoleRules`] maps groups to a role key.
//!
//! This crate is an adapter: it knows nothing of OpenVLE's users or roles; the service
//! layer maps [`DirectoryUser`] and [`LdapError`] into its own terms.

pub mod adapter;
mod config;
mod directory;
mod error;
pub mod escape;

#[cfg(feature = "testing")]
pub mod testing;
mod tls;
mod user;

pub use config::{
    AttributeMap, DEFAULT_GROUP_FILTER, DEFAULT_TIMEOUT, DEFAULT_USER_FILTER, DisabledMatch, DisabledRule, GroupSource,
    LdapConfig, LdapConfigError, ServiceAccount, TlsVerification, UserLocator, vars,
};
pub use directory::LdapDirectory;
pub use error::LdapError;
pub use services::role_rules::RoleRules;
pub use user::{DirectoryGroup, DirectoryUser};
