//! Relying-party settings, read from the `OIDC_*` environment variables.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use openidconnect::url::{Host, Url};

/// Names of the environment variables [`OidcConfig::from_lookup`] reads.
pub mod vars {
    pub const ENABLED: &str = "OIDC_ENABLED";
    pub const ISSUER: &str = "OIDC_ISSUER";
    pub const CLIENT_ID: &str = "OIDC_CLIENT_ID";
    pub const CLIENT_SECRET: &str = "OIDC_CLIENT_SECRET";
    pub const REDIRECT_URL: &str = "OIDC_REDIRECT_URL";
    pub const SCOPES: &str = "OIDC_SCOPES";
    pub const USERNAME_CLAIM: &str = "OIDC_USERNAME_CLAIM";
    pub const GROUPS_CLAIM: &str = "OIDC_GROUPS_CLAIM";
    pub const DISPLAY_NAME: &str = "OIDC_DISPLAY_NAME";
    pub const LOGOUT: &str = "OIDC_LOGOUT";
    pub const CLOCK_SKEW_SECS: &str = "OIDC_CLOCK_SKEW_SECS";
    pub const TIMEOUT_SECS: &str = "OIDC_TIMEOUT_SECS";
    pub const CA_FILE: &str = "OIDC_CA_FILE";
}

pub const DEFAULT_SCOPES: &str = "openid email profile";
pub const DEFAULT_USERNAME_CLAIM: &str = "preferred_username";
pub const DEFAULT_GROUPS_CLAIM: &str = "groups";
pub const DEFAULT_DISPLAY_NAME: &str = "Single sign-on";
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(60);
/// For each HTTP request to the provider (discovery, keys, token, userinfo).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything the relying party needs to talk to one OpenID provider.
#[derive(Clone)]
pub struct OidcConfig {
    /// Exactly as the provider's discovery document states it (trailing slash included).
    pub issuer: String,
    pub client_id: String,
    /// `None`: a public client (PKCE only, no client authentication).
    pub client_secret: Option<String>,
    /// Our callback, registered at the provider.
    pub redirect_url: Url,
    /// Requested scopes; always contains `openid`.
    pub scopes: Vec<String>,
    /// Claim holding the username; `sub` is used when the provider does not send it.
    /// A dotted path (`realm_access.roles`) walks into nested objects.
    pub username_claim: String,
    /// Claim holding the group list (array of strings, or one string); dotted paths allowed.
    pub groups_claim: String,
    /// Label of the sign-in button.
    pub display_name: String,
    /// Offer RP-initiated logout through the provider's `end_session_endpoint`.
    pub logout: bool,
    /// Tolerance for clock differences when checking `exp` and `iat` of ID tokens.
    pub clock_skew: Duration,
    pub timeout: Duration,
    /// Trust only the CAs in this PEM file for the provider's HTTPS (an internal CA);
    /// `None`: the operating system's trust store.
    pub ca_file: Option<PathBuf>,
}

