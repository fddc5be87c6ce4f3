//! The Proxmox VE cluster as the UI sees it: the connection an administrator
//! edits (without its secret), nodes with their usage, the pool's templates,
//! and the precise reasons a connection fails.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{AppError, Problem};
use crate::time::Timestamp;

/// The pool an installation confines itself to unless told otherwise.
pub const DEFAULT_POOL: &str = "OpenVLE-VMs";
pub const URL_MAX: usize = 255;
pub const TOKEN_ID_MAX: usize = 128;
pub const SECRET_MAX: usize = 255;
pub const POOL_MAX: usize = 64;

/// Where the connection in use comes from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionSource {
    /// The `PVE_*` environment variables (until a connection is saved).
    Environment,
    /// Saved on the Proxmox settings page; wins over the environment.
    Saved,
}

/// Why the cluster could not be used. Specific enough for an administrator to
/// fix it; never carries the token secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClusterProblem {
    /// No connection is saved and none is configured in the environment.
    NotConfigured,
    /// Proxmox refused the API token (unknown token id or wrong secret).
    BadToken { message: String },
    /// The token is valid but lacks a privilege.
    Forbidden { message: String },
    /// The server's certificate is not the pinned one; `seen` is the
    /// fingerprint it presented, when known.
    FingerprintMismatch { seen: Option<String> },
    /// The certificate is not trusted (self-signed, unknown CA, wrong name).
    CertificateUntrusted { detail: String },
    /// No connection (refused, DNS, network down).
    Unreachable { detail: String },
    /// No answer in time.
    Timeout { secs: u64 },
    /// Proxmox answered with an error.
    Api { status: u16, message: String },
    /// A connection is saved but `OPENVLE_SECRET_KEY` is not set, so its
    /// secret cannot be decrypted (or a new one cannot be stored).
    SecretKeyMissing,
    /// The saved secret does not decrypt with the configured key (the key changed).
    SecretUnreadable,
    /// The settings cannot be turned into a client (unreadable CA file...).
    Setup { message: String },
}

/// English, for logs and `/readyz`; the UI uses its own translated texts.
impl fmt::Display for ClusterProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterProblem::NotConfigured => f.write_str("not configured"),
            ClusterProblem::BadToken { message } => write!(f, "API token rejected: {message}"),
            ClusterProblem::Forbidden { message } => write!(f, "permission denied: {message}"),
            ClusterProblem::FingerprintMismatch { seen: Some(seen) } => {
                write!(f, "certificate does not match the pinned fingerprint (server presented {seen})")
            }
            ClusterProblem::FingerprintMismatch { seen: None } => {
                f.write_str("certificate does not match the pinned fingerprint")
            }
            ClusterProblem::CertificateUntrusted { detail } => write!(f, "certificate not trusted: {detail}"),
            ClusterProblem::Unreachable { detail } => write!(f, "unreachable: {detail}"),
            ClusterProblem::Timeout { secs } => write!(f, "no answer within {secs} s"),
            ClusterProblem::Api { status, message } => write!(f, "API error {status}: {message}"),
            ClusterProblem::SecretKeyMissing => f.write_str("OPENVLE_SECRET_KEY is not set"),
            ClusterProblem::SecretUnreadable => {
                f.write_str("the saved token secret does not decrypt with OPENVLE_SECRET_KEY")
            }
            ClusterProblem::Setup { message } => write!(f, "cannot use the settings: {message}"),
        }
    }
}

/// The connection as the settings page shows it. The token secret never
/// leaves the server: only whether one is set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionView {
    /// `None`: no cluster configured.
    pub source: Option<ConnectionSource>,
    pub url: String,
    /// `user@realm!token`
    pub token_id: String,
    pub secret_set: bool,
    /// SHA-256 of the certificate, `AA:BB:...`; empty when not pinned.
    pub fingerprint: String,
    pub verify_tls: bool,
    pub pool: String,
    pub updated_at: Option<Timestamp>,
    pub updated_by: Option<String>,
    /// Whether `PVE_*` variables are set (they apply until a connection is saved).
    pub environment_configured: bool,
    /// Whether `OPENVLE_SECRET_KEY` is set, without which nothing can be saved.
    pub can_save: bool,
    /// Why the saved connection cannot be used, when it cannot.
    pub problem: Option<ClusterProblem>,
}

