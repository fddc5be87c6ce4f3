//! ID token validation: signature (provider keys), issuer, audience, nonce, and the
//! validity period with a tolerance for clock skew.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::{ClaimsVerificationError, ClientId, IssuerUrl, Nonce, SignatureVerificationError};
use serde_json::{Map, Value};

use crate::error::OidcError;

/// Asymmetric algorithms only: a token signed with the client secret (HS256) or unsigned
/// (`none`) is refused.
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// What an ID token must match.
pub(crate) struct Expectations<'a> {
    pub client_id: &'a ClientId,
    pub issuer: &'a IssuerUrl,
    pub nonce: &'a Nonce,
    pub clock_skew: Duration,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// Why a token was refused, and whether fresh provider keys could change the verdict.
pub(crate) struct Refusal {
    pub error: OidcError,
    pub keys_may_be_stale: bool,
}

/// Validates the token and returns the subject and all its claims (standard and
/// provider-specific) as JSON.
pub(crate) fn verify(
    token: &CoreIdToken,
    keys: &CoreJsonWebKeySet,
    expect: &Expectations<'_>,
) -> Result<(String, Map<String, Value>), Refusal> {
    let skew = chrono::Duration::from_std(expect.clock_skew).unwrap_or_else(|_| chrono::Duration::seconds(60));
    let now = expect.now;
    // exp is compared with this "now", so a token expired less than `skew` ago passes.
    let lenient_now = now - skew;
    let verifier =
        CoreIdTokenVerifier::new_public_client(expect.client_id.clone(), expect.issuer.clone(), keys.clone())
            .set_allowed_algs(ALLOWED_ALGS)
            .set_time_fn(move || lenient_now)
            .set_issue_time_verifier_fn(move |iat| {
                if iat > now + skew { Err(format!("ID token issued in the future ({iat}, now {now})")) } else { Ok(()) }
            });
    let claims = token.claims(&verifier, expect.nonce).map_err(refusal)?;
    let subject = claims.subject().to_string();
    let payload = payload(&token.to_string())
        .map_err(|message| Refusal { error: OidcError::InvalidIdToken(message), keys_may_be_stale: false })?;
    Ok((subject, payload))
}

fn refusal(error: ClaimsVerificationError) -> Refusal {
    let keys_may_be_stale = matches!(
        &error,
        ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey | SignatureVerificationError::CryptoError(_)
        )
    );
    let error = match error {
        ClaimsVerificationError::Expired(message) => OidcError::Expired(message),
        ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey) => {
            OidcError::InvalidIdToken("signed with a key the provider does not publish".into())
        }
        other => OidcError::InvalidIdToken(other.to_string()),
    };
    Refusal { error, keys_may_be_stale }
}

