//! Directory settings, read from the `LDAP_*` environment variables.
//!
//! Two ways to find a user's entry:
//! * **search** (the default): bind as the service account (`LDAP_BIND_DN` /
//!   `LDAP_BIND_PASSWORD`, or anonymously when unset), search `LDAP_DN_PEOPLE` with
//!   `LDAP_USER_FILTER`, then bind as the entry found with the user's password;
//! * **direct bind** (`LDAP_USER_DN_TEMPLATE` set): build the DN from the username and bind
//!   with it; no service account needed, but every user must live under one pattern.
//!
//! Groups come either from an attribute on the user's entry (`LDAP_ATTR_MEMBER_OF`,
//! default `memberOf`: Active Directory, OpenLDAP's memberof overlay) or, when
//! `LDAP_GROUP_BASE` is set, from a search for group entries (`LDAP_GROUP_FILTER`, default
//! `(member={dn})`).
//!
//! A disabled account is recognised by `LDAP_ATTR_DISABLED` and `LDAP_DISABLED_VALUE`; see
//! [`DisabledRule`].

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

/// Names of the environment variables [`LdapConfig::from_lookup`] reads.
pub mod vars {
    pub const ENABLED: &str = "LDAP_ENABLED";
    pub const URL: &str = "LDAP_URL";
    pub const STARTTLS: &str = "LDAP_STARTTLS";
    pub const CA_FILE: &str = "LDAP_CA_FILE";
    pub const SKIP_VERIFY: &str = "LDAP_SKIP_VERIFY";
    pub const BIND_DN: &str = "LDAP_BIND_DN";
    pub const BIND_PASSWORD: &str = "LDAP_BIND_PASSWORD";
    pub const DN_PEOPLE: &str = "LDAP_DN_PEOPLE";
    pub const ATTR_USER: &str = "LDAP_ATTR_USER";
    pub const USER_FILTER: &str = "LDAP_USER_FILTER";
    pub const USER_DN_TEMPLATE: &str = "LDAP_USER_DN_TEMPLATE";
    pub const ATTR_MAIL: &str = "LDAP_ATTR_MAIL";
    pub const ATTR_GIVEN_NAME: &str = "LDAP_ATTR_GIVEN_NAME";
    pub const ATTR_SURNAME: &str = "LDAP_ATTR_SURNAME";
    pub const ATTR_DISPLAY_NAME: &str = "LDAP_ATTR_DISPLAY_NAME";
    pub const ATTR_MEMBER_OF: &str = "LDAP_ATTR_MEMBER_OF";
    pub const GROUP_BASE: &str = "LDAP_GROUP_BASE";
    pub const GROUP_FILTER: &str = "LDAP_GROUP_FILTER";
    pub const ATTR_DISABLED: &str = "LDAP_ATTR_DISABLED";
    pub const DISABLED_VALUE: &str = "LDAP_DISABLED_VALUE";
    pub const TIMEOUT_SECS: &str = "LDAP_TIMEOUT_SECS";
}

/// `LDAP_USER_FILTER` when unset; `{attr}` is `LDAP_ATTR_USER`, `{username}` the escaped name.
pub const DEFAULT_USER_FILTER: &str = "(&(objectClass=inetOrgPerson)({attr}={username}))";
/// `LDAP_GROUP_FILTER` when unset; `{dn}` is the user's DN, `{username}` the name, both escaped.
pub const DEFAULT_GROUP_FILTER: &str = "(member={dn})";
/// Applies to connecting (TCP, TLS, StartTLS) and to each operation separately.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How the server certificate is checked (ldaps:// or StartTLS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsVerification {
    /// The operating system's trust store.
    SystemRoots,
    /// Only the CAs in this PEM file (`LDAP_CA_FILE`), e.g. the institution's internal CA.
    CaFile(PathBuf),
    /// No verification at all (`LDAP_SKIP_VERIFY=true`): anyone on the path can read
    /// passwords. Only for labs; a warning is logged on every connection.
    SkipVerify,
}

/// The service account used to search for users (and for the admin "Test" lookup).
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    pub dn: String,
    pub password: String,
}

