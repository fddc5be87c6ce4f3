//! Mapping directory (or identity-provider) groups to one role key.
//!
//! Policy belongs to the service layer; this is only the pure matching it needs, here so
//! that LDAP and OIDC sign-in map groups the same way.

/// An ordered list of `group pattern → role key` rules; the first rule matching any of the
/// user's groups wins, otherwise the default role (if any) applies.
///
/// A pattern containing `=` is a DN and is compared with group DNs, ignoring case and
/// spaces around `,` and `=`; any other pattern is compared with group names (CNs, or
/// the plain group strings an OpenID provider sends), ignoring case. Rule order, not
/// group order, decides: put the most privileged role first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleRules {
    rules: Vec<(String, String)>,
    default_role: Option<String>,
}

impl RoleRules {
    /// No rules; `default_role` (when given) for everyone.
    pub fn new(default_role: Option<String>) -> RoleRules {
        RoleRules { rules: Vec::new(), default_role }
    }

    /// Appends a rule (builder style).
    pub fn rule(mut self, pattern: impl Into<String>, role: impl Into<String>) -> RoleRules {
        self.rules.push((pattern.into(), role.into()));
        self
    }

    /// Parses `pattern=role;pattern=role` (the format of `LDAP_ROLE_RULES` and
    /// `OIDC_ROLE_RULES`): rules are separated by `;`, and the role key is what follows the
    /// **last** `=`, so DN patterns work (`cn=admins,ou=groups,dc=example,dc=org=admin`).
    /// Empty items are skipped. The error says which item is malformed.
    pub fn parse(raw: &str, default_role: Option<String>) -> Result<RoleRules, String> {
        let mut rules = RoleRules::new(default_role);
        for item in raw.split(';').map(str::trim).filter(|i| !i.is_empty()) {
            let Some((pattern, role)) = item.rsplit_once('=') else {
                return Err(format!("{item:?} is not pattern=role"));
            };
            let (pattern, role) = (pattern.trim(), role.trim());
            if pattern.is_empty() || role.is_empty() {
                return Err(format!("{item:?} needs both a group pattern and a role key"));
            }
            if !role.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                return Err(format!("{role:?} in {item:?} is not a role key"));
            }
            rules = rules.rule(pattern, role);
        }
        Ok(rules)
    }

    /// The rules in order, as (pattern, role key).
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.rules.iter().map(|(p, r)| (p.as_str(), r.as_str()))
    }

    pub fn default_role(&self) -> Option<&str> {
        self.default_role.as_deref()
    }

    /// One line per rule and one for the default, for administrators.
    pub fn describe(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.entries().map(|(p, r)| format!("{p} → {r}")).collect();
        lines.push(match self.default_role() {
            Some(role) => format!("(otherwise) → {role}"),
            None => "(otherwise) → no role".to_string(),
        });
        lines
    }

    /// The role for a user in these groups: pairs of (DN, name); for identity providers
    /// that send plain group names, pass the name as both.
    pub fn resolve<'a, I>(&self, groups: I) -> Option<&str>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
        I::IntoIter: Clone,
    {
        let groups = groups.into_iter();
        self.rules
            .iter()
            .find(|(pattern, _)| {
                if pattern.contains('=') {
                    let wanted = normalize_dn(pattern);
                    groups.clone().any(|(dn, _)| normalize_dn(dn) == wanted)
                } else {
                    groups.clone().any(|(_, name)| name.trim().eq_ignore_ascii_case(pattern.trim()))
                }
            })
            .map(|(_, role)| role.as_str())
            .or(self.default_role.as_deref())
    }
}

fn normalize_dn(dn: &str) -> String {
    let mut out = String::with_capacity(dn.len());
    let mut pending_space = false;
    for c in dn.trim().chars() {
        if c == ' ' {
            pending_space = true;
            continue;
        }
        if pending_space && !matches!(c, ',' | '=') && !out.ends_with([',', '=']) {
            out.push(' ');
        }
        pending_space = false;
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> RoleRules {
        RoleRules::new(Some("student".into()))
            .rule("cn=admins,ou=groups,dc=example,dc=org", "administrator")
            .rule("Teachers", "teacher")
            .rule("students", "student")
    }

    #[test]
    fn first_matching_rule_wins_regardless_of_group_order() {
        let groups = [
            ("cn=teachers,ou=groups,dc=example,dc=org", "teachers"),
            ("CN=Admins, OU=Groups, DC=example, DC=org", "Admins"),
        ];
        assert_eq!(rules().resolve(groups), Some("administrator"));
        assert_eq!(rules().resolve([("cn=teachers,ou=x", "TEACHERS")]), Some("teacher"));
    }

    #[test]
    fn default_applies_when_nothing_matches() {
        assert_eq!(rules().resolve([("cn=guests,ou=x", "guests")]), Some("student"));
        assert_eq!(rules().resolve(std::iter::empty()), Some("student"));
        assert_eq!(RoleRules::new(None).rule("staff", "teacher").resolve([("cn=x", "x")]), None);
    }

    #[test]
    fn dn_patterns_match_dns_only_and_names_match_names_only() {
        let by_dn = RoleRules::new(None).rule("cn=admins,dc=org", "administrator");
        assert_eq!(by_dn.resolve([("cn=admins,dc=other", "admins")]), None);
        let by_name = RoleRules::new(None).rule("admins", "administrator");
        assert_eq!(by_name.resolve([("cn=admins,dc=other", "admins")]), Some("administrator"));
        // Plain group names from an OpenID provider: pass the name as both parts.
        let oidc_groups = ["staff", "teachers"];
        assert_eq!(rules().resolve(oidc_groups.iter().map(|g| (*g, *g))), Some("teacher"));
    }

    #[test]
    fn parses_rules_with_dn_patterns() {
        let parsed = RoleRules::parse(
            " cn=admins,ou=groups,dc=example,dc=org=admin; teachers=instructor ;",
            Some("participant".into()),
        )
        .unwrap();
        assert_eq!(
            parsed.entries().collect::<Vec<_>>(),
            [("cn=admins,ou=groups,dc=example,dc=org", "admin"), ("teachers", "instructor")]
        );
        assert_eq!(parsed.resolve([("cn=x", "Teachers")]), Some("instructor"));
        assert_eq!(parsed.resolve([("cn=x", "other")]), Some("participant"));
        assert!(RoleRules::parse("admins", None).is_err());
        assert!(RoleRules::parse("=admin", None).is_err());
        assert!(RoleRules::parse("admins=a b", None).is_err());
    }

    #[test]
    fn dn_normalization_keeps_inner_spaces() {
        assert_eq!(normalize_dn(" CN = Domain Users , DC=corp "), "cn=domain users,dc=corp");
    }
}