/// The JSON claims of a compact JWS. Only called after the signature has been verified,
/// so the payload is the one the provider signed.
fn payload(compact: &str) -> Result<Map<String, Value>, String> {
    let encoded = compact.split('.').nth(1).ok_or("ID token is not a compact JWS")?;
    let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|e| format!("ID token payload is not base64url: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("ID token payload is not a JSON object: {e}"))
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use chrono::{DateTime, Utc};
    use openidconnect::core::{CoreIdTokenClaims, CoreRsaPrivateSigningKey};
    use openidconnect::{
        Audience, EmptyAdditionalClaims, EndUserUsername, JsonWebKeyId, PrivateSigningKey, StandardClaims,
        SubjectIdentifier,
    };

    use super::*;

    const ISSUER: &str = "https://sso.example.org";
    const CLIENT: &str = "openvle";

    /// A fresh RSA key (PKCS#1 PEM) from the openssl CLI (generating one with the `rsa` crate takes
    /// seconds in a debug build).
    fn signing_key(kid: &str) -> CoreRsaPrivateSigningKey {
        let output = Command::new("openssl")
            .args(["genrsa", "-traditional", "2048"])
            .output()
            .expect("openssl CLI needed for this test: apt-get install openssl");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        CoreRsaPrivateSigningKey::from_pem(
            &String::from_utf8(output.stdout).unwrap(),
            Some(JsonWebKeyId::new(kid.into())),
        )
        .unwrap()
    }

    fn token(
        key: &CoreRsaPrivateSigningKey,
        issued: DateTime<Utc>,
        lifetime: i64,
        nonce: &str,
        aud: &str,
    ) -> CoreIdToken {
        let claims = CoreIdTokenClaims::new(
            IssuerUrl::new(ISSUER.into()).unwrap(),
            vec![Audience::new(aud.into())],
            issued + chrono::Duration::seconds(lifetime),
            issued,
            StandardClaims::new(SubjectIdentifier::new("user-1".into()))
                .set_preferred_username(Some(EndUserUsername::new("alice".into()))),
            EmptyAdditionalClaims {},
        )
        .set_nonce(Some(Nonce::new(nonce.into())));
        CoreIdToken::new(claims, key, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, None, None).unwrap()
    }

    fn check(token: &CoreIdToken, keys: &CoreJsonWebKeySet, now: DateTime<Utc>, skew: u64) -> Result<String, Refusal> {
        let (client_id, issuer, nonce) =
            (ClientId::new(CLIENT.into()), IssuerUrl::new(ISSUER.into()).unwrap(), Nonce::new("n-1".into()));
        let expect = Expectations {
            client_id: &client_id,
            issuer: &issuer,
            nonce: &nonce,
            clock_skew: Duration::from_secs(skew),
            now,
        };
        verify(token, keys, &expect).map(|(subject, claims)| {
            assert_eq!(claims["preferred_username"], "alice");
            subject
        })
    }

    fn error_of(outcome: Result<String, Refusal>) -> (OidcError, bool) {
        match outcome {
            Ok(subject) => panic!("accepted a bad token for {subject}"),
            Err(refusal) => (refusal.error, refusal.keys_may_be_stale),
        }
    }

    #[test]
    fn validity_period_with_clock_skew() {
        let key = signing_key("k1");
        let keys = CoreJsonWebKeySet::new(vec![key.as_verification_key()]);
        let issued = Utc::now();
        let token = token(&key, issued, 300, "n-1", CLIENT);

        assert_eq!(check(&token, &keys, issued + chrono::Duration::seconds(10), 60).ok().as_deref(), Some("user-1"));
        // Expired 30 s ago: within 60 s of skew, accepted; with no skew, refused.
        let late = issued + chrono::Duration::seconds(330);
        assert!(check(&token, &keys, late, 60).is_ok());
        assert!(matches!(error_of(check(&token, &keys, late, 0)), (OidcError::Expired(_), false)));
        // Expired 61 s ago: refused even with 60 s of skew.
        let too_late = issued + chrono::Duration::seconds(361);
        assert!(matches!(error_of(check(&token, &keys, too_late, 60)), (OidcError::Expired(_), false)));
        // Our clock 30 s behind the provider's: fine with skew, refused without.
        let early = issued - chrono::Duration::seconds(30);
        assert!(check(&token, &keys, early, 60).is_ok());
        assert!(matches!(error_of(check(&token, &keys, early, 0)), (OidcError::Expired(_), false)));
    }

    #[test]
    fn nonce_audience_and_issuer_must_match() {
        let key = signing_key("k1");
        let keys = CoreJsonWebKeySet::new(vec![key.as_verification_key()]);
        let now = Utc::now();
        let wrong_nonce = token(&key, now, 300, "n-2", CLIENT);
        assert!(
            matches!(error_of(check(&wrong_nonce, &keys, now, 60)), (OidcError::InvalidIdToken(m), false) if m.contains("nonce"))
        );
        let wrong_audience = token(&key, now, 300, "n-1", "another-app");
        assert!(matches!(error_of(check(&wrong_audience, &keys, now, 60)), (OidcError::InvalidIdToken(_), false)));

        let (client_id, nonce) = (ClientId::new(CLIENT.into()), Nonce::new("n-1".into()));
        let other_issuer = IssuerUrl::new("https://evil.example.org".into()).unwrap();
        let good = token(&key, now, 300, "n-1", CLIENT);
        let expect = Expectations {
            client_id: &client_id,
            issuer: &other_issuer,
            nonce: &nonce,
            clock_skew: Duration::from_secs(60),
            now,
        };
        assert!(matches!(verify(&good, &keys, &expect), Err(Refusal { error: OidcError::InvalidIdToken(_), .. })));
    }

    #[test]
    fn unknown_key_asks_for_fresh_keys() {
        let old = signing_key("old");
        let new = signing_key("new");
        let now = Utc::now();
        let token = token(&new, now, 300, "n-1", CLIENT);
        let stale = CoreJsonWebKeySet::new(vec![old.as_verification_key()]);
        assert!(matches!(error_of(check(&token, &stale, now, 60)), (OidcError::InvalidIdToken(_), true)));
        let fresh = CoreJsonWebKeySet::new(vec![old.as_verification_key(), new.as_verification_key()]);
        assert!(check(&token, &fresh, now, 60).is_ok());
    }
}