impl fmt::Debug for ServiceAccount {
    /// Hand-written so the password never reaches a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount").field("dn", &self.dn).field("password", &"<redacted>").finish()
    }
}

/// How a username becomes a directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserLocator {
    /// Search `base` (subtree) with `filter`, a template with `{attr}` and `{username}`.
    Search { base: String, filter: String },
    /// Bind directly as this DN template with `{username}` (escaped per RFC 4514).
    DnTemplate(String),
}

/// Where group memberships come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupSource {
    /// A multi-valued attribute on the user's entry holding group DNs (`memberOf`).
    MemberOfAttribute(String),
    /// Group entries under `base` (subtree) matching `filter`, a template with `{dn}` and
    /// `{username}`; each group's name is its `cn`.
    Search { base: String, filter: String },
}

/// Names of the attributes the user's entry is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeMap {
    pub username: String,
    pub mail: String,
    pub given_name: String,
    pub surname: String,
    pub display_name: String,
}

/// How to tell a disabled account (`LDAP_ATTR_DISABLED`, `LDAP_DISABLED_VALUE`).
///
/// * value unset: the account is disabled when the attribute is **present** with any value
///   (OpenLDAP ppolicy: `LDAP_ATTR_DISABLED=pwdAccountLockedTime`);
/// * `bits:N`: the attribute is an integer and the account is disabled when any bit of `N`
///   is set (Active Directory: `LDAP_ATTR_DISABLED=userAccountControl`,
///   `LDAP_DISABLED_VALUE=bits:2`, ACCOUNTDISABLE);
/// * anything else: disabled when a value equals it, ignoring case
///   (`LDAP_ATTR_DISABLED=employeeType`, `LDAP_DISABLED_VALUE=disabled`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisabledRule {
    pub attribute: String,
    pub matcher: DisabledMatch,
}

/// See [`DisabledRule`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisabledMatch {
    Present,
    AnyBit(u64),
    Equals(String),
}

impl DisabledRule {
    /// Whether these values of the attribute (empty when absent) mark the account disabled.
    pub fn is_disabled(&self, values: &[String]) -> bool {
        match &self.matcher {
            DisabledMatch::Present => !values.is_empty(),
            DisabledMatch::AnyBit(mask) => {
                values.iter().any(|v| v.trim().parse::<i64>().is_ok_and(|n| (n as u64) & mask != 0))
            }
            DisabledMatch::Equals(expected) => values.iter().any(|v| v.trim().eq_ignore_ascii_case(expected)),
        }
    }
}

/// Everything the client needs to reach one directory.
#[derive(Debug, Clone)]
pub struct LdapConfig {
    /// `ldap://host:port` or `ldaps://host:port`.
    pub url: Url,
    /// Upgrade an `ldap://` connection with StartTLS before any bind.
    pub starttls: bool,
    pub tls: TlsVerification,
    /// `None`: searches are anonymous.
    pub service_account: Option<ServiceAccount>,
    pub locator: UserLocator,
    pub attributes: AttributeMap,
    pub groups: GroupSource,
    pub disabled: Option<DisabledRule>,
    pub timeout: Duration,
}

/// A configuration variable is missing or malformed; the message names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LdapConfigError {
    #[error("{var} is not set")]
    Missing { var: &'static str },
    #[error("{var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
}

fn invalid(var: &'static str, reason: impl Into<String>) -> LdapConfigError {
    LdapConfigError::Invalid { var, reason: reason.into() }
}

/// Parses the original product's booleans (`True`/`False`) and the usual spellings.
pub(crate) fn parse_bool(var: &'static str, value: &str) -> Result<bool, LdapConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        other => Err(invalid(var, format!("expected True or False, got {other:?}"))),
    }
}

