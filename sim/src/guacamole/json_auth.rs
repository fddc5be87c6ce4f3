//! The encrypted JSON authentication extension's side: base64 →
//! AES-128-CBC (zero IV) → 32-byte HMAC-SHA256 signature + JSON, verified with the
//! shared `json-secret-key`. Written from Guacamole's documentation, independently of
//! the connector.

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

#[derive(Debug, Deserialize)]
pub(crate) struct UserData {
    pub username: String,
    /// Milliseconds since the epoch.
    pub expires: Option<u64>,
}

/// The verified user data and its signature (the key of the used-data blacklist),
/// or `None` for anything that does not verify.
pub(crate) fn open(key_hex: &str, data: &str) -> Option<(UserData, Vec<u8>)> {
    let key: [u8; 16] = hex::decode(key_hex).ok()?.try_into().ok()?;
    let cipher = base64::engine::general_purpose::STANDARD.decode(data.trim()).ok()?;
    let plain = cbc::Decryptor::<aes::Aes128>::new(&key.into(), &[0u8; 16].into())
        .decrypt_padded_vec_mut::<Pkcs7>(&cipher)
        .ok()?;
    if plain.len() < 32 {
        return None;
    }
    let (signature, json) = plain.split_at(32);
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).ok()?;
    mac.update(json);
    mac.verify_slice(signature).ok()?;
    Some((serde_json::from_slice(json).ok()?, signature.to_vec()))
}