/// What the settings form sends. An empty `secret` keeps the stored one.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionInput {
    pub url: String,
    pub token_id: String,
    pub secret: String,
    pub fingerprint: String,
    pub verify_tls: bool,
    pub pool: String,
}

impl fmt::Debug for ConnectionInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionInput")
            .field("url", &self.url)
            .field("token_id", &self.token_id)
            .field("secret", &if self.secret.is_empty() { "<empty>" } else { "<redacted>" })
            .field("fingerprint", &self.fingerprint)
            .field("verify_tls", &self.verify_tls)
            .field("pool", &self.pool)
            .finish()
    }
}

/// One node with its load and how many of our pool's guests it holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeView {
    pub name: String,
    pub online: bool,
    /// CPU load, 0.0 to 1.0.
    pub cpu: f64,
    pub cpus: u64,
    pub mem_used: u64,
    pub mem_total: u64,
    /// Summed over the storages the node can use.
    pub disk_used: u64,
    pub disk_total: u64,
    /// VMs of our pool on this node (templates not counted).
    pub vms: u32,
    pub templates: u32,
}

impl NodeView {
    pub fn cpu_percent(&self) -> u8 {
        (self.cpu.clamp(0.0, 1.0) * 100.0).round() as u8
    }

    pub fn mem_percent(&self) -> u8 {
        percent(self.mem_used, self.mem_total)
    }

    pub fn disk_percent(&self) -> u8 {
        percent(self.disk_used, self.disk_total)
    }
}

/// `used` of `total` in whole percent (0 when the total is unknown).
pub fn percent(used: u64, total: u64) -> u8 {
    if total == 0 { 0 } else { ((used.min(total) as f64 / total as f64) * 100.0).round() as u8 }
}

/// `1.5 GiB`
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

/// A template VM in our pool, as a template form will offer it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateView {
    pub vmid: u32,
    pub name: String,
    pub node: String,
    pub cores: Option<u32>,
    pub memory_mib: Option<u64>,
    pub disk_bytes: Option<u64>,
    pub tags: Vec<String>,
    pub description: String,
    /// Proxmox's guest OS kind (`ostype`: `l26`, `win11`, …), when set.
    pub os_type: Option<String>,
}

/// Proxmox's words for a guest OS kind (`ostype`, as its API documents it).
pub fn os_type_text(os_type: &str) -> Option<&'static str> {
    Some(match os_type {
        "wxp" => "Microsoft Windows XP",
        "w2k" => "Microsoft Windows 2000",
        "w2k3" => "Microsoft Windows 2003",
        "w2k8" => "Microsoft Windows 2008",
        "wvista" => "Microsoft Windows Vista",
        "win7" => "Microsoft Windows 7",
        "win8" => "Microsoft Windows 8/2012/2012r2",
        "win10" => "Microsoft Windows 10/2016/2019",
        "win11" => "Microsoft Windows 11/2022/2025",
        "l24" => "Linux 2.4 Kernel",
        "l26" => "Linux 2.6 - 6.X Kernel",
        "solaris" => "Solaris/OpenSolaris/OpenIndiana kernel",
        // `other` says nothing, and an unknown kind is better left blank.
        _ => return None,
    })
}

/// The answer of "Test connection".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionTest {
    pub version: String,
    pub release: String,
    pub nodes: Vec<NodeView>,
}

