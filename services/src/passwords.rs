//! Password hashing with argon2id (the crate's default parameters follow the
//! OWASP recommendation: 19 MiB, 2 iterations, 1 lane).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use domain::AppError;

use crate::ports::internal;

pub fn hash(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| internal("hashing a password", &e))
}

/// False for a wrong password and for a stored hash that cannot be parsed
/// (which is logged: it means the database holds something we did not write).
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(e) => {
            tracing::error!(error = %e, "stored password hash is not a valid PHC string");
            false
        }
    }
}

/// Spends the same time as a real verification, so that "no such user" and
/// "wrong password" cannot be told apart by timing.
pub fn verify_against_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if let Some(dummy) = DUMMY.get_or_init(|| hash("not-a-real-password-0").ok()) {
        let _ = verify(password, dummy);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_verify_and_differ_per_salt() {
        let a = super::hash("Tr1cky-Horse").unwrap();
        let b = super::hash("Tr1cky-Horse").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(super::verify("Tr1cky-Horse", &a));
        assert!(!super::verify("tr1cky-horse", &a));
        assert!(!super::verify("Tr1cky-Horse", "garbage"));
    }
}
