//! Filling the configured filter and DN templates with user input, safely.
//!
//! A username is untrusted: in a search filter it is escaped per RFC 4515 (so `*`, `(`,
//! `)`, `\` and NUL are literal characters, not filter syntax), in a DN per RFC 4514 (so
//! `,`, `+`, `=`, ... cannot add RDNs). Placeholders are replaced in one pass, so a value
//! that itself looks like `{dn}` is never expanded again.

use std::borrow::Cow;

/// Escapes a value for use inside a search filter (RFC 4515 §3).
pub fn filter_value(raw: &str) -> Cow<'_, str> {
    ldap3::ldap_escape(raw)
}

/// Escapes a value for use as an attribute value in a DN (RFC 4514 §2.4).
pub fn dn_value(raw: &str) -> Cow<'_, str> {
    ldap3::dn_escape(raw)
}

/// Replaces each `{name}` in `template` by its (already escaped) value; unknown
/// placeholders are left as they are.
pub(crate) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let replaced = after.find('}').and_then(|end| {
            let name = &after[..end];
            values.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value, end))
        });
        match replaced {
            Some((value, end)) => {
                out.push_str(value);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_metacharacters_become_hex_escapes() {
        assert_eq!(filter_value("alice"), "alice");
        assert_eq!(filter_value("*)(uid=*"), "\\2a\\29\\28uid=\\2a");
        assert_eq!(filter_value("a\\b"), "a\\5cb");
        assert_eq!(filter_value("nul\0"), "nul\\00");
        // Not filter syntax, so left alone.
        assert_eq!(filter_value("o'brien & co|x!y"), "o'brien & co|x!y");
    }

    #[test]
    fn dn_specials_are_escaped() {
        assert_eq!(dn_value("jo,hn"), "jo\\2chn");
        assert_eq!(dn_value("a+b=c;d"), "a\\2bb\\3dc\\3bd");
        assert_eq!(dn_value("#lead"), "\\23lead");
        assert_eq!(dn_value(" pad "), "\\20pad\\20");
        assert_eq!(dn_value("q\"<>\\"), "q\\22\\3c\\3e\\5c");
        assert_eq!(dn_value("mid#dle space"), "mid#dle space");
    }

    #[test]
    fn fill_is_single_pass() {
        let filter = fill("(&(objectClass=person)({attr}={username}))", &[("attr", "uid"), ("username", "{attr}")]);
        assert_eq!(filter, "(&(objectClass=person)(uid={attr}))");
        assert_eq!(fill("(member={dn})", &[("dn", "uid=a,dc=x")]), "(member=uid=a,dc=x)");
        assert_eq!(fill("{unknown}{x", &[("x", "y")]), "{unknown}{x");
        assert_eq!(fill("", &[]), "");
    }
}