/// The connection settings after validation, normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidConnection {
    /// `https://host:port` or `http://host:port` (no path, no trailing slash).
    pub url: String,
    pub token_id: String,
    pub fingerprint: Option<String>,
    pub verify_tls: bool,
    pub pool: String,
}

fn format_problem(field: &str, expected: &str) -> AppError {
    AppError::invalid(field, Problem::Format { expected: expected.into() })
}

/// Checks every field but the secret (which the service checks against what
/// is stored).
pub fn validate_connection(input: &ConnectionInput) -> Result<ValidConnection, AppError> {
    Ok(ValidConnection {
        url: connection_url(&input.url)?,
        token_id: token_id(&input.token_id)?,
        fingerprint: fingerprint(&input.fingerprint)?,
        verify_tls: input.verify_tls,
        pool: pool(&input.pool)?,
    })
}

/// `host`, `host:port` or `http(s)://host[:port]`, no credentials and no path
/// (except Proxmox's own `/api2/json`).
pub fn connection_url(raw: &str) -> Result<String, AppError> {
    const EXPECTED: &str = "https://host:8006";
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(AppError::invalid("url", Problem::Required));
    }
    if raw.chars().count() > URL_MAX {
        return Err(AppError::invalid("url", Problem::TooLong { max: URL_MAX }));
    }
    let with_scheme = if raw.contains("://") { raw.to_string() } else { format!("https://{raw}") };
    let (scheme, rest) = with_scheme.split_once("://").ok_or_else(|| format_problem("url", EXPECTED))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err(format_problem("url", EXPECTED));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let path = path.trim_end_matches('/');
    let host = authority.rsplit_once(':').map_or(authority, |(host, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) && !host.ends_with(':') { host } else { authority }
    });
    let port_ok = match authority.strip_prefix(host).and_then(|p| p.strip_prefix(':')) {
        None => true,
        Some(port) => port.parse::<u16>().is_ok_and(|p| p > 0),
    };
    let host_ok = !host.is_empty()
        && (host.starts_with('[') && host.ends_with(']')
            || host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    if !(path.is_empty() || path == "/api2/json") || !host_ok || !port_ok {
        return Err(format_problem("url", EXPECTED));
    }
    Ok(format!("{scheme}://{authority}"))
}

/// `user@realm!token`, as Proxmox shows the token id.
pub fn token_id(raw: &str) -> Result<String, AppError> {
    const EXPECTED: &str = "user@realm!token";
    let value = raw.trim();
    if value.is_empty() {
        return Err(AppError::invalid("token_id", Problem::Required));
    }
    if value.chars().count() > TOKEN_ID_MAX {
        return Err(AppError::invalid("token_id", Problem::TooLong { max: TOKEN_ID_MAX }));
    }
    let Some((user, token)) = value.split_once('!') else {
        return Err(format_problem("token_id", EXPECTED));
    };
    let user_ok = match user.split_once('@') {
        Some((name, realm)) => {
            !name.is_empty() && !realm.is_empty() && !realm.contains('@') && !user.contains(char::is_whitespace)
        }
        None => false,
    };
    let token_ok = !token.is_empty() && token.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !user_ok || !token_ok || user.contains(['=', ':']) {
        return Err(format_problem("token_id", EXPECTED));
    }
    Ok(value.to_string())
}

/// Empty, or a SHA-256 fingerprint as Proxmox shows it (`AB:CD:...`) or as
/// plain hex; normalised to upper-case pairs separated by `:`.
pub fn fingerprint(raw: &str) -> Result<Option<String>, AppError> {
    let digits: String = raw.chars().filter(|c| *c != ':' && !c.is_whitespace()).collect();
    if digits.is_empty() {
        return Ok(None);
    }
    if digits.len() != 64 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format_problem("fingerprint", "SHA-256, 32 hex pairs AA:BB:…"));
    }
    let upper = digits.to_ascii_uppercase();
    let pairs: Vec<&str> = (0..32).map(|i| &upper[i * 2..i * 2 + 2]).collect();
    Ok(Some(pairs.join(":")))
}

