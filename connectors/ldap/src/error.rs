//! What can go wrong signing in against a directory, in the terms a caller acts on.
//!
//! The sign-in use case shows `InvalidCredentials` and `AccountDisabled` to the user and
//! everything else to the administrator (with the message, which names the setting to fix).

use std::io;
use std::time::Duration;

use ldap3::LdapResult;

use crate::config::vars;

/// LDAP result codes (RFC 4511 §4.1.9) we tell apart.
pub(crate) mod rc {
    pub const NO_SUCH_OBJECT: u32 = 32;
    pub const INVALID_DN_SYNTAX: u32 = 34;
    pub const INAPPROPRIATE_AUTH: u32 = 48;
    pub const INVALID_CREDENTIALS: u32 = 49;
    pub const INSUFFICIENT_ACCESS: u32 = 50;
    pub const BUSY: u32 = 51;
    pub const UNAVAILABLE: u32 = 52;
    pub const UNWILLING: u32 = 53;
}

/// Everything [`crate::LdapDirectory`] can fail with.
#[derive(Debug, thiserror::Error)]
pub enum LdapError {
    /// Wrong password, unknown user or empty password: deliberately one variant, so a
    /// caller cannot reveal which usernames exist.
    #[error("invalid username or password")]
    InvalidCredentials,
    /// The password was right but the directory marks the account disabled.
    #[error("the directory account is disabled")]
    AccountDisabled,
    /// No connection, or no answer within the timeout.
    #[error("LDAP server {url} unreachable: {message}")]
    Unreachable { url: String, message: String },
    /// The TLS handshake (ldaps:// or StartTLS) failed; `hint` says what to check.
    #[error("TLS with LDAP server {url} failed: {message}; {hint}")]
    TlsFailure { url: String, message: String, hint: String },
    /// The configuration does not fit the directory; the message names the setting.
    #[error("LDAP misconfigured: {0}")]
    Misconfigured(String),
    /// Any other LDAP or protocol error.
    #[error("LDAP error: {0}")]
    Protocol(String),
}

impl LdapError {
    /// Builds the error for a failure below the LDAP operations (connect, TLS, timeout).
    pub(crate) fn from_transport(url: &str, error: ldap3::LdapError, timeout: Duration) -> LdapError {
        let url = url.to_owned();
        match error {
            ldap3::LdapError::Timeout { .. } => {
                LdapError::Unreachable { url, message: format!("no answer within {} s", timeout.as_secs()) }
            }
            ldap3::LdapError::Io { source } => from_io(url, source),
            ldap3::LdapError::Rustls { source } => tls_failure(url, &source),
            ldap3::LdapError::DNSName { source } => LdapError::TlsFailure {
                url,
                message: source.to_string(),
                hint: format!("the host in {} is not a valid TLS server name", vars::URL),
            },
            // StartTLS refused by the server.
            ldap3::LdapError::LdapResult { result } => LdapError::TlsFailure {
                url,
                message: describe(&result),
                hint: format!(
                    "the server refused StartTLS: enable TLS on the server, or use ldaps:// in {} without {}",
                    vars::URL,
                    vars::STARTTLS
                ),
            },
            ldap3::LdapError::OpSend { .. } | ldap3::LdapError::ResultRecv { .. } | ldap3::LdapError::EndOfStream => {
                LdapError::Unreachable { url, message: "the server closed the connection".into() }
            }
            other => LdapError::Protocol(other.to_string()),
        }
    }
}

fn from_io(url: String, error: io::Error) -> LdapError {
    if let Some(tls) = error.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        return tls_failure(url, tls);
    }
    match error.kind() {
        // A TLS client talking to a port that closes on garbage (plain LDAP, wrong port).
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => LdapError::TlsFailure {
            url,
            message: format!("connection closed during the TLS handshake ({error})"),
            hint: format!(
                "check that the port speaks LDAPS (ldaps://, usually 636) or use ldap:// with {}",
                vars::STARTTLS
            ),
        },
        _ => LdapError::Unreachable { url, message: error.to_string() },
    }
}

fn tls_failure(url: String, error: &rustls::Error) -> LdapError {
    use rustls::CertificateError as C;
    let hint = match error {
        rustls::Error::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => format!(
            "the server certificate is not signed by a trusted CA: set {} to the PEM file of the CA that \
             issued it (or, for a lab only, {}=true)",
            vars::CA_FILE,
            vars::SKIP_VERIFY
        ),
        rustls::Error::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => format!(
            "the certificate does not name the host in {}: use the host name the certificate was issued for",
            vars::URL
        ),
        rustls::Error::InvalidCertificate(
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. },
        ) => "the server certificate is expired or not yet valid: renew it, and check the clocks".into(),
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => format!(
            "the server did not answer with TLS: check that the port speaks LDAPS (ldaps://) or use ldap:// with {}",
            vars::STARTTLS
        ),
        // webpki's CaUsedAsEndEntity has no public type to match; its name is stable.
        rustls::Error::InvalidCertificate(C::Other(other)) if format!("{other:?}").contains("CaUsedAsEndEntity") => {
            format!(
                "the server presents a CA certificate as its own (typical of `openssl req -x509`): give the \
                 server a certificate issued by a CA and put that CA in {} (or, for a lab only, {}=true)",
                vars::CA_FILE,
                vars::SKIP_VERIFY
            )
        }
        _ => format!("check the server's TLS setup, {} and {}", vars::CA_FILE, vars::URL),
    };
    LdapError::TlsFailure { url, message: error.to_string(), hint }
}

/// "Invalid credentials (49): message" — the server's diagnostic text is kept, it helps
/// administrators (Active Directory puts the sub-reason there, e.g. `data 52e`).
pub(crate) fn describe(result: &LdapResult) -> String {
    let name = match result.rc {
        rc::NO_SUCH_OBJECT => "no such object",
        rc::INVALID_DN_SYNTAX => "invalid DN syntax",
        rc::INAPPROPRIATE_AUTH => "inappropriate authentication",
        rc::INVALID_CREDENTIALS => "invalid credentials",
        rc::INSUFFICIENT_ACCESS => "insufficient access rights",
        rc::BUSY => "busy",
        rc::UNAVAILABLE => "unavailable",
        rc::UNWILLING => "unwilling to perform",
        _ => "result code",
    };
    if result.text.is_empty() {
        format!("{name} ({})", result.rc)
    } else {
        format!("{name} ({}): {}", result.rc, result.text)
    }
}
