//! What can go wrong with single sign-on, in the terms a caller acts on.
//!
//! `TamperedState`, `CodeRejected`, `InvalidIdToken` and `Expired` end one sign-in attempt
//! (show "try again"); the others are configuration or availability problems for the
//! administrator, and their messages name what to check.

/// Everything [`crate::OidcClient`] can fail with.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// No connection or no answer within the timeout (includes TLS failures: the message
    /// carries the cause).
    #[error("OpenID provider unreachable at {url}: {message}")]
    Unreachable { url: String, message: String },
    /// The discovery document names another issuer than `OIDC_ISSUER`. They must be
    /// identical, trailing slash included (OpenID Connect Discovery §4.3).
    #[error(
        "OIDC_ISSUER is {configured:?} but the provider calls itself {discovered:?}; set OIDC_ISSUER to exactly the latter"
    )]
    WrongIssuer { configured: String, discovered: String },
    /// The discovery document or the key set is missing, malformed or unusable.
    #[error("bad OpenID provider metadata: {0}")]
    BadDiscovery(String),
    /// The `state` returned to the callback is not the one this login started with:
    /// a forged or mixed-up callback.
    #[error("the sign-in response does not belong to this sign-in attempt (state mismatch)")]
    TamperedState,
    /// The provider refused the authorization code: invalid, expired, already used, or
    /// the PKCE verifier does not match.
    #[error("the provider rejected the authorization code: {0}")]
    CodeRejected(String),
    /// The provider refused our client credentials (`OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET`).
    #[error("the provider rejected the client credentials ({0}): check OIDC_CLIENT_ID and OIDC_CLIENT_SECRET")]
    ClientRejected(String),
    /// The ID token failed validation (signature, issuer, audience, nonce, algorithm).
    #[error("invalid ID token: {0}")]
    InvalidIdToken(String),
    /// The ID token has expired or was issued in the future (beyond `OIDC_CLOCK_SKEW_SECS`).
    #[error("ID token outside its validity period: {0}; check the clocks or OIDC_CLOCK_SKEW_SECS")]
    Expired(String),
    /// A setting cannot be used as it is (e.g. an unreadable `OIDC_CA_FILE`).
    #[error("OpenID Connect misconfigured: {0}")]
    Misconfigured(String),
    /// Any other answer that does not follow the protocol.
    #[error("OpenID Connect protocol error: {0}")]
    Protocol(String),
}

/// "outer: inner: innermost" — reqwest hides the useful part (refused, TLS, DNS) in sources.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}
