//! Connection settings, read from the `PVE_*` environment variables.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

/// Names of the environment variables [`PveConfig::from_lookup`] reads.
pub mod vars {
    pub const HOSTNAME: &str = "PVE_HOSTNAME";
    pub const USER: &str = "PVE_USER";
    pub const TOKEN_NAME: &str = "PVE_TOKEN_NAME";
    pub const TOKEN_VALUE: &str = "PVE_TOKEN_VALUE";
    pub const VERIFY_SSL: &str = "PVE_VERIFY_SSL";
    pub const VMS_POOL: &str = "PVE_VMS_POOL";
    pub const VMS_FULL_CLONE_DEFAULT: &str = "PVE_VMS_FULL_CLONE_DEFAULT";
    pub const TLS_FINGERPRINT: &str = "PVE_TLS_FINGERPRINT";
    pub const CA_FILE: &str = "PVE_CA_FILE";
    pub const CONNECT_TIMEOUT_SECS: &str = "PVE_CONNECT_TIMEOUT_SECS";
    pub const REQUEST_TIMEOUT_SECS: &str = "PVE_REQUEST_TIMEOUT_SECS";
}

/// Port of the Proxmox VE API when `PVE_HOSTNAME` names none.
pub const DEFAULT_PORT: u16 = 8006;
/// Pool this installation confines itself to when `PVE_VMS_POOL` is unset.
pub const DEFAULT_POOL: &str = "OpenVLE-VMs";
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Generous because some synchronous calls (config update of a busy VM) wait for locks.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_TASK_POLL_FIRST: Duration = Duration::from_millis(50);
const DEFAULT_TASK_POLL_MAX: Duration = Duration::from_secs(2);

/// How the server certificate is checked.
#[derive(Clone, PartialEq, Eq)]
pub enum TlsVerification {
    /// The operating system's trust store (the usual case with a real certificate).
    SystemRoots,
    /// Only the CAs in this PEM file (Proxmox's own cluster CA, `pve-root-ca.pem`).
    CustomCa(PathBuf),
    /// Accept exactly the leaf certificate with this SHA-256 fingerprint, whatever signed
    /// it; how Proxmox's own tools trust the self-signed node certificate.
    PinnedSha256([u8; 32]),
    /// No verification (`PVE_VERIFY_SSL=false`); for labs with self-signed certificates.
    Insecure,
}

impl fmt::Debug for TlsVerification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsVerification::SystemRoots => f.write_str("SystemRoots"),
            TlsVerification::CustomCa(path) => f.debug_tuple("CustomCa").field(path).finish(),
            TlsVerification::PinnedSha256(fp) => write!(f, "PinnedSha256({})", hex::encode(fp)),
            TlsVerification::Insecure => f.write_str("Insecure"),
        }
    }
}

/// Everything the client needs to reach one Proxmox VE cluster.
#[derive(Clone)]
pub struct PveConfig {
    /// Scheme, host and port, e.g. `https://pve.example.org:8006/`; `http://` is allowed
    /// (the simulator serves plain HTTP on loopback).
    pub base_url: Url,
    /// `user@realm` owning the token.
    pub user: String,
    pub token_name: String,
    pub token_value: String,
    pub tls: TlsVerification,
    /// The pool whose VMs this installation owns; all listings are confined to it.
    pub pool: String,
    /// Whether clones are full (independent disks) unless the caller says otherwise.
    pub full_clone_default: bool,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// First and longest pause between task status polls (doubling in between). Short
    /// at first because linked clones and starts often finish within a second.
    pub task_poll_first: Duration,
    pub task_poll_max: Duration,
}

impl fmt::Debug for PveConfig {
    /// Hand-written so that logging the configuration never prints the token secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PveConfig")
            .field("base_url", &self.base_url.as_str())
            .field("user", &self.user)
            .field("token_name", &self.token_name)
            .field("token_value", &"<redacted>")
            .field("tls", &self.tls)
            .field("pool", &self.pool)
            .field("full_clone_default", &self.full_clone_default)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("task_poll_first", &self.task_poll_first)
            .field("task_poll_max", &self.task_poll_max)
            .finish()
    }
}

