//! Remote access to course VMs through a gateway (Apache Guacamole): the port
//! deployment uses to mirror accounts, one connection group per event, one
//! connection per VM and user, and the read permission that lets the user open it;
//! and the single sign-on hand-off behind the Connect button.
//!
//! Every operation is idempotent by name, so a re-run deployment converges instead
//! of creating duplicates. Implemented by `guacamole-connector`'s adapter.

use std::fmt;

use async_trait::async_trait;

/// A gateway account mirroring one OpenVLE user (same username).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteAccount {
    pub username: String,
    pub full_name: String,
    pub email: String,
    /// Disabled accounts keep their connections but cannot sign in.
    pub disabled: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemoteProtocol {
    Rdp,
    Ssh,
    Vnc,
}

impl RemoteProtocol {
    pub fn default_port(self) -> u16 {
        match self {
            RemoteProtocol::Rdp => 3389,
            RemoteProtocol::Ssh => 22,
            RemoteProtocol::Vnc => 5900,
        }
    }
}

/// How the gateway negotiates RDP security with the VM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RdpSecurity {
    /// Let server and client agree (Guacamole's `any`).
    #[default]
    Any,
    Nla,
    Tls,
    Rdp,
}

/// What the gateway should connect to, and how to log in there.
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteConnection {
    /// The connection group (one per event), e.g. the event's name.
    pub group: String,
    /// Unique within the group; contains the event name (SPEC), e.g. `Linux 101 – web01 (alice)`.
    pub name: String,
    pub protocol: RemoteProtocol,
    /// The VM's address (from the guest agent).
    pub hostname: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    pub rdp_security: RdpSecurity,
    /// Accept the VM's self-signed RDP certificate (course VMs rarely have another).
    pub ignore_cert: bool,
}

impl fmt::Debug for RemoteConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteConnection")
            .field("group", &self.group)
            .field("name", &self.name)
            .field("protocol", &self.protocol)
            .field("hostname", &self.hostname)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("rdp_security", &self.rdp_security)
            .field("ignore_cert", &self.ignore_cert)
            .finish()
    }
}

/// A connection as the gateway knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteConnectionRef {
    /// The gateway's identifier (Guacamole: a number as a string).
    pub id: String,
    /// Whether this call created, changed or left it as it was.
    pub outcome: Outcome,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// Where to send the browser so that it arrives signed in (see ARCHITECTURE.md,
/// "Guacamole single sign-on"), or at the gateway's own sign-in page. The URL
/// carries at most a short-lived, signed and encrypted assertion, never a
/// password or a reusable session token; serve it with a redirect (never as a
/// link in a page) and never log it.
#[derive(Clone, PartialEq, Eq)]
pub struct SignInLink {
    pub url: String,
    /// Milliseconds since the epoch after which the gateway refuses the link;
    /// `None` for a link without an assertion (nothing in it expires).
    pub expires_at_ms: Option<u64>,
}

impl fmt::Debug for SignInLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignInLink").field("url", &"<redacted>").field("expires_at_ms", &self.expires_at_ms).finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RemoteAccessError {
    /// Not reachable, timed out, or failing on its side: retry later.
    #[error("the remote access gateway is unavailable: {reason}")]
    Unavailable { reason: String },
    /// The gateway refused the admin credentials or lacks a permission.
    #[error("the remote access gateway refused the request: {reason}")]
    Refused { reason: String },
    /// The gateway rejected what we sent (names, parameters).
    #[error("the remote access gateway rejected the request: {reason}")]
    Rejected { reason: String },
    /// Something named does not exist there (e.g. a group deleted by hand).
    #[error("not found on the remote access gateway: {what}")]
    NotFound { what: String },
    /// Our side is not set up for it (e.g. no single sign-on secret).
    #[error("remote access is not configured: {reason}")]
    NotConfigured { reason: String },
}

impl RemoteAccessError {
    /// Whether a job should try again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, RemoteAccessError::Unavailable { .. })
    }
}

/// The gateway. All mutations are idempotent: "ensure" creates what is missing,
/// updates what differs and leaves the rest; "remove" of something absent succeeds.
#[async_trait]
pub trait RemoteAccess: Send + Sync {
    /// Signs in with the admin account and names the version-independent facts an
    /// administrator's "Test connection" shows (the data source in use).
    async fn check(&self) -> Result<String, RemoteAccessError>;
    async fn ensure_account(&self, account: &RemoteAccount) -> Result<Outcome, RemoteAccessError>;
    async fn remove_account(&self, username: &str) -> Result<(), RemoteAccessError>;
    /// The connection group for one event; returns its identifier.
    async fn ensure_group(&self, name: &str) -> Result<String, RemoteAccessError>;
    /// Removes the group and every connection in it.
    async fn remove_group(&self, name: &str) -> Result<(), RemoteAccessError>;
    /// Creates the connection in its group, or updates it (e.g. the VM's address changed).
    async fn ensure_connection(&self, connection: &RemoteConnection) -> Result<RemoteConnectionRef, RemoteAccessError>;
    async fn remove_connection(&self, group: &str, name: &str) -> Result<(), RemoteAccessError>;
    /// Lets `username` open the connection (activation at the event's start).
    async fn grant(&self, username: &str, connection_id: &str) -> Result<(), RemoteAccessError>;
    /// Takes that away again (deactivation at the event's end).
    async fn revoke(&self, username: &str, connection_id: &str) -> Result<(), RemoteAccessError>;
    /// A link that opens the gateway signed in as `username`; straight into the
    /// connection when one is given (a participant with one VM).
    async fn sign_in_link(&self, username: &str, connection_id: Option<&str>) -> Result<SignInLink, RemoteAccessError>;
    /// The same place without an assertion: the gateway asks the visitor to
    /// sign in there first (single sign-on method `none`).
    async fn login_link(&self, connection_id: Option<&str>) -> Result<SignInLink, RemoteAccessError>;
}
