//! The directory's view of a user, mapped from an LDAP entry.

use std::collections::HashMap;

use ldap3::SearchEntry;

use crate::config::{AttributeMap, DisabledRule};

/// A user as the directory describes them, after a successful sign-in or a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    pub dn: String,
    /// The username attribute as stored in the directory (its spelling, not the one typed).
    pub username: String,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub display_name: Option<String>,
    pub groups: Vec<DirectoryGroup>,
    /// Whether the entry matches the disabled-account rule; only [`crate::LdapDirectory::lookup`]
    /// can return `true` (sign-in fails with [`crate::LdapError::AccountDisabled`] instead).
    pub disabled: bool,
}

/// One group the user belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryGroup {
    pub dn: String,
    /// The group's `cn` (from a group search), or the value of the first RDN of its DN
    /// (from `memberOf`), e.g. `teachers` for `cn=teachers,ou=groups,dc=example,dc=org`.
    pub name: String,
}

impl DirectoryGroup {
    pub(crate) fn from_dn(dn: String) -> DirectoryGroup {
        let name = first_rdn_value(&dn);
        DirectoryGroup { dn, name }
    }
}

/// Attribute values of an entry, looked up without regard to case (servers answer with
/// their own spelling of the attribute name).
pub(crate) struct Entry {
    pub dn: String,
    attrs: HashMap<String, Vec<String>>,
}

impl Entry {
    pub fn new(entry: SearchEntry) -> Entry {
        let attrs = entry.attrs.into_iter().map(|(name, values)| (name.to_ascii_lowercase(), values)).collect();
        Entry { dn: entry.dn, attrs }
    }

    pub fn values(&self, attribute: &str) -> &[String] {
        self.attrs.get(&attribute.to_ascii_lowercase()).map(Vec::as_slice).unwrap_or_default()
    }

    pub fn first(&self, attribute: &str) -> Option<String> {
        self.values(attribute).iter().map(|v| v.trim()).find(|v| !v.is_empty()).map(str::to_owned)
    }

    pub fn is_disabled(&self, rule: Option<&DisabledRule>) -> bool {
        rule.is_some_and(|rule| rule.is_disabled(self.values(&rule.attribute)))
    }

    pub fn into_user(
        self,
        attributes: &AttributeMap,
        typed_username: &str,
        groups: Vec<DirectoryGroup>,
        disabled: bool,
    ) -> DirectoryUser {
        DirectoryUser {
            username: self.first(&attributes.username).unwrap_or_else(|| typed_username.to_owned()),
            email: self.first(&attributes.mail),
            given_name: self.first(&attributes.given_name),
            surname: self.first(&attributes.surname),
            display_name: self.first(&attributes.display_name),
            groups,
            disabled,
            dn: self.dn,
        }
    }
}

/// The value of the first RDN of a DN, with RFC 4514 escapes undone; the whole DN if it
/// has no `=`. For multi-valued RDNs (`cn=a+ou=b`) the first value is taken.
pub(crate) fn first_rdn_value(dn: &str) -> String {
    let bytes = dn.as_bytes();
    let Some(eq) = dn.find('=') else { return dn.to_owned() };
    let mut value = Vec::new();
    let mut i = eq + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if i + 1 < bytes.len() => {
                let hex = dn.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        value.push(byte);
                        i += 3;
                    }
                    None => {
                        value.push(bytes[i + 1]);
                        i += 2;
                    }
                }
            }
            b',' | b'+' => break,
            byte => {
                value.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&value).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_name_is_the_first_rdn_value() {
        assert_eq!(first_rdn_value("cn=teachers,ou=groups,dc=example,dc=org"), "teachers");
        assert_eq!(first_rdn_value("CN=Domain Users,CN=Users,DC=corp,DC=example"), "Domain Users");
        assert_eq!(first_rdn_value("cn=R\\26D\\2c Lab,ou=groups"), "R&D, Lab");
        assert_eq!(first_rdn_value("cn=a\\,b,ou=groups"), "a,b");
        assert_eq!(first_rdn_value("cn=staff+ou=x,dc=org"), "staff");
        assert_eq!(first_rdn_value("cn=Gr\\C3\\BCne,dc=org"), "Grüne");
        assert_eq!(first_rdn_value("plain"), "plain");
    }

    #[test]
    fn attributes_are_found_whatever_their_case() {
        let entry = Entry::new(SearchEntry {
            dn: "uid=a,dc=org".into(),
            attrs: HashMap::from([
                ("memberof".to_string(), vec!["cn=x,dc=org".to_string()]),
                ("mail".to_string(), vec!["  ".to_string(), "a@example.org".to_string()]),
            ]),
            bin_attrs: HashMap::new(),
        });
        assert_eq!(entry.values("memberOf"), ["cn=x,dc=org"]);
        assert_eq!(entry.first("MAIL").as_deref(), Some("a@example.org"));
        assert_eq!(entry.first("sn"), None);
        let attributes = AttributeMap {
            username: "uid".into(),
            mail: "mail".into(),
            given_name: "givenName".into(),
            surname: "sn".into(),
            display_name: "cn".into(),
        };
        let user = entry.into_user(&attributes, "A", vec![], false);
        assert_eq!(user.username, "A", "falls back to what was typed when the entry has no uid");
        assert_eq!(user.email.as_deref(), Some("a@example.org"));
    }
}
