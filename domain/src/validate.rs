//! Validation of what people type. Each function returns the normalised
//! value or the [`Problem`] with the field it belongs to, so the same rules
//! run in the browser (instant feedback) and on the server (the authority).

use crate::error::{AppError, Problem};

pub const USERNAME_MAX: usize = 64;
pub const NAME_MAX: usize = 128;
pub const EMAIL_MAX: usize = 254;
pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 256;
pub const DESCRIPTION_MAX: usize = 2000;

fn invalid(field: &str, problem: Problem) -> AppError {
    AppError::invalid(field, problem)
}

/// Usernames are lowercase so that `Alice` and `alice` are one account on both
/// SQL dialects (MariaDB compares case-insensitively, SQLite does not).
pub fn username(raw: &str) -> Result<String, AppError> {
    let value = raw.trim().to_lowercase();
    let len = value.chars().count();
    if len == 0 {
        return Err(invalid("username", Problem::Required));
    }
    if len < 2 {
        return Err(invalid("username", Problem::TooShort { min: 2 }));
    }
    if len > USERNAME_MAX {
        return Err(invalid("username", Problem::TooLong { max: USERNAME_MAX }));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c);
    let starts_well = value.starts_with(|c: char| c.is_ascii_alphanumeric());
    if !starts_well || !value.chars().all(allowed) {
        return Err(invalid("username", Problem::Format { expected: "username".into() }));
    }
    Ok(value)
}

pub fn email(raw: &str) -> Result<String, AppError> {
    let value = raw.trim().to_lowercase();
    if value.is_empty() {
        return Err(invalid("email", Problem::Required));
    }
    if value.chars().count() > EMAIL_MAX {
        return Err(invalid("email", Problem::TooLong { max: EMAIL_MAX }));
    }
    let well_formed = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    };
    if !well_formed {
        return Err(invalid("email", Problem::Format { expected: "email".into() }));
    }
    Ok(value)
}

/// A short one-line text such as a person's or role's name.
pub fn line(field: &str, raw: &str, max: usize) -> Result<String, AppError> {
    let value = raw.trim().to_string();
    if value.is_empty() {
        return Err(invalid(field, Problem::Required));
    }
    if value.chars().count() > max {
        return Err(invalid(field, Problem::TooLong { max }));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(field, Problem::Format { expected: "single_line".into() }));
    }
    Ok(value)
}

/// Free text that may be empty (descriptions).
pub fn text(field: &str, raw: &str, max: usize) -> Result<String, AppError> {
    let value = raw.trim().to_string();
    if value.chars().count() > max {
        return Err(invalid(field, Problem::TooLong { max }));
    }
    Ok(value)
}

/// A slug such as a role key: lowercase letters, digits, `_` and `-`.
pub fn key(field: &str, raw: &str, max: usize) -> Result<String, AppError> {
    let value = raw.trim().to_string();
    if value.is_empty() {
        return Err(invalid(field, Problem::Required));
    }
    if value.len() > max {
        return Err(invalid(field, Problem::TooLong { max }));
    }
    let ok = value.starts_with(|c: char| c.is_ascii_lowercase())
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !ok {
        return Err(invalid(field, Problem::Format { expected: "key".into() }));
    }
    Ok(value)
}

/// Passwords people pick that any guesser tries first.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "password123",
    "123456789",
    "1234567890",
    "qwertyuiop",
    "iloveyou",
    "letmein123",
    "welcome123",
    "administrator",
    "passwort",
    "passwort123",
    "qwertz123",
    "abcdefghij",
    "openvle123",
    "changeme123",
];

/// At least [`PASSWORD_MIN`] characters, not a well-known password, not the
/// username, and either long (16+) or mixing three kinds of characters.
pub fn new_password(password: &str, username: &str) -> Result<(), AppError> {
    let field = "password";
    let len = password.chars().count();
    if len == 0 {
        return Err(invalid(field, Problem::Required));
    }
    if len < PASSWORD_MIN {
        return Err(invalid(field, Problem::TooShort { min: PASSWORD_MIN }));
    }
    if len > PASSWORD_MAX {
        return Err(invalid(field, Problem::TooLong { max: PASSWORD_MAX }));
    }
    let weak = |reason: &str| invalid(field, Problem::WeakPassword { reason: reason.into() });
    let lowered = password.to_lowercase();
    if COMMON_PASSWORDS.contains(&lowered.as_str()) {
        return Err(weak("common"));
    }
    if !username.is_empty() && lowered.contains(&username.to_lowercase()) {
        return Err(weak("contains_username"));
    }
    let kinds = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .into_iter()
    .filter(|&k| k)
    .count();
    if len < 16 && kinds < 3 {
        return Err(weak("variety"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(r: Result<impl std::fmt::Debug, AppError>) -> Problem {
        match r {
            Err(AppError::Invalid { problem, .. }) => problem,
            other => panic!("expected a validation problem, got {other:?}"),
        }
    }

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(username("  Alice.B ").unwrap(), "alice.b");
        assert_eq!(problem(username("")), Problem::Required);
        assert_eq!(problem(username("a")), Problem::TooShort { min: 2 });
        assert_eq!(problem(username(&"a".repeat(65))), Problem::TooLong { max: 64 });
        assert!(matches!(problem(username("al ice")), Problem::Format { .. }));
        assert!(matches!(problem(username("-alice")), Problem::Format { .. }));
    }

    #[test]
    fn emails_need_a_domain() {
        assert_eq!(email(" Bob@Example.org ").unwrap(), "bob@example.org");
        for bad in ["bob", "bob@", "@x.org", "bob@localhost", "b ob@x.org", "a@b@c.org"] {
            assert!(matches!(problem(email(bad)), Problem::Format { .. }), "{bad}");
        }
    }

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        assert_eq!(problem(new_password("short", "bob")), Problem::TooShort { min: 10 });
        assert_eq!(problem(new_password("Password123", "bob")), Problem::WeakPassword { reason: "common".into() });
        assert_eq!(
            problem(new_password("Bobby-the-1st", "bobby")),
            Problem::WeakPassword { reason: "contains_username".into() }
        );
        assert_eq!(problem(new_password("abcdefghijk", "x")), Problem::WeakPassword { reason: "variety".into() });
        assert!(new_password("Tr1cky-Horse", "bob").is_ok());
        assert!(new_password("correct horse battery staple", "bob").is_ok());
    }

    #[test]
    fn lines_refuse_control_characters_and_overlong_text() {
        assert_eq!(line("name", " Ada ", 10).unwrap(), "Ada");
        assert!(matches!(problem(line("name", "a\nb", 10)), Problem::Format { .. }));
        assert_eq!(problem(line("name", &"x".repeat(11), 10)), Problem::TooLong { max: 10 });
        assert!(key("key", "Admin", 10).is_err());
        assert_eq!(key("key", "lab_admin", 10).unwrap(), "lab_admin");
    }
}
