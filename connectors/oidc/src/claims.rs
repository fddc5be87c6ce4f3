//! Mapping the provider's claims to an [`OidcIdentity`].

use std::fmt;

use serde_json::{Map, Value};

/// Who signed in, as the provider describes them.
#[derive(Clone, PartialEq, Eq)]
pub struct OidcIdentity {
    /// The provider's stable identifier (`sub`); link accounts by (issuer, subject).
    pub subject: String,
    /// From `OIDC_USERNAME_CLAIM`, or `sub` when the provider does not send that claim.
    pub username: String,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// From `OIDC_GROUPS_CLAIM`; empty when absent.
    pub groups: Vec<String>,
    /// The raw ID token, kept for [`crate::OidcClient::logout_url`]'s `id_token_hint`.
    /// A bearer credential: store it server-side only.
    pub id_token: String,
}

impl fmt::Debug for OidcIdentity {
    /// Hand-written so the ID token never reaches a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcIdentity")
            .field("subject", &self.subject)
            .field("username", &self.username)
            .field("email", &self.email)
            .field("email_verified", &self.email_verified)
            .field("name", &self.name)
            .field("given_name", &self.given_name)
            .field("family_name", &self.family_name)
            .field("groups", &self.groups)
            .field("id_token", &"<redacted>")
            .finish()
    }
}

/// The claims of the ID token, completed by the userinfo response. The ID token wins
/// where both have a claim: it is signed.
pub(crate) struct Claims {
    sources: Vec<Map<String, Value>>,
}

impl Claims {
    pub fn new(id_token_claims: Map<String, Value>) -> Claims {
        Claims { sources: vec![id_token_claims] }
    }

    pub fn add_userinfo(&mut self, userinfo: Map<String, Value>) {
        self.sources.push(userinfo);
    }

    /// A claim by name; a name with dots that is not itself a claim walks into nested
    /// objects (`realm_access.roles`).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.sources.iter().find_map(|claims| lookup(claims, name)).filter(|v| !v.is_null())
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn string(&self, name: &str) -> Option<String> {
        match self.get(name)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// An array of strings, or a single string as a one-element list.
    pub fn strings(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// Some providers send booleans as strings (`"true"`).
    pub fn boolean(&self, name: &str) -> Option<bool> {
        match self.get(name)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub fn into_identity(
        self,
        subject: String,
        username_claim: &str,
        groups_claim: &str,
        id_token: String,
    ) -> OidcIdentity {
        OidcIdentity {
            username: self.string(username_claim).unwrap_or_else(|| subject.clone()),
            email: self.string("email"),
            email_verified: self.boolean("email_verified"),
            name: self.string("name"),
            given_name: self.string("given_name"),
            family_name: self.string("family_name"),
            groups: self.strings(groups_claim),
            subject,
            id_token,
        }
    }
}

fn lookup<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(name) {
        return Some(value);
    }
    let mut parts = name.split('.');
    let mut value = claims.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn id_token_wins_and_userinfo_completes() {
        let mut all = Claims::new(claims(json!({"sub": "u1", "email": "signed@example.org"})));
        all.add_userinfo(claims(json!({
            "sub": "u1", "email": "other@example.org", "preferred_username": "alice",
            "name": "Alice Example", "email_verified": "true", "groups": ["admins", "teachers", 7]
        })));
        let identity = all.into_identity("u1".into(), "preferred_username", "groups", "tok".into());
        assert_eq!(identity.username, "alice");
        assert_eq!(identity.email.as_deref(), Some("signed@example.org"));
        assert_eq!(identity.email_verified, Some(true));
        assert_eq!(identity.name.as_deref(), Some("Alice Example"));
        assert_eq!(identity.groups, ["admins", "teachers"]);
    }

    #[test]
    fn username_falls_back_to_sub() {
        let identity = Claims::new(claims(json!({"sub": "248289761001", "preferred_username": "  "}))).into_identity(
            "248289761001".into(),
            "preferred_username",
            "groups",
            "tok".into(),
        );
        assert_eq!(identity.username, "248289761001");
        assert!(identity.groups.is_empty());
    }

    #[test]
    fn dotted_paths_and_single_string_groups() {
        let all = Claims::new(claims(json!({
            "sub": "x", "realm_access": {"roles": ["staff"]}, "dept": "physics", "employee.id": 42
        })));
        assert_eq!(all.strings("realm_access.roles"), ["staff"]);
        assert_eq!(all.strings("dept"), ["physics"]);
        assert_eq!(all.string("employee.id").as_deref(), Some("42"));
        assert!(!all.has("realm_access.missing"));
    }

    #[test]
    fn debug_hides_the_id_token() {
        let identity = Claims::new(claims(json!({"sub": "x"}))).into_identity(
            "x".into(),
            "preferred_username",
            "groups",
            "eyJ.secret.sig".into(),
        );
        let shown = format!("{identity:?}");
        assert!(!shown.contains("eyJ.secret.sig") && shown.contains("<redacted>"), "{shown}");
    }
}