impl fmt::Debug for OidcConfig {
    /// Hand-written so that logging the configuration never prints the client secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .field("redirect_url", &self.redirect_url.as_str())
            .field("scopes", &self.scopes)
            .field("username_claim", &self.username_claim)
            .field("groups_claim", &self.groups_claim)
            .field("display_name", &self.display_name)
            .field("logout", &self.logout)
            .field("clock_skew", &self.clock_skew)
            .field("timeout", &self.timeout)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// A configuration variable is missing or malformed; the message names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcConfigError {
    #[error("{var} is not set")]
    Missing { var: &'static str },
    #[error("{var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
}

fn invalid(var: &'static str, reason: impl Into<String>) -> OidcConfigError {
    OidcConfigError::Invalid { var, reason: reason.into() }
}

impl OidcConfig {
    /// The effective settings as (variable, value) pairs for the administrator's view;
    /// the client secret is only said to be set.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            (vars::ISSUER, self.issuer.clone()),
            (vars::CLIENT_ID, self.client_id.clone()),
            (vars::CLIENT_SECRET, if self.client_secret.is_some() { "(set)" } else { "(none: public client)" }.into()),
            (vars::REDIRECT_URL, self.redirect_url.to_string()),
            (vars::SCOPES, self.scopes.join(" ")),
            (vars::USERNAME_CLAIM, self.username_claim.clone()),
            (vars::GROUPS_CLAIM, self.groups_claim.clone()),
            (vars::DISPLAY_NAME, self.display_name.clone()),
            (vars::LOGOUT, self.logout.to_string()),
            (vars::CLOCK_SKEW_SECS, self.clock_skew.as_secs().to_string()),
            (vars::TIMEOUT_SECS, self.timeout.as_secs().to_string()),
        ];
        if let Some(path) = &self.ca_file {
            out.push((vars::CA_FILE, path.display().to_string()));
        }
        out
    }

    /// Where the provider sends the browser back after signing out: OpenVLE's login page
    /// on the callback's origin. It must be registered at the provider as a
    /// post-logout redirect URI.
    pub fn post_logout_redirect(&self) -> String {
        format!("{}/login", self.redirect_url.origin().ascii_serialization())
    }

    /// Reads the process environment; see [`OidcConfig::from_lookup`].
    pub fn from_env() -> Result<Option<OidcConfig>, OidcConfigError> {
        OidcConfig::from_lookup(|var| std::env::var(var).ok())
    }

    /// Builds the configuration from a variable lookup. `Ok(None)` when `OIDC_ENABLED` is
    /// false or unset: the other variables are then not checked. Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<OidcConfig>, OidcConfigError> {
        let get = |var: &'static str| lookup(var).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let require = |var: &'static str| get(var).ok_or(OidcConfigError::Missing { var });
        let flag = |var: &'static str| get(var).map(|v| parse_bool(var, &v)).transpose().map(|v| v.unwrap_or(false));
        let secs = |var: &'static str, default: Duration, range: std::ops::RangeInclusive<u64>| match get(var) {
            None => Ok(default),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if range.contains(&n) => Ok(Duration::from_secs(n)),
                _ => {
                    Err(invalid(var, format!("expected whole seconds {}..={}, got {v:?}", range.start(), range.end())))
                }
            },
        };

        if !flag(vars::ENABLED)? {
            return Ok(None);
        }

        let issuer = require(vars::ISSUER)?;
        let issuer_url = Url::parse(&issuer).map_err(|e| invalid(vars::ISSUER, format!("{e}")))?;
        check_https(vars::ISSUER, &issuer_url)?;
        if issuer_url.query().is_some() || issuer_url.fragment().is_some() {
            return Err(invalid(vars::ISSUER, "an issuer has no query or fragment"));
        }

        let client_id = require(vars::CLIENT_ID)?;
        // Secrets are taken as they are (no trimming): spaces may be part of them.
        let client_secret = lookup(vars::CLIENT_SECRET).filter(|s| !s.is_empty());

        let redirect_url = Url::parse(&require(vars::REDIRECT_URL)?).map_err(|e| {
            invalid(vars::REDIRECT_URL, format!("{e} (expected e.g. https://vle.example.org/auth/oidc/callback)"))
        })?;
        check_https(vars::REDIRECT_URL, &redirect_url)?;
        if redirect_url.fragment().is_some() {
            return Err(invalid(vars::REDIRECT_URL, "a redirect URL has no fragment"));
        }

        let scopes: Vec<String> = get(vars::SCOPES)
            .unwrap_or_else(|| DEFAULT_SCOPES.to_owned())
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if !scopes.iter().any(|s| s == "openid") {
            return Err(invalid(vars::SCOPES, "must include openid"));
        }

        Ok(Some(OidcConfig {
            issuer,
            client_id,
            client_secret,
            redirect_url,
            scopes,
            username_claim: get(vars::USERNAME_CLAIM).unwrap_or_else(|| DEFAULT_USERNAME_CLAIM.to_owned()),
            groups_claim: get(vars::GROUPS_CLAIM).unwrap_or_else(|| DEFAULT_GROUPS_CLAIM.to_owned()),
            display_name: get(vars::DISPLAY_NAME).unwrap_or_else(|| DEFAULT_DISPLAY_NAME.to_owned()),
            logout: flag(vars::LOGOUT)?,
            clock_skew: secs(vars::CLOCK_SKEW_SECS, DEFAULT_CLOCK_SKEW, 0..=600)?,
            timeout: secs(vars::TIMEOUT_SECS, DEFAULT_TIMEOUT, 1..=300)?,
            ca_file: match get(vars::CA_FILE) {
                None => None,
                Some(path) => {
                    let path = PathBuf::from(path);
                    if !path.is_file() {
                        return Err(invalid(vars::CA_FILE, format!("{} is not a readable file", path.display())));
                    }
                    Some(path)
                }
            },
        }))
    }
}

