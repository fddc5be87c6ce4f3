//! Client of Apache Guacamole's REST API (1.5+), as OpenVLE uses it: an admin
//! session from `/api/tokens`, users, one connection group per event, connections
//! (RDP, SSH, VNC), READ permissions by JSON Patch, and single sign-on links by
//! Guacamole's encrypted JSON authentication. Every "ensure" call looks things up by
//! name first, so running it again changes nothing.
//!
//! [`adapter::GuacamoleRemoteAccess`] implements `services::remote_access::RemoteAccess`.

pub mod adapter;
mod client;
mod config;
mod error;
mod sso;
mod tls;

pub use client::{
    Change, ConnectionGroup, ConnectionParams, ConnectionSpec, GuacamoleClient, GuacamoleConnection, GuacamoleUser,
    Permissions, UserSpec,
};
pub use config::{GuacamoleConfig, JsonSecretKey, Secret};
pub use error::{ApiErrorType, GuacError};
pub use sso::{SignInAssertion, client_identifier};
