//! Secrets stored in the database (the Proxmox token secret), encrypted with
//! ChaCha20-Poly1305 under the key from `OPENVLE_SECRET_KEY`, a fresh random
//! nonce per write. A leaked database alone does not reveal them; a changed
//! key makes them unreadable (they must be entered again).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

const VERSION: &str = "v1:";

/// A 32-byte key. Debug output never shows it.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("expected 64 hex characters (32 bytes), e.g. from `openssl rand -hex 32`")]
    BadKey,
    #[error("the stored secret cannot be decrypted with this key")]
    Unreadable,
}

impl SecretKey {
    pub fn from_bytes(bytes: [u8; 32]) -> SecretKey {
        SecretKey(bytes)
    }

    /// 64 hex characters.
    pub fn from_hex(hex_key: &str) -> Result<SecretKey, SecretError> {
        let bytes = hex::decode(hex_key.trim()).map_err(|_| SecretError::BadKey)?;
        <[u8; 32]>::try_from(bytes.as_slice()).map(SecretKey).map_err(|_| SecretError::BadKey)
    }

    fn key(&self) -> LessSafeKey {
        // A 32-byte key is always valid for ChaCha20-Poly1305.
        LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &self.0).unwrap_or_else(|_| unreachable!()))
    }

    /// Encrypts `plaintext`; `purpose` is bound to the ciphertext (a secret
    /// stored for one purpose does not decrypt as another).
    pub fn seal(&self, purpose: &str, plaintext: &str) -> String {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let mut data = plaintext.as_bytes().to_vec();
        self.key()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(purpose.as_bytes()),
                &mut data,
            )
            .unwrap_or_else(|_| unreachable!("sealing only fails for inputs over 256 GiB"));
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&data);
        format!("{VERSION}{}", STANDARD.encode(out))
    }

    pub fn open(&self, purpose: &str, sealed: &str) -> Result<String, SecretError> {
        let raw = sealed.strip_prefix(VERSION).ok_or(SecretError::Unreadable)?;
        let bytes = STANDARD.decode(raw).map_err(|_| SecretError::Unreadable)?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretError::Unreadable);
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretError::Unreadable)?;
        let mut data = data.to_vec();
        let plain = self
            .key()
            .open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut data)
            .map_err(|_| SecretError::Unreadable)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SecretError::Unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_fresh_nonces() {
        let key = SecretKey::from_bytes([7; 32]);
        let a = key.seal("pve", "token-secret");
        let b = key.seal("pve", "token-secret");
        assert_ne!(a, b, "every write has its own nonce");
        assert!(!a.contains("token-secret"));
        assert_eq!(key.open("pve", &a).unwrap(), "token-secret");
        assert_eq!(key.open("other", &a), Err(SecretError::Unreadable));
        assert_eq!(SecretKey::from_bytes([8; 32]).open("pve", &a), Err(SecretError::Unreadable));
        assert_eq!(key.open("pve", "v1:garbage"), Err(SecretError::Unreadable));
    }

    #[test]
    fn keys_are_64_hex_characters_and_never_printed() {
        let key = SecretKey::from_hex(&"ab".repeat(32)).unwrap();
        assert!(!format!("{key:?}").contains("ab"));
        assert_eq!(SecretKey::from_hex("abcd").unwrap_err(), SecretError::BadKey);
        assert_eq!(SecretKey::from_hex(&"zz".repeat(32)).unwrap_err(), SecretError::BadKey);
    }
}
