//! Single sign-on links by Guacamole's encrypted JSON authentication
//! (`guacamole-auth-json`): `{"username", "expires", "connections"}` signed with
//! HMAC-SHA256 and encrypted with AES-128-CBC (zero IV) under the shared
//! `json-secret-key`, base64 in the `data` parameter.
//!
//! The assertion names only the user and an expiry a minute ahead; no connections
//! (their permissions come from the user's account in the database data source, which
//! Guacamole joins to the JSON-authenticated user of the same name), no password, no
//! session token. See ARCHITECTURE.md, "Guacamole single sign-on".

use aes::cipher::{BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use url::Url;

use crate::config::JsonSecretKey;

type Aes128CbcEnc = cbc::Encryptor<aes::Aes128>;

/// What a sign-in link asserts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignInAssertion {
    pub username: String,
    /// Milliseconds since the epoch; Guacamole refuses the data afterwards.
    pub expires_ms: u64,
}

impl SignInAssertion {
    /// The `data` value: base64(AES-128-CBC(HMAC-SHA256(json) || json)).
    pub fn seal(&self, key: &JsonSecretKey) -> String {
        let json = json!({ "username": self.username, "expires": self.expires_ms, "connections": {} }).to_string();
        // HMAC takes keys of any length, so a 16-byte key is never refused.
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&key.0) else {
            unreachable!("HMAC-SHA256 accepts any key length")
        };
        mac.update(json.as_bytes());
        let mut plain = mac.finalize().into_bytes().to_vec();
        plain.extend_from_slice(json.as_bytes());
        let cipher = Aes128CbcEnc::new(&key.0.into(), &[0u8; 16].into()).encrypt_padded_vec_mut::<Pkcs7>(&plain);
        base64::engine::general_purpose::STANDARD.encode(cipher)
    }
}

/// The web application's identifier of a connection (`#/client/<id>`):
/// base64 of `identifier NUL "c" NUL dataSource`.
pub fn client_identifier(connection: &str, data_source: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{connection}\0c\0{data_source}"))
}

/// The link into Guacamole's web application. The data travels in the fragment
/// (after `#`): browsers never send it to a server, so it reaches neither
/// Guacamole's nor a proxy's access log nor a Referer header.
pub(crate) fn sign_in_url(base: &Url, data: &str, client: Option<&str>) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(data.as_bytes()).collect();
    match client {
        Some(client) => format!("{base}#/client/{client}?data={encoded}"),
        None => format!("{base}#/?data={encoded}"),
    }
}

/// The same place without an assertion: Guacamole shows its sign-in page
/// and continues to the connection (the route in the fragment) afterwards.
pub(crate) fn login_url(base: &Url, client: Option<&str>) -> String {
    match client {
        Some(client) => format!("{base}#/client/{client}"),
        None => base.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use aes::cipher::BlockDecryptMut;

    use super::*;

    #[test]
    fn sealed_data_decrypts_to_signature_and_json() {
        let key = JsonSecretKey::from_hex("4c0b569e4c96df157eee1b65dd0e4d41").unwrap();
        let sealed = SignInAssertion { username: "alice".into(), expires_ms: 1_900_000_000_000 }.seal(&key);
        let cipher = base64::engine::general_purpose::STANDARD.decode(sealed).unwrap();
        let plain = cbc::Decryptor::<aes::Aes128>::new(&key.0.into(), &[0u8; 16].into())
            .decrypt_padded_vec_mut::<Pkcs7>(&cipher)
            .unwrap();
        let (signature, json) = plain.split_at(32);
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.0).unwrap();
        mac.update(json);
        mac.verify_slice(signature).unwrap();
        let value: serde_json::Value = serde_json::from_slice(json).unwrap();
        assert_eq!(value["username"], "alice");
        assert_eq!(value["expires"], 1_900_000_000_000u64);
    }

    #[test]
    fn client_identifier_matches_guacamoles_encoding() {
        // "1\0c\0mysql", as the web application writes it.
        assert_eq!(client_identifier("1", "mysql"), "MQBjAG15c3Fs");
        let base = Url::parse("https://g.example/guacamole/").unwrap();
        let url = sign_in_url(&base, "a+b/c=", Some("MQBjAG15c3Fs"));
        assert_eq!(url, "https://g.example/guacamole/#/client/MQBjAG15c3Fs?data=a%2Bb%2Fc%3D");
        assert_eq!(login_url(&base, Some("MQBjAG15c3Fs")), "https://g.example/guacamole/#/client/MQBjAG15c3Fs");
        assert_eq!(login_url(&base, None), "https://g.example/guacamole/");
    }
}
