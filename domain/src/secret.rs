//! Text that must never be shown: passwords typed into forms, tokens kept on the server.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A secret string: (de)serialises as the plain string (forms, storage), but its Debug
/// output never shows it, so a derived Debug on a struct holding one (server-function
/// arguments, records) cannot leak it into logs.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(pub String);

impl SecretText {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "SecretText(<empty>)" } else { "SecretText(<redacted>)" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret_but_serde_keeps_it() {
        let text = SecretText("s3cr3t-value".into());
        assert!(!format!("{text:?}").contains("s3cr3t"));
        assert_eq!(serde_json::to_string(&text).unwrap(), "\"s3cr3t-value\"");
        assert_eq!(format!("{:?}", SecretText::default()), "SecretText(<empty>)");
    }
}
