//! The Apache Guacamole connection as administrators edit it: address, admin
//! account, data source and how participants are signed in. The admin
//! password and the JSON secret key are write-only: the view only says
//! whether they are set.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{AppError, Problem};
use crate::time::Timestamp;

pub const URL_MAX: usize = 255;
pub const USERNAME_MAX: usize = 128;
pub const PASSWORD_MAX: usize = 255;
pub const DATA_SOURCE_MAX: usize = 64;

/// How Connect signs a participant in to Guacamole.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SsoMethod {
    /// A one-time encrypted JSON assertion (`guacamole-auth-json`) under the
    /// shared JSON secret key: the participant arrives signed in.
    #[default]
    EncryptedJson,
    /// No assertion: Connect opens Guacamole's own sign-in page, where the
    /// participant signs in with whatever Guacamole accepts (its LDAP or
    /// OpenID extension with the same usernames, for instance).
    None,
}

impl SsoMethod {
    pub const ALL: [SsoMethod; 2] = [SsoMethod::EncryptedJson, SsoMethod::None];

    /// The form's and the database's value.
    pub fn key(self) -> &'static str {
        match self {
            SsoMethod::EncryptedJson => "guacamole-auth-json",
            SsoMethod::None => "none",
        }
    }

    pub fn parse(key: &str) -> Option<SsoMethod> {
        SsoMethod::ALL.into_iter().find(|m| m.key() == key.trim())
    }
}

/// Where the Guacamole connection in use comes from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuacamoleSource {
    /// The `GUACAMOLE_*` environment variables (until something is saved).
    Environment,
    /// Saved on the Guacamole settings page; wins over the environment.
    Saved,
}

/// Why the saved connection cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GuacamoleProblem {
    /// `OPENVLE_SECRET_KEY` is not set: saved secrets can be neither read nor written.
    SecretKeyMissing,
    /// A saved secret does not decrypt with the configured key (the key changed).
    SecretUnreadable,
    /// The saved values cannot make a client.
    Setup { message: String },
}

/// English, for logs and job errors; the UI has its own texts.
impl fmt::Display for GuacamoleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuacamoleProblem::SecretKeyMissing => f.write_str("OPENVLE_SECRET_KEY is not set"),
            GuacamoleProblem::SecretUnreadable => {
                f.write_str("the saved Guacamole secrets do not decrypt with OPENVLE_SECRET_KEY")
            }
            GuacamoleProblem::Setup { message } => write!(f, "cannot use the Guacamole settings: {message}"),
        }
    }
}

/// The connection as the settings page shows it: secrets only as "set".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuacamoleView {
    /// `None`: Guacamole is not configured (VMs use the built-in console).
    pub source: Option<GuacamoleSource>,
    pub url: String,
    pub admin_username: String,
    pub password_set: bool,
    /// Empty: the one Guacamole names at sign-in.
    pub data_source: String,
    pub sso_method: SsoMethod,
    pub json_secret_set: bool,
    pub updated_at: Option<Timestamp>,
    pub updated_by: Option<String>,
    /// Whether `GUACAMOLE_URL` is set (it applies until something is saved).
    pub environment_configured: bool,
    /// Whether `OPENVLE_SECRET_KEY` is set, without which nothing can be saved.
    pub can_save: bool,
    /// Why the saved connection cannot be used, when it cannot.
    pub problem: Option<GuacamoleProblem>,
}

/// What the settings form sends. Empty secrets keep the stored ones.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuacamoleInput {
    pub url: String,
    pub admin_username: String,
    pub admin_password: String,
    pub data_source: String,
    pub sso_method: String,
    pub json_secret_key: String,
}

impl fmt::Debug for GuacamoleInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = |s: &str| if s.is_empty() { "<empty>" } else { "<redacted>" };
        f.debug_struct("GuacamoleInput")
            .field("url", &self.url)
            .field("admin_username", &self.admin_username)
            .field("admin_password", &secret(&self.admin_password))
            .field("data_source", &self.data_source)
            .field("sso_method", &self.sso_method)
            .field("json_secret_key", &secret(&self.json_secret_key))
            .finish()
    }
}

/// The form's fields but the secrets, validated and normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidGuacamole {
    /// `http(s)://host[:port]/path/`, always ending in `/`.
    pub url: String,
    pub admin_username: String,
    pub data_source: Option<String>,
    pub sso_method: SsoMethod,
}

fn format_problem(field: &str, expected: &str) -> AppError {
    AppError::invalid(field, Problem::Format { expected: expected.into() })
}

/// Checks every field; the secrets only for their form (the service decides
/// whether an empty one may keep the stored value).
pub fn validate_guacamole(input: &GuacamoleInput) -> Result<ValidGuacamole, AppError> {
    let valid = ValidGuacamole {
        url: guacamole_url(&input.url)?,
        admin_username: admin_username(&input.admin_username)?,
        data_source: data_source(&input.data_source)?,
        sso_method: SsoMethod::parse(&input.sso_method)
            .ok_or_else(|| AppError::invalid("sso_method", Problem::Unknown))?,
    };
    admin_password(&input.admin_password)?;
    json_secret_key(&input.json_secret_key)?;
    Ok(valid)
}

