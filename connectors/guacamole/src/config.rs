//! Connection settings.

use std::fmt;
use std::time::Duration;

use url::Url;

use crate::error::GuacError;

/// A secret that never appears in Debug output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The 128-bit key shared with Guacamole's `json-secret-key` (32 hex digits).
#[derive(Clone, PartialEq, Eq)]
pub struct JsonSecretKey(pub(crate) [u8; 16]);

impl JsonSecretKey {
    pub fn from_hex(hex_digits: &str) -> Result<JsonSecretKey, GuacError> {
        let bytes = hex::decode(hex_digits.trim()).map_err(|_| GuacError::Config {
            reason: "the JSON secret key must be 32 hexadecimal digits (Guacamole's json-secret-key)".into(),
        })?;
        let key: [u8; 16] = bytes.try_into().map_err(|_| GuacError::Config {
            reason: "the JSON secret key must be 32 hexadecimal digits (128 bits)".into(),
        })?;
        Ok(JsonSecretKey(key))
    }

    /// The key as Guacamole's configuration writes it (for sealing it in
    /// OpenVLE's database; never for logs).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for JsonSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Clone, Debug)]
pub struct GuacamoleConfig {
    /// Where the web application lives, e.g. `https://guac.example.org/guacamole/`
    /// (the REST API is under `api/` below it).
    pub base_url: Url,
    pub admin_username: String,
    pub admin_password: Secret,
    /// The data source to manage (`mysql`, `postgresql`, ...); `None` takes the one
    /// Guacamole names at sign-in.
    pub data_source: Option<String>,
    /// For single sign-on links; without it `sign_in_link` answers "not configured".
    pub json_secret_key: Option<JsonSecretKey>,
    /// How long a sign-in link stays valid.
    pub sign_in_link_ttl: Duration,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl GuacamoleConfig {
    pub fn new(base_url: &str, admin_username: &str, admin_password: Secret) -> Result<GuacamoleConfig, GuacError> {
        let mut base_url = Url::parse(base_url)
            .map_err(|e| GuacError::Config { reason: format!("the Guacamole URL {base_url:?} is not a URL: {e}") })?;
        if !matches!(base_url.scheme(), "http" | "https") {
            return Err(GuacError::Config { reason: "the Guacamole URL must start with http:// or https://".into() });
        }
        // A base without a trailing slash would lose its last segment when joined.
        if !base_url.path().ends_with('/') {
            let path = format!("{}/", base_url.path());
            base_url.set_path(&path);
        }
        base_url.set_query(None);
        base_url.set_fragment(None);
        Ok(GuacamoleConfig {
            base_url,
            admin_username: admin_username.to_owned(),
            admin_password,
            data_source: None,
            json_secret_key: None,
            sign_in_link_ttl: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_gets_a_trailing_slash_and_secrets_stay_hidden() {
        let config = GuacamoleConfig::new("https://g.example/guacamole", "guacadmin", Secret::new("pw")).unwrap();
        assert_eq!(config.base_url.as_str(), "https://g.example/guacamole/");
        assert!(!format!("{config:?}").contains("pw\""));
        assert!(GuacamoleConfig::new("ftp://x", "a", Secret::new("b")).is_err());
        assert!(JsonSecretKey::from_hex("4c0b569e4c96df157eee1b65dd0e4d41").is_ok());
        assert!(JsonSecretKey::from_hex("4c0b").is_err());
        let key = JsonSecretKey::from_hex("4C0B569E4C96DF157EEE1B65DD0E4D41").unwrap();
        assert_eq!(key.to_hex(), "4c0b569e4c96df157eee1b65dd0e4d41");
    }
}