impl LdapConfig {
    /// The effective settings as (variable, value) pairs for the administrator's view;
    /// the service account's password is only said to be set.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![(vars::URL, self.url.to_string()), (vars::STARTTLS, self.starttls.to_string())];
        match &self.tls {
            TlsVerification::SystemRoots => {}
            TlsVerification::CaFile(path) => out.push((vars::CA_FILE, path.display().to_string())),
            TlsVerification::SkipVerify => out.push((vars::SKIP_VERIFY, "true (certificates are not checked)".into())),
        }
        if let Some(account) = &self.service_account {
            out.push((vars::BIND_DN, account.dn.clone()));
            out.push((vars::BIND_PASSWORD, "(set)".into()));
        }
        match &self.locator {
            UserLocator::Search { base, filter } => {
                out.push((vars::DN_PEOPLE, base.clone()));
                out.push((vars::USER_FILTER, filter.clone()));
            }
            UserLocator::DnTemplate(template) => out.push((vars::USER_DN_TEMPLATE, template.clone())),
        }
        let a = &self.attributes;
        out.extend([
            (vars::ATTR_USER, a.username.clone()),
            (vars::ATTR_MAIL, a.mail.clone()),
            (vars::ATTR_GIVEN_NAME, a.given_name.clone()),
            (vars::ATTR_SURNAME, a.surname.clone()),
            (vars::ATTR_DISPLAY_NAME, a.display_name.clone()),
        ]);
        match &self.groups {
            GroupSource::MemberOfAttribute(attribute) => out.push((vars::ATTR_MEMBER_OF, attribute.clone())),
            GroupSource::Search { base, filter } => {
                out.push((vars::GROUP_BASE, base.clone()));
                out.push((vars::GROUP_FILTER, filter.clone()));
            }
        }
        if let Some(rule) = &self.disabled {
            out.push((vars::ATTR_DISABLED, rule.attribute.clone()));
            match &rule.matcher {
                DisabledMatch::Present => {}
                DisabledMatch::AnyBit(mask) => out.push((vars::DISABLED_VALUE, format!("bits:{mask}"))),
                DisabledMatch::Equals(value) => out.push((vars::DISABLED_VALUE, value.clone())),
            }
        }
        out.push((vars::TIMEOUT_SECS, self.timeout.as_secs().to_string()));
        out
    }

    /// Reads the process environment; see [`LdapConfig::from_lookup`].
    pub fn from_env() -> Result<Option<LdapConfig>, LdapConfigError> {
        LdapConfig::from_lookup(|var| std::env::var(var).ok())
    }

    /// Builds the configuration from a variable lookup. `Ok(None)` when `LDAP_ENABLED` is
    /// false or unset: the other variables are then not checked. Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<LdapConfig>, LdapConfigError> {
        let get = |var: &'static str| lookup(var).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let require = |var: &'static str| get(var).ok_or(LdapConfigError::Missing { var });
        let flag = |var: &'static str| get(var).map(|v| parse_bool(var, &v)).transpose().map(|v| v.unwrap_or(false));
        let or_default = |var: &'static str, default: &str| get(var).unwrap_or_else(|| default.to_owned());

        if !flag(vars::ENABLED)? {
            return Ok(None);
        }

        let url = parse_url(&require(vars::URL)?)?;
        let starttls = flag(vars::STARTTLS)?;
        if starttls && url.scheme() == "ldaps" {
            return Err(invalid(
                vars::STARTTLS,
                format!("StartTLS upgrades ldap:// connections; {} already uses ldaps://", vars::URL),
            ));
        }

        let skip_verify = flag(vars::SKIP_VERIFY)?;
        let tls = match (get(vars::CA_FILE), skip_verify) {
            (Some(_), true) => {
                return Err(invalid(
                    vars::SKIP_VERIFY,
                    format!("set either {} or {}, not both", vars::CA_FILE, vars::SKIP_VERIFY),
                ));
            }
            (Some(path), false) => {
                let path = PathBuf::from(path);
                if !path.is_file() {
                    return Err(invalid(vars::CA_FILE, format!("{} is not a readable file", path.display())));
                }
                TlsVerification::CaFile(path)
            }
            (None, true) => TlsVerification::SkipVerify,
            (None, false) => TlsVerification::SystemRoots,
        };

        let service_account = match (get(vars::BIND_DN), lookup(vars::BIND_PASSWORD).filter(|p| !p.is_empty())) {
            (Some(dn), Some(password)) => Some(ServiceAccount { dn, password }),
            (None, None) => None,
            (Some(_), None) => return Err(LdapConfigError::Missing { var: vars::BIND_PASSWORD }),
            (None, Some(_)) => return Err(LdapConfigError::Missing { var: vars::BIND_DN }),
        };

        let attributes = AttributeMap {
            username: or_default(vars::ATTR_USER, "uid"),
            mail: or_default(vars::ATTR_MAIL, "mail"),
            given_name: or_default(vars::ATTR_GIVEN_NAME, "givenName"),
            surname: or_default(vars::ATTR_SURNAME, "sn"),
            display_name: or_default(vars::ATTR_DISPLAY_NAME, "cn"),
        };
        for (var, name) in [
            (vars::ATTR_USER, &attributes.username),
            (vars::ATTR_MAIL, &attributes.mail),
            (vars::ATTR_GIVEN_NAME, &attributes.given_name),
            (vars::ATTR_SURNAME, &attributes.surname),
            (vars::ATTR_DISPLAY_NAME, &attributes.display_name),
        ] {
            check_attribute_name(var, name)?;
        }

        let locator = match get(vars::USER_DN_TEMPLATE) {
            Some(template) => {
                if !template.contains("{username}") {
                    return Err(invalid(vars::USER_DN_TEMPLATE, "must contain {username}"));
                }
                UserLocator::DnTemplate(template)
            }
            None => {
                let filter = or_default(vars::USER_FILTER, DEFAULT_USER_FILTER);
                if !filter.contains("{username}") {
                    return Err(invalid(vars::USER_FILTER, "must contain {username}"));
                }
                if !(filter.starts_with('(') && filter.ends_with(')')) {
                    return Err(invalid(vars::USER_FILTER, "must be enclosed in parentheses"));
                }
                let base = get(vars::DN_PEOPLE).ok_or(LdapConfigError::Missing { var: vars::DN_PEOPLE })?;
                UserLocator::Search { base, filter }
            }
        };

        let groups = match get(vars::GROUP_BASE) {
            Some(base) => {
                let filter = or_default(vars::GROUP_FILTER, DEFAULT_GROUP_FILTER);
                if !(filter.starts_with('(') && filter.ends_with(')')) {
                    return Err(invalid(vars::GROUP_FILTER, "must be enclosed in parentheses"));
                }
                GroupSource::Search { base, filter }
            }
            None => {
                let attribute = or_default(vars::ATTR_MEMBER_OF, "memberOf");
                check_attribute_name(vars::ATTR_MEMBER_OF, &attribute)?;
                GroupSource::MemberOfAttribute(attribute)
            }
        };

        let disabled = match get(vars::ATTR_DISABLED) {
            None => {
                if get(vars::DISABLED_VALUE).is_some() {
                    return Err(LdapConfigError::Missing { var: vars::ATTR_DISABLED });
                }
                None
            }
            Some(attribute) => {
                check_attribute_name(vars::ATTR_DISABLED, &attribute)?;
                let matcher = match get(vars::DISABLED_VALUE) {
                    None => DisabledMatch::Present,
                    Some(value) => match value.strip_prefix("bits:") {
                        Some(mask) => DisabledMatch::AnyBit(parse_mask(mask.trim())?),
                        None => DisabledMatch::Equals(value),
                    },
                };
                Some(DisabledRule { attribute, matcher })
            }
        };

        let timeout = match get(vars::TIMEOUT_SECS) {
            None => DEFAULT_TIMEOUT,
            Some(v) => match v.parse::<u64>() {
                Ok(secs) if (1..=300).contains(&secs) => Duration::from_secs(secs),
                _ => return Err(invalid(vars::TIMEOUT_SECS, format!("expected whole seconds 1..=300, got {v:?}"))),
            },
        };

        Ok(Some(LdapConfig { url, starttls, tls, service_account, locator, attributes, groups, disabled, timeout }))
    }
}

