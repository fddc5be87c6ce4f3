//! Runtime settings: typed key/value records edited on the admin Settings page
//! (environment variables are for what must be known before start-up).

use serde::{Deserialize, Serialize};

use crate::error::{AppError, Problem};

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingType {
    String,
    Integer,
    Float,
    Boolean,
    Json,
}

impl SettingType {
    pub fn key(self) -> &'static str {
        match self {
            SettingType::String => "string",
            SettingType::Integer => "integer",
            SettingType::Float => "float",
            SettingType::Boolean => "boolean",
            SettingType::Json => "json",
        }
    }

    pub fn from_key(key: &str) -> Option<SettingType> {
        [SettingType::String, SettingType::Integer, SettingType::Float, SettingType::Boolean, SettingType::Json]
            .into_iter()
            .find(|t| t.key() == key)
    }
}

/// Who may read a setting. `Internal` settings are shown to admins but are read-only.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Admins,
    Authenticated,
    Internal,
    Public,
}

impl Visibility {
    pub fn key(self) -> &'static str {
        match self {
            Visibility::Admins => "admins",
            Visibility::Authenticated => "authenticated",
            Visibility::Internal => "internal",
            Visibility::Public => "public",
        }
    }

    pub fn from_key(key: &str) -> Option<Visibility> {
        [Visibility::Admins, Visibility::Authenticated, Visibility::Internal, Visibility::Public]
            .into_iter()
            .find(|v| v.key() == key)
    }
}

/// A setting the product knows about, with its seed value.
pub struct SettingDef {
    pub key: &'static str,
    pub setting_type: SettingType,
    pub default: &'static str,
    pub description: &'static str,
    pub visibility: Visibility,
    /// Inclusive bounds for integers.
    pub range: Option<(i64, i64)>,
}

pub const BRANDING_TITLE: &str = "branding.title";
pub const LOCAL_LOGIN_FOR_NON_ADMINS: &str = "auth.local_login_non_admins";
pub const SESSION_LIFETIME_MINUTES: &str = "auth.session_lifetime_minutes";
pub const ACTIVITY_RETENTION_DAYS: &str = "activities.retention_days";
pub const SITE_TIME_ZONE: &str = "site.time_zone";

pub const CATALOGUE: &[SettingDef] = &[
    SettingDef {
        key: BRANDING_TITLE,
        setting_type: SettingType::String,
        default: "OpenVLE",
        description: "Title shown in the header and browser tab.",
        visibility: Visibility::Public,
        range: None,
    },
    SettingDef {
        key: "contact.mail",
        setting_type: SettingType::String,
        default: "support@example.org",
        description: "Support address shown to users.",
        visibility: Visibility::Authenticated,
        range: None,
    },
    SettingDef {
        key: LOCAL_LOGIN_FOR_NON_ADMINS,
        setting_type: SettingType::Boolean,
        default: "true",
        description: "Allow users other than administrators to sign in with a local password.",
        visibility: Visibility::Admins,
        range: None,
    },
    SettingDef {
        key: SESSION_LIFETIME_MINUTES,
        setting_type: SettingType::Integer,
        default: "480",
        description: "How long a sign-in lasts without activity, in minutes.",
        visibility: Visibility::Admins,
        range: Some((5, 43_200)),
    },
    SettingDef {
        key: "events.transition_period_hours",
        setting_type: SettingType::Integer,
        default: "24",
        description: "Hours after an event's end before its VMs and connections are removed.",
        visibility: Visibility::Admins,
        range: Some((0, 8760)),
    },
    SettingDef {
        key: ACTIVITY_RETENTION_DAYS,
        setting_type: SettingType::Integer,
        default: "365",
        description: "Days activities are kept before they are purged.",
        visibility: Visibility::Admins,
        range: Some((1, 3650)),
    },
    // Quick links are records of their own (Settings → Notifications and quick links).
    SettingDef {
        key: SITE_TIME_ZONE,
        setting_type: SettingType::String,
        default: crate::zone::DEFAULT_ZONE,
        description: "IANA time zone (e.g. Europe/Berlin) for people who have not chosen their own.",
        visibility: Visibility::Authenticated,
        range: None,
    },
    SettingDef {
        key: "system.schema_seeded",
        setting_type: SettingType::Boolean,
        default: "true",
        description: "Set by the installer once default roles and settings exist.",
        visibility: Visibility::Internal,
        range: None,
    },
];

pub fn definition(key: &str) -> Option<&'static SettingDef> {
    CATALOGUE.iter().find(|d| d.key == key)
}

/// Checks a raw value against the setting's type and returns it normalised
/// (`True` → `true`, ` 42 ` → `42`, JSON re-serialised compactly).
pub fn normalise(setting_type: SettingType, range: Option<(i64, i64)>, raw: &str) -> Result<String, AppError> {
    let field = "value";
    let trimmed = raw.trim();
    let format = |expected: &str| AppError::invalid(field, Problem::Format { expected: expected.into() });
    match setting_type {
        SettingType::String => {
            if trimmed.chars().count() > 4000 {
                return Err(AppError::invalid(field, Problem::TooLong { max: 4000 }));
            }
            Ok(trimmed.to_string())
        }
        SettingType::Integer => {
            let n: i64 = trimmed.parse().map_err(|_| format("integer"))?;
            if let Some((min, max)) = range
                && !(min..=max).contains(&n)
            {
                return Err(AppError::invalid(field, Problem::OutOfRange { min, max }));
            }
            Ok(n.to_string())
        }
        SettingType::Float => {
            let f: f64 = trimmed.parse().map_err(|_| format("float"))?;
            if !f.is_finite() {
                return Err(format("float"));
            }
            Ok(f.to_string())
        }
        SettingType::Boolean => match trimmed.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok("true".into()),
            "false" | "0" | "no" | "off" => Ok("false".into()),
            _ => Err(format("boolean")),
        },
        SettingType::Json => {
            serde_json::from_str::<serde_json::Value>(trimmed).map(|v| v.to_string()).map_err(|_| format("json"))
        }
    }
}

/// A setting as the Settings page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingView {
    pub key: String,
    pub setting_type: SettingType,
    pub value: String,
    pub description: String,
    pub visibility: Visibility,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_by_type() {
        assert_eq!(normalise(SettingType::Integer, None, " 42 ").unwrap(), "42");
        assert!(normalise(SettingType::Integer, None, "4x").is_err());
        assert_eq!(
            normalise(SettingType::Integer, Some((1, 10)), "11"),
            Err(AppError::invalid("value", Problem::OutOfRange { min: 1, max: 10 }))
        );
        assert_eq!(normalise(SettingType::Boolean, None, "Yes").unwrap(), "true");
        assert!(normalise(SettingType::Boolean, None, "maybe").is_err());
        assert_eq!(normalise(SettingType::Json, None, "[ 1, 2 ]").unwrap(), "[1,2]");
        assert!(normalise(SettingType::Json, None, "[1,").is_err());
        assert!(normalise(SettingType::Float, None, "NaN").is_err());
        assert_eq!(normalise(SettingType::Float, None, "1.5").unwrap(), "1.5");
    }

    #[test]
    fn catalogue_defaults_are_valid() {
        for def in CATALOGUE {
            assert!(normalise(def.setting_type, def.range, def.default).is_ok(), "{}", def.key);
        }
    }
}