/// A configuration variable is missing or malformed; the message names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PveConfigError {
    #[error("{var} is not set")]
    Missing { var: &'static str },
    #[error("{var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
}

fn invalid(var: &'static str, reason: impl Into<String>) -> PveConfigError {
    PveConfigError::Invalid { var, reason: reason.into() }
}

impl PveConfig {
    /// Settings with defaults for everything but the address and the token; for callers
    /// that do not read the environment (tests, the demo against the simulator).
    pub fn new(hostname: &str, user: &str, token_name: &str, token_value: &str) -> Result<PveConfig, PveConfigError> {
        let lookup = |var: &str| match var {
            vars::HOSTNAME => Some(hostname.to_owned()),
            vars::USER => Some(user.to_owned()),
            vars::TOKEN_NAME => Some(token_name.to_owned()),
            vars::TOKEN_VALUE => Some(token_value.to_owned()),
            _ => None,
        };
        PveConfig::from_lookup(lookup)
    }

    /// Reads the process environment; see [`PveConfig::from_lookup`].
    pub fn from_env() -> Result<PveConfig, PveConfigError> {
        PveConfig::from_lookup(|var| std::env::var(var).ok())
    }

    /// Builds the configuration from a variable lookup (the server's config loader passes
    /// its own, so it can merge files and the environment). Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<PveConfig, PveConfigError> {
        let get = |var: &'static str| lookup(var).filter(|v| !v.trim().is_empty());
        let require = |var: &'static str| get(var).ok_or(PveConfigError::Missing { var });

        let base_url = parse_hostname(&require(vars::HOSTNAME)?)?;

        let user = require(vars::USER)?.trim().to_owned();
        if user.contains('!') {
            return Err(invalid(
                vars::USER,
                format!("expected user@realm without the token part; put the token name in {}", vars::TOKEN_NAME),
            ));
        }
        match user.split_once('@') {
            Some((name, realm)) if !name.is_empty() && !realm.is_empty() => {}
            _ => {
                return Err(invalid(vars::USER, format!("expected user@realm (e.g. openvle@pve), got {user:?}")));
            }
        }

        let token_name = require(vars::TOKEN_NAME)?.trim().to_owned();
        if token_name.contains(['!', '=', '@', ' ']) {
            return Err(invalid(
                vars::TOKEN_NAME,
                "expected only the token ID (the part after '!'), without '!', '=', '@' or spaces",
            ));
        }
        let token_value = require(vars::TOKEN_VALUE)?.trim().to_owned();

        let verify_ssl = get(vars::VERIFY_SSL).map(|v| parse_bool(vars::VERIFY_SSL, &v)).transpose()?.unwrap_or(true);
        let fingerprint = get(vars::TLS_FINGERPRINT).map(|v| parse_fingerprint(&v)).transpose()?;
        let ca_file = get(vars::CA_FILE).map(PathBuf::from);
        let tls = match (fingerprint, ca_file) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    vars::TLS_FINGERPRINT,
                    format!("set either {} or {}, not both", vars::TLS_FINGERPRINT, vars::CA_FILE),
                ));
            }
            // A pin is an explicit, stronger statement than PVE_VERIFY_SSL=false.
            (Some(fp), None) => TlsVerification::PinnedSha256(fp),
            (None, _) if !verify_ssl => TlsVerification::Insecure,
            (None, Some(path)) => TlsVerification::CustomCa(path),
            (None, None) => TlsVerification::SystemRoots,
        };

        let pool = get(vars::VMS_POOL).map_or_else(|| DEFAULT_POOL.to_owned(), |p| p.trim().to_owned());
        if !pool.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(invalid(
                vars::VMS_POOL,
                format!("pool IDs allow only letters, digits, '-' and '_', got {pool:?}"),
            ));
        }
        let full_clone_default = get(vars::VMS_FULL_CLONE_DEFAULT)
            .map(|v| parse_bool(vars::VMS_FULL_CLONE_DEFAULT, &v))
            .transpose()?
            .unwrap_or(false);
        let connect_timeout = get(vars::CONNECT_TIMEOUT_SECS)
            .map(|v| parse_secs(vars::CONNECT_TIMEOUT_SECS, &v))
            .transpose()?
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let request_timeout = get(vars::REQUEST_TIMEOUT_SECS)
            .map(|v| parse_secs(vars::REQUEST_TIMEOUT_SECS, &v))
            .transpose()?
            .unwrap_or(DEFAULT_REQUEST_TIMEOUT);

        Ok(PveConfig {
            base_url,
            user,
            token_name,
            token_value,
            tls,
            pool,
            full_clone_default,
            connect_timeout,
            request_timeout,
            task_poll_first: DEFAULT_TASK_POLL_FIRST,
            task_poll_max: DEFAULT_TASK_POLL_MAX,
        })
    }

    /// The `Authorization` header value Proxmox expects for API tokens.
    pub fn authorization_header(&self) -> String {
        format!("PVEAPIToken={}!{}={}", self.user, self.token_name, self.token_value)
    }
}