fn parse_url(raw: &str) -> Result<Url, LdapConfigError> {
    let url =
        Url::parse(raw).map_err(|e| invalid(vars::URL, format!("{e} (expected e.g. ldaps://ldap.example.org)")))?;
    if !matches!(url.scheme(), "ldap" | "ldaps") {
        return Err(invalid(vars::URL, format!("scheme must be ldap:// or ldaps://, got {}://", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(vars::URL, "no host name"));
    }
    if !(url.path().is_empty() || url.path() == "/") || url.query().is_some() {
        return Err(invalid(
            vars::URL,
            format!("give only scheme, host and port; put the base DN in {}", vars::DN_PEOPLE),
        ));
    }
    Ok(url)
}

fn parse_mask(raw: &str) -> Result<u64, LdapConfigError> {
    let parsed = match raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => raw.parse::<u64>(),
    };
    match parsed {
        Ok(mask) if mask != 0 => Ok(mask),
        _ => Err(invalid(vars::DISABLED_VALUE, format!("bits: needs a non-zero integer mask, got {raw:?}"))),
    }
}

/// Attribute descriptions are keystrings or OIDs (RFC 4512 §2.5), optionally with options;
/// anything else would end up inside a filter.
fn check_attribute_name(var: &'static str, name: &str) -> Result<(), LdapConfigError> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ';'));
    if valid { Ok(()) } else { Err(invalid(var, format!("{name:?} is not an attribute name"))) }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Option<LdapConfig>, LdapConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        LdapConfig::from_lookup(|var| map.get(var).cloned())
    }

    fn base<'a>() -> Vec<(&'a str, &'a str)> {
        vec![
            (vars::ENABLED, "True"),
            (vars::URL, "ldap://ldap.example.org"),
            (vars::DN_PEOPLE, "ou=people,dc=example,dc=org"),
        ]
    }

    fn with<'a>(extra: &[(&'a str, &'a str)]) -> Result<Option<LdapConfig>, LdapConfigError> {
        let mut pairs = base();
        pairs.extend_from_slice(extra);
        load(&pairs)
    }

    #[test]
    fn disabled_or_unset_means_no_directory() {
        assert_eq!(load(&[]).unwrap().map(|c| c.url), None);
        assert_eq!(load(&[(vars::ENABLED, "False"), (vars::URL, "nonsense")]).unwrap().map(|c| c.url), None);
    }

    #[test]
    fn defaults_follow_the_original_product() {
        let config = with(&[]).unwrap().unwrap();
        assert_eq!(config.attributes.username, "uid");
        assert_eq!(config.attributes.mail, "mail");
        assert_eq!(config.attributes.given_name, "givenName");
        assert_eq!(config.attributes.surname, "sn");
        assert_eq!(config.attributes.display_name, "cn");
        assert_eq!(
            config.locator,
            UserLocator::Search { base: "ou=people,dc=example,dc=org".into(), filter: DEFAULT_USER_FILTER.into() }
        );
        assert_eq!(config.groups, GroupSource::MemberOfAttribute("memberOf".into()));
        assert_eq!(config.tls, TlsVerification::SystemRoots);
        assert_eq!(config.service_account, None);
        assert_eq!(config.disabled, None);
        assert_eq!(config.timeout, DEFAULT_TIMEOUT);
        assert!(!config.starttls);
    }

    #[test]
    fn errors_name_the_variable() {
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (vec![(vars::ENABLED, "maybe")], vars::ENABLED),
            (vec![(vars::ENABLED, "True")], vars::URL),
            (vec![(vars::ENABLED, "True"), (vars::URL, "http://x")], vars::URL),
            (vec![(vars::ENABLED, "True"), (vars::URL, "ldap://x/dc=org")], vars::URL),
            (vec![(vars::ENABLED, "True"), (vars::URL, "ldap://x")], vars::DN_PEOPLE),
        ];
        for (pairs, var) in cases {
            let err = load(&pairs).unwrap_err();
            assert!(err.to_string().contains(var), "{err} should name {var}");
        }
        let more: Vec<(&[(&str, &str)], &str)> = vec![
            (&[(vars::STARTTLS, "yes"), (vars::URL, "ldaps://x")], vars::STARTTLS),
            (&[(vars::CA_FILE, "/nonexistent/ca.pem")], vars::CA_FILE),
            (&[(vars::BIND_DN, "cn=svc")], vars::BIND_PASSWORD),
            (&[(vars::BIND_PASSWORD, "pw")], vars::BIND_DN),
            (&[(vars::USER_FILTER, "(uid=x)")], vars::USER_FILTER),
            (&[(vars::USER_DN_TEMPLATE, "uid=x,dc=org")], vars::USER_DN_TEMPLATE),
            (&[(vars::ATTR_USER, "uid)(x")], vars::ATTR_USER),
            (&[(vars::DISABLED_VALUE, "disabled")], vars::ATTR_DISABLED),
            (&[(vars::ATTR_DISABLED, "userAccountControl"), (vars::DISABLED_VALUE, "bits:zero")], vars::DISABLED_VALUE),
            (&[(vars::TIMEOUT_SECS, "0")], vars::TIMEOUT_SECS),
            (&[(vars::GROUP_BASE, "ou=groups"), (vars::GROUP_FILTER, "member={dn}")], vars::GROUP_FILTER),
        ];
        for (extra, var) in more {
            let err = with(extra).unwrap_err();
            assert!(err.to_string().contains(var), "{err} should name {var}");
        }
    }

    #[test]
    fn skip_verify_and_ca_file_exclude_each_other() {
        let ca = tempfile::NamedTempFile::new().unwrap();
        let path = ca.path().to_str().unwrap();
        let err = with(&[(vars::CA_FILE, path), (vars::SKIP_VERIFY, "True")]).unwrap_err();
        assert!(err.to_string().contains(vars::SKIP_VERIFY));
        let config = with(&[(vars::CA_FILE, path)]).unwrap().unwrap();
        assert_eq!(config.tls, TlsVerification::CaFile(ca.path().to_owned()));
        let config = with(&[(vars::SKIP_VERIFY, "True")]).unwrap().unwrap();
        assert_eq!(config.tls, TlsVerification::SkipVerify);
    }

    #[test]
    fn direct_bind_needs_no_people_base() {
        let config = load(&[
            (vars::ENABLED, "true"),
            (vars::URL, "ldaps://ldap.example.org:636"),
            (vars::USER_DN_TEMPLATE, "uid={username},ou=people,dc=example,dc=org"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(config.locator, UserLocator::DnTemplate("uid={username},ou=people,dc=example,dc=org".into()));
    }

    #[test]
    fn group_search_and_disabled_rules() {
        let config = with(&[
            (vars::GROUP_BASE, "ou=groups,dc=example,dc=org"),
            (vars::ATTR_DISABLED, "userAccountControl"),
            (vars::DISABLED_VALUE, "bits:0x2"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            config.groups,
            GroupSource::Search { base: "ou=groups,dc=example,dc=org".into(), filter: DEFAULT_GROUP_FILTER.into() }
        );
        let rule = config.disabled.unwrap();
        assert!(rule.is_disabled(&["514".into()]));
        assert!(!rule.is_disabled(&["512".into()]));
        assert!(!rule.is_disabled(&[]));

        let present = DisabledRule { attribute: "pwdAccountLockedTime".into(), matcher: DisabledMatch::Present };
        assert!(present.is_disabled(&["20240101000000Z".into()]));
        assert!(!present.is_disabled(&[]));

        let equals =
            DisabledRule { attribute: "employeeType".into(), matcher: DisabledMatch::Equals("disabled".into()) };
        assert!(equals.is_disabled(&["staff".into(), "Disabled".into()]));
        assert!(!equals.is_disabled(&["staff".into()]));
    }

    #[test]
    fn debug_hides_the_service_password() {
        let config = with(&[(vars::BIND_DN, "cn=svc,dc=example,dc=org"), (vars::BIND_PASSWORD, "s3cret-Pa55")])
            .unwrap()
            .unwrap();
        let shown = format!("{config:?}");
        assert!(shown.contains("cn=svc,dc=example,dc=org"));
        assert!(!shown.contains("s3cret-Pa55"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