/// Guacamole's web application: `http(s)://host[:port][/path]`, no
/// credentials, query or fragment; the result ends in `/`.
pub fn guacamole_url(raw: &str) -> Result<String, AppError> {
    const EXPECTED: &str = "https://guacamole.example.org/guacamole/";
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(AppError::invalid("guacamole_url", Problem::Required));
    }
    if raw.chars().count() > URL_MAX {
        return Err(AppError::invalid("guacamole_url", Problem::TooLong { max: URL_MAX }));
    }
    let (scheme, rest) = raw.split_once("://").ok_or_else(|| format_problem("guacamole_url", EXPECTED))?;
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        return Err(format_problem("guacamole_url", EXPECTED));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = authority.rsplit_once(':').map_or(
        authority,
        |(host, port)| {
            if port.parse::<u16>().is_ok() { host } else { "" }
        },
    );
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':');
    if host.is_empty() || !host.chars().all(allowed) || path.contains(['?', '#', ' ', '\\']) {
        return Err(format_problem("guacamole_url", EXPECTED));
    }
    let path = if path.ends_with('/') { path.to_string() } else { format!("{path}/") };
    Ok(format!("{}://{authority}{path}", scheme.to_ascii_lowercase()))
}

fn admin_username(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::invalid("admin_username", Problem::Required));
    }
    if name.chars().count() > USERNAME_MAX {
        return Err(AppError::invalid("admin_username", Problem::TooLong { max: USERNAME_MAX }));
    }
    Ok(name.to_string())
}

/// Only checks the length: the password is whatever Guacamole accepts.
pub fn admin_password(raw: &str) -> Result<&str, AppError> {
    if raw.chars().count() > PASSWORD_MAX {
        return Err(AppError::invalid("admin_password", Problem::TooLong { max: PASSWORD_MAX }));
    }
    Ok(raw)
}

/// `mysql`, `postgresql`, ...: Guacamole's identifiers; empty means "the one
/// Guacamole names".
fn data_source(raw: &str) -> Result<Option<String>, AppError> {
    let name = raw.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if name.chars().count() > DATA_SOURCE_MAX {
        return Err(AppError::invalid("data_source", Problem::TooLong { max: DATA_SOURCE_MAX }));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return Err(format_problem("data_source", "mysql"));
    }
    Ok(Some(name.to_string()))
}

/// Guacamole's `json-secret-key` is 128 bits as 32 hexadecimal digits;
/// empty keeps the stored one. Answers the key in lowercase.
pub fn json_secret_key(raw: &str) -> Result<String, AppError> {
    let key = raw.trim();
    if key.is_empty() {
        return Ok(String::new());
    }
    if key.len() != 32 || !key.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format_problem("json_secret_key", "32 hexadecimal digits"));
    }
    Ok(key.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> GuacamoleInput {
        GuacamoleInput {
            url: "https://guac.example.org/guacamole".into(),
            admin_username: "guacadmin".into(),
            admin_password: "pw".into(),
            data_source: "mysql".into(),
            sso_method: "guacamole-auth-json".into(),
            json_secret_key: "4C0B569E4C96DF157EEE1B65DD0E4D41".into(),
        }
    }

    fn field(result: Result<impl fmt::Debug, AppError>) -> Option<String> {
        result.err().and_then(|e| e.field().map(str::to_string))
    }

    #[test]
    fn valid_input_is_normalised() {
        let valid = validate_guacamole(&input()).unwrap();
        assert_eq!(valid.url, "https://guac.example.org/guacamole/");
        assert_eq!(valid.data_source.as_deref(), Some("mysql"));
        assert_eq!(valid.sso_method, SsoMethod::EncryptedJson);
        assert_eq!(json_secret_key(&input().json_secret_key).unwrap(), "4c0b569e4c96df157eee1b65dd0e4d41");
        assert_eq!(guacamole_url("http://10.0.0.5:8080").unwrap(), "http://10.0.0.5:8080/");
        let none = GuacamoleInput { sso_method: "none".into(), data_source: " ".into(), ..input() };
        let valid = validate_guacamole(&none).unwrap();
        assert_eq!((valid.sso_method, valid.data_source), (SsoMethod::None, None));
    }

    #[test]
    fn each_bad_field_is_named() {
        for url in ["", "guac.example.org", "ftp://g.example/", "https://user:pw@g.example/", "https://g.example/?x=1"]
        {
            assert_eq!(
                field(validate_guacamole(&GuacamoleInput { url: url.into(), ..input() })),
                Some("guacamole_url".into())
            );
        }
        let bad = GuacamoleInput { admin_username: " ".into(), ..input() };
        assert_eq!(field(validate_guacamole(&bad)), Some("admin_username".into()));
        let bad = GuacamoleInput { data_source: "my sql".into(), ..input() };
        assert_eq!(field(validate_guacamole(&bad)), Some("data_source".into()));
        let bad = GuacamoleInput { sso_method: "saml".into(), ..input() };
        assert_eq!(field(validate_guacamole(&bad)), Some("sso_method".into()));
        for key in ["4c0b", "zz0b569e4c96df157eee1b65dd0e4d41", "4c0b569e4c96df157eee1b65dd0e4d4100"] {
            let bad = GuacamoleInput { json_secret_key: key.into(), ..input() };
            assert_eq!(field(validate_guacamole(&bad)), Some("json_secret_key".into()));
        }
    }

    #[test]
    fn debug_hides_the_secrets() {
        let text = format!("{:?}", input());
        assert!(!text.contains("4C0B") && !text.contains("\"pw\""), "{text}");
    }
}