/// Accepts `host`, `host:port`, `[v6]:port` or a full `http(s)://host[:port]` URL, and
/// fills in port 8006 where none is written (even after `https://`, where a URL parser
/// would assume 443: a Proxmox API on 443 must be written out).
fn parse_hostname(raw: &str) -> Result<Url, PveConfigError> {
    let raw = raw.trim();
    let with_scheme = if raw.contains("://") { raw.to_owned() } else { format!("https://{raw}") };
    let (scheme, rest) = with_scheme.split_once("://").unwrap_or(("https", raw));
    if scheme != "https" && scheme != "http" {
        return Err(invalid(vars::HOSTNAME, format!("scheme must be https or http, got {scheme:?}")));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let path = path.trim_end_matches('/');
    if !(path.is_empty() || path == "/api2/json") {
        return Err(invalid(
            vars::HOSTNAME,
            format!("expected host[:port] or a URL without a path, got path {path:?}"),
        ));
    }
    if authority.is_empty() || authority.contains('@') {
        return Err(invalid(vars::HOSTNAME, format!("expected host[:port], got {raw:?}")));
    }
    // The port is what follows the last ':' outside IPv6 brackets.
    let host_end = authority.rfind(']').unwrap_or(0);
    let has_port = authority[host_end..].contains(':');
    let authority = if has_port { authority.to_owned() } else { format!("{authority}:{DEFAULT_PORT}") };
    let url = Url::parse(&format!("{scheme}://{authority}/"))
        .map_err(|e| invalid(vars::HOSTNAME, format!("{raw:?} is not a valid host or URL: {e}")))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(vars::HOSTNAME, format!("no host in {raw:?}")));
    }
    Ok(url)
}

fn parse_bool(var: &'static str, value: &str) -> Result<bool, PveConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(invalid(var, format!("expected true or false, got {other:?}"))),
    }
}