/// Proxmox pool ids: letters, digits, `-` and `_`. Empty means the default.
pub fn pool(raw: &str) -> Result<String, AppError> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(DEFAULT_POOL.to_string());
    }
    if value.chars().count() > POOL_MAX {
        return Err(AppError::invalid("pool", Problem::TooLong { max: POOL_MAX }));
    }
    if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(format_problem("pool", "letters, digits, '-' and '_'"));
    }
    Ok(value.to_string())
}

/// A new token secret: one line of printable ASCII (it travels in an HTTP header).
pub fn token_secret(raw: &str) -> Result<String, AppError> {
    let value = raw.trim();
    if value.chars().count() > SECRET_MAX {
        return Err(AppError::invalid("secret", Problem::TooLong { max: SECRET_MAX }));
    }
    if !value.chars().all(|c| c.is_ascii_graphic()) {
        return Err(format_problem("secret", "printable characters"));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: AppError) -> String {
        e.field().unwrap_or_default().to_string()
    }

    #[test]
    fn urls_are_normalised_or_refused() {
        assert_eq!(connection_url("pve.example.org").unwrap(), "https://pve.example.org");
        assert_eq!(connection_url(" https://pve:8006/ ").unwrap(), "https://pve:8006");
        assert_eq!(connection_url("http://127.0.0.1:4000/api2/json").unwrap(), "http://127.0.0.1:4000");
        assert_eq!(connection_url("[::1]:8006").unwrap(), "https://[::1]:8006");
        for bad in
            ["", "ftp://pve", "https://pve/other", "https://user@pve", "https://pve:99999", "not a url", "https://"]
        {
            assert_eq!(field_of(connection_url(bad).unwrap_err()), "url", "{bad}");
        }
    }

    #[test]
    fn token_ids_need_user_realm_and_token() {
        assert_eq!(token_id(" openvle@pve!demo ").unwrap(), "openvle@pve!demo");
        for bad in ["", "openvle@pve", "openvle!demo", "@pve!demo", "openvle@pve!", "openvle@pve!a b"] {
            assert_eq!(field_of(token_id(bad).unwrap_err()), "token_id", "{bad}");
        }
    }

    #[test]
    fn fingerprints_are_normalised() {
        let plain = "ab".repeat(32);
        let expected = ["AB"; 32].join(":");
        assert_eq!(fingerprint(&plain).unwrap().as_deref(), Some(expected.as_str()));
        assert_eq!(fingerprint(&expected.to_lowercase()).unwrap().as_deref(), Some(expected.as_str()));
        assert_eq!(fingerprint("  ").unwrap(), None);
        for bad in ["abcd", &"zz".repeat(32), &"ab".repeat(33)] {
            assert_eq!(field_of(fingerprint(bad).unwrap_err()), "fingerprint", "{bad}");
        }
    }

    #[test]
    fn pools_default_and_refuse_odd_characters() {
        assert_eq!(pool("").unwrap(), DEFAULT_POOL);
        assert_eq!(pool("Course-42").unwrap(), "Course-42");
        assert!(pool("a b").is_err());
    }

    #[test]
    fn input_debug_hides_the_secret() {
        let input = ConnectionInput { secret: "s3cr3t-value".into(), ..ConnectionInput::default() };
        assert!(!format!("{input:?}").contains("s3cr3t"));
    }

    #[test]
    fn percentages_and_sizes() {
        assert_eq!(percent(1, 4), 25);
        assert_eq!(percent(5, 0), 0);
        assert_eq!(percent(9, 4), 100);
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(3 * 1024 * 1024 * 1024 / 2), "1.5 GiB");
    }

    #[test]
    fn problems_round_trip_through_json() {
        let e = AppError::Cluster { problem: ClusterProblem::FingerprintMismatch { seen: Some("AB:CD".into()) } };
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), e);
    }
}