/// Parses the original product's booleans (`True`/`False`) and the usual spellings.
fn parse_bool(var: &'static str, value: &str) -> Result<bool, OidcConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        other => Err(invalid(var, format!("expected True or False, got {other:?}"))),
    }
}

/// Tokens and codes must not travel in clear text, except to this machine (development,
/// tests).
fn check_https(var: &'static str, url: &Url) -> Result<(), OidcConfigError> {
    let loopback = match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(invalid(var, "no host name")),
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(invalid(var, "must use https:// (http:// is accepted only for localhost)")),
        other => Err(invalid(var, format!("must be an https:// URL, got {other}://"))),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Option<OidcConfig>, OidcConfigError> {
        let mut map: HashMap<&str, &str> = HashMap::from([
            (vars::ENABLED, "True"),
            (vars::ISSUER, "https://sso.example.org/realms/uni"),
            (vars::CLIENT_ID, "openvle"),
            (vars::CLIENT_SECRET, "top-Secret-42"),
            (vars::REDIRECT_URL, "https://vle.example.org/auth/oidc/callback"),
        ]);
        map.extend(pairs.iter().copied());
        OidcConfig::from_lookup(|var| map.get(var).map(|v| v.to_string()))
    }

    #[test]
    fn defaults() {
        let config = load(&[]).unwrap().unwrap();
        assert_eq!(config.scopes, ["openid", "email", "profile"]);
        assert_eq!(config.username_claim, "preferred_username");
        assert_eq!(config.groups_claim, "groups");
        assert_eq!(config.display_name, DEFAULT_DISPLAY_NAME);
        assert_eq!(config.clock_skew, Duration::from_secs(60));
        assert_eq!(config.timeout, DEFAULT_TIMEOUT);
        assert!(!config.logout);
        assert_eq!(config.client_secret.as_deref(), Some("top-Secret-42"));
    }

    #[test]
    fn disabled_means_no_provider() {
        assert!(load(&[(vars::ENABLED, "False"), (vars::ISSUER, "nonsense")]).unwrap().is_none());
        assert!(OidcConfig::from_lookup(|_| None).unwrap().is_none());
    }

    #[test]
    fn errors_name_the_variable() {
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (vec![(vars::ENABLED, "perhaps")], vars::ENABLED),
            (vec![(vars::ISSUER, "")], vars::ISSUER),
            (vec![(vars::ISSUER, "not a url")], vars::ISSUER),
            (vec![(vars::ISSUER, "http://sso.example.org")], vars::ISSUER),
            (vec![(vars::CLIENT_ID, "")], vars::CLIENT_ID),
            (vec![(vars::REDIRECT_URL, "/auth/oidc/callback")], vars::REDIRECT_URL),
            (vec![(vars::REDIRECT_URL, "http://vle.example.org/cb")], vars::REDIRECT_URL),
            (vec![(vars::SCOPES, "email profile")], vars::SCOPES),
            (vec![(vars::LOGOUT, "sometimes")], vars::LOGOUT),
            (vec![(vars::CLOCK_SKEW_SECS, "-1")], vars::CLOCK_SKEW_SECS),
            (vec![(vars::TIMEOUT_SECS, "0")], vars::TIMEOUT_SECS),
            (vec![(vars::CA_FILE, "/nonexistent/ca.pem")], vars::CA_FILE),
        ];
        for (pairs, var) in cases {
            let err = load(&pairs).unwrap_err();
            assert!(err.to_string().contains(var), "{err} should name {var}");
        }
    }

    #[test]
    fn plain_http_only_for_loopback() {
        let config =
            load(&[(vars::ISSUER, "http://127.0.0.1:9010"), (vars::REDIRECT_URL, "http://localhost:3000/cb")]).unwrap();
        assert_eq!(config.unwrap().issuer, "http://127.0.0.1:9010");
    }

    #[test]
    fn public_client_without_secret() {
        assert_eq!(load(&[(vars::CLIENT_SECRET, "")]).unwrap().unwrap().client_secret, None);
    }

    #[test]
    fn debug_hides_the_client_secret() {
        let shown = format!("{:?}", load(&[]).unwrap().unwrap());
        assert!(!shown.contains("top-Secret-42"), "{shown}");
        assert!(shown.contains("<redacted>") && shown.contains("openvle"), "{shown}");
    }
}
