//! How to reach the mail server, or where to leave mails instead.

use std::path::PathBuf;
use std::time::Duration;

/// How the connection is protected.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS (port 587); refuses servers that do not offer it.
    StartTls,
    /// No encryption: only for a relay on the same host or network.
    Plain,
}

impl Security {
    /// `tls`, `starttls` or `plain`.
    pub fn parse(value: &str) -> Option<Security> {
        match value.trim().to_ascii_lowercase().as_str() {
            "tls" | "ssl" | "smtps" => Some(Security::Tls),
            "starttls" => Some(Security::StartTls),
            "plain" | "none" => Some(Security::Plain),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// Empty: no authentication.
    pub username: String,
    pub password: String,
    /// `OpenVLE <noreply@example.org>` or a bare address.
    pub from: String,
    /// Default Reply-To when a template has none; empty for none.
    pub reply_to: String,
    /// Trust this CA (PEM) in addition to the system roots.
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate (test setups only; warned at start-up).
    pub skip_verify: bool,
    /// Connect and per-command timeout.
    pub timeout: Duration,
}

/// Mails written to a folder instead of sent (`MAIL_DROP_DIR`): for trials and
/// the demo, where there is no mail server but mails are still worth reading.
#[derive(Clone, Debug)]
pub struct MailDropConfig {
    pub dir: PathBuf,
    /// As [`SmtpConfig::from`].
    pub from: String,
    /// As [`SmtpConfig::reply_to`].
    pub reply_to: String,
}