fn parse_secs(var: &'static str, value: &str) -> Result<Duration, PveConfigError> {
    let secs: f64 =
        value.trim().parse().map_err(|_| invalid(var, format!("expected a number of seconds, got {value:?}")))?;
    if !(secs.is_finite() && secs > 0.0 && secs < 86_400.0) {
        return Err(invalid(var, format!("expected seconds between 0 and 86400, got {value:?}")));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Accepts the fingerprint as Proxmox shows it (`AB:CD:...`) or as plain hex.
fn parse_fingerprint(value: &str) -> Result<[u8; 32], PveConfigError> {
    let digits: String = value.trim().chars().filter(|c| *c != ':').collect();
    let bytes = hex::decode(&digits).map_err(|_| {
        invalid(vars::TLS_FINGERPRINT, "expected a SHA-256 fingerprint as hex, optionally ':'-separated")
    })?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| invalid(vars::TLS_FINGERPRINT, format!("expected 32 bytes (SHA-256), got {}", bytes.len())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    const BASE: [(&str, &str); 4] = [
        ("PVE_HOSTNAME", "pve.example.org"),
        ("PVE_USER", "openvle@pve"),
        ("PVE_TOKEN_NAME", "vle"),
        ("PVE_TOKEN_VALUE", "secret"),
    ];

    fn with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut all = BASE.to_vec();
        all.extend_from_slice(extra);
        all
    }

    #[test]
    fn defaults_fill_port_pool_and_tls() {
        let cfg = PveConfig::from_lookup(lookup(&BASE)).unwrap();
        assert_eq!(cfg.base_url.as_str(), "https://pve.example.org:8006/");
        assert_eq!(cfg.pool, "OpenVLE-VMs");
        assert_eq!(cfg.tls, TlsVerification::SystemRoots);
        assert!(!cfg.full_clone_default);
        assert_eq!(cfg.authorization_header(), "PVEAPIToken=openvle@pve!vle=secret");
    }

    #[test]
    fn hostname_forms() {
        for (input, expected) in [
            ("pve:8443", "https://pve:8443/"),
            ("https://pve", "https://pve:8006/"),
            ("https://pve:8006/api2/json/", "https://pve:8006/"),
            ("http://127.0.0.1:4000", "http://127.0.0.1:4000/"),
            ("[::1]", "https://[::1]:8006/"),
        ] {
            assert_eq!(parse_hostname(input).unwrap().as_str(), expected, "{input}");
        }
        assert!(parse_hostname("ftp://pve").is_err());
        assert!(parse_hostname("https://pve/other").is_err());
    }

    #[test]
    fn errors_name_the_variable() {
        let err = PveConfig::from_lookup(lookup(&BASE[..3])).unwrap_err();
        assert_eq!(err, PveConfigError::Missing { var: "PVE_TOKEN_VALUE" });
        assert!(err.to_string().contains("PVE_TOKEN_VALUE"));

        let err = PveConfig::from_lookup(lookup(&with(&[("PVE_VERIFY_SSL", "maybe")]))).unwrap_err();
        assert!(err.to_string().starts_with("PVE_VERIFY_SSL is invalid"), "{err}");

        let mut bad_user = BASE.to_vec();
        bad_user[1] = ("PVE_USER", "openvle");
        let err = PveConfig::from_lookup(lookup(&bad_user)).unwrap_err();
        assert!(err.to_string().contains("PVE_USER"), "{err}");
    }

    #[test]
    fn tls_modes() {
        let fp = "AB:".repeat(31) + "AB";
        let cfg = PveConfig::from_lookup(lookup(&with(&[("PVE_TLS_FINGERPRINT", fp.as_str())]))).unwrap();
        assert_eq!(cfg.tls, TlsVerification::PinnedSha256([0xab; 32]));
        let cfg = PveConfig::from_lookup(lookup(&with(&[("PVE_VERIFY_SSL", "false")]))).unwrap();
        assert_eq!(cfg.tls, TlsVerification::Insecure);
        let cfg = PveConfig::from_lookup(lookup(&with(&[("PVE_CA_FILE", "/etc/pve/pve-root-ca.pem")]))).unwrap();
        assert_eq!(cfg.tls, TlsVerification::CustomCa("/etc/pve/pve-root-ca.pem".into()));
        let err = PveConfig::from_lookup(lookup(&with(&[("PVE_TLS_FINGERPRINT", "abcd")]))).unwrap_err();
        assert!(err.to_string().contains("PVE_TLS_FINGERPRINT"));
    }

    #[test]
    fn debug_redacts_secret() {
        let cfg = PveConfig::from_lookup(lookup(&BASE)).unwrap();
        assert!(!format!("{cfg:?}").contains("secret"));
    }

    #[test]
    fn timeouts_and_bools() {
        let cfg = PveConfig::from_lookup(lookup(&with(&[
            ("PVE_REQUEST_TIMEOUT_SECS", "2.5"),
            ("PVE_VMS_FULL_CLONE_DEFAULT", "yes"),
            ("PVE_VMS_POOL", "Course-42"),
        ])))
        .unwrap();
        assert_eq!(cfg.request_timeout, Duration::from_millis(2500));
        assert!(cfg.full_clone_default);
        assert_eq!(cfg.pool, "Course-42");
        assert!(PveConfig::from_lookup(lookup(&with(&[("PVE_CONNECT_TIMEOUT_SECS", "-1")]))).is_err());
    }
}
