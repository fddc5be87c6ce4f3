//! The connector against a real OpenID provider (npm `oidc-provider`, see `support`): the
//! whole authorization-code flow with PKCE driven over HTTP, claim mapping, and every way
//! a login can be refused, plus discovery failures and key rotation.

mod support;

use std::time::{Duration, Instant};

use oidc_connector::{OidcClient, OidcError, vars};
use support::{POST_LOGOUT, Provider, browser_login};

#[tokio::test]
async fn full_login_maps_claims_and_groups() {
    let provider = Provider::start().await;
    let client = OidcClient::discover(provider.config(&[])).await.unwrap();
    let start = client.begin_login();

    let url = &start.authorize_url;
    let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param("state").as_deref(), Some(start.pending.state.as_str()));
    assert_eq!(param("nonce").as_deref(), Some(start.pending.nonce.as_str()));
    assert_eq!(param("scope").as_deref(), Some("openid email profile"));
    assert!(!url.as_str().contains(&start.pending.pkce_verifier), "the PKCE verifier must not leave the server");
    let other = client.begin_login();
    assert_ne!(other.pending.state, start.pending.state);
    assert_ne!(other.pending.nonce, start.pending.nonce);

    let callback = browser_login(&start.authorize_url, "alice").await;
    assert_eq!(callback.state, start.pending.state);
    let alice = client.finish_login(&callback.code, &callback.state, &start.pending).await.unwrap();
    assert_eq!(alice.subject, "alice");
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.email.as_deref(), Some("alice@example.org"));
    assert_eq!(alice.email_verified, Some(true));
    assert_eq!(alice.name.as_deref(), Some("Alice Example"));
    assert_eq!(alice.given_name.as_deref(), Some("Alice"));
    assert_eq!(alice.family_name.as_deref(), Some("Example"));
    assert_eq!(alice.groups, ["admins", "teachers"]);
    assert_eq!(alice.id_token.split('.').count(), 3);

    let logout = client.logout_url(&alice.id_token, Some(POST_LOGOUT)).unwrap();
    assert!(logout.as_str().starts_with(&format!("{}/session/end?", provider.issuer())), "{logout}");
    assert!(logout.query_pairs().any(|(k, v)| k == "id_token_hint" && v == alice.id_token));
    assert!(logout.query_pairs().any(|(k, v)| k == "post_logout_redirect_uri" && v == POST_LOGOUT));
    let no_logout = OidcClient::discover(provider.config(&[(vars::LOGOUT, "False")])).await.unwrap();
    assert_eq!(no_logout.logout_url(&alice.id_token, None), None);
}

#[tokio::test]
async fn custom_username_claim_and_missing_groups() {
    let provider = Provider::start().await;
    let config = provider.config(&[(vars::USERNAME_CLAIM, "email"), (vars::GROUPS_CLAIM, "roles")]);
    let client = OidcClient::discover(config).await.unwrap();
    let start = client.begin_login();
    let callback = browser_login(&start.authorize_url, "bob").await;
    let bob = client.finish_login(&callback.code, &callback.state, &start.pending).await.unwrap();
    assert_eq!(bob.username, "bob@example.org");
    assert!(bob.groups.is_empty());
}

#[tokio::test]
async fn tampered_state_is_refused_before_the_code_is_used() {
    let provider = Provider::start().await;
    let client = OidcClient::discover(provider.config(&[])).await.unwrap();
    let start = client.begin_login();
    let callback = browser_login(&start.authorize_url, "alice").await;
    let err = client.finish_login(&callback.code, "forged-state", &start.pending).await.unwrap_err();
    assert!(matches!(err, OidcError::TamperedState), "{err:?}");
    // Refused locally, so the code is still good for the real callback.
    assert!(client.finish_login(&callback.code, &callback.state, &start.pending).await.is_ok());
}

#[tokio::test]
async fn replayed_code_is_rejected() {
    let provider = Provider::start().await;
    let client = OidcClient::discover(provider.config(&[])).await.unwrap();
    let start = client.begin_login();
    let callback = browser_login(&start.authorize_url, "alice").await;
    client.finish_login(&callback.code, &callback.state, &start.pending).await.unwrap();
    let err = client.finish_login(&callback.code, &callback.state, &start.pending).await.unwrap_err();
    assert!(matches!(err, OidcError::CodeRejected(_)), "{err:?}");
    let err = client.finish_login("made-up-code", &callback.state, &start.pending).await.unwrap_err();
    assert!(matches!(err, OidcError::CodeRejected(_)), "{err:?}");
}

#[tokio::test]
async fn wrong_pkce_verifier_or_nonce_is_refused() {
    let provider = Provider::start().await;
    let client = OidcClient::discover(provider.config(&[])).await.unwrap();

    let start = client.begin_login();
    let callback = browser_login(&start.authorize_url, "alice").await;
    let mut pending = start.pending.clone();
    pending.pkce_verifier = client.begin_login().pending.pkce_verifier;
    let err = client.finish_login(&callback.code, &callback.state, &pending).await.unwrap_err();
    assert!(matches!(err, OidcError::CodeRejected(_)), "{err:?}");

    let start = client.begin_login();
    let callback = browser_login(&start.authorize_url, "alice").await;
    let mut pending = start.pending.clone();
    pending.nonce = "another-login".into();
    let err = client.finish_login(&callback.code, &callback.state, &pending).await.unwrap_err();
    assert!(matches!(&err, OidcError::InvalidIdToken(m) if m.contains("nonce")), "{err:?}");
}

#[tokio::test]
async fn wrong_client_secret_names_the_settings() {
    let provider = Provider::start().await;
    let client = OidcClient::discover(provider.config(&[(vars::CLIENT_SECRET, "not-the-secret")])).await.unwrap();
    let start = client.begin_login();
    let callback = browser_login(&start.authorize_url, "alice").await;
    let err = client.finish_login(&callback.code, &callback.state, &start.pending).await.unwrap_err();
    assert!(matches!(err, OidcError::ClientRejected(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(vars::CLIENT_SECRET) && !text.contains("not-the-secret"), "{text}");
}

#[tokio::test]
async fn wrong_issuer_says_both() {
    let provider = Provider::start().await;
    let configured = format!("http://localhost:{}", provider.port);
    let err = OidcClient::discover(provider.config(&[(vars::ISSUER, &configured)])).await.unwrap_err();
    match &err {
        OidcError::WrongIssuer { configured: c, discovered } => {
            assert_eq!(c, &configured);
            assert_eq!(discovered, &provider.issuer());
        }
        other => panic!("expected WrongIssuer, got {other:?}"),
    }
    assert!(err.to_string().contains(vars::ISSUER));
    // A trailing slash is a different issuer, too.
    let slash = format!("{}/", provider.issuer());
    let err = OidcClient::discover(provider.config(&[(vars::ISSUER, &slash)])).await.unwrap_err();
    assert!(matches!(err, OidcError::WrongIssuer { .. }), "{err:?}");
}

#[tokio::test]
async fn unreachable_issuer_fails_fast() {
    support::install_crypto_provider();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let issuer = format!("http://127.0.0.1:{port}");
    let config = oidc_connector::OidcConfig::from_lookup(|var| {
        match var {
            vars::ENABLED => Some("True"),
            vars::ISSUER => Some(issuer.as_str()),
            vars::CLIENT_ID => Some("x"),
            vars::REDIRECT_URL => Some(support::REDIRECT_URI),
            vars::TIMEOUT_SECS => Some("2"),
            _ => None,
        }
        .map(str::to_owned)
    })
    .unwrap()
    .unwrap();
    let started = Instant::now();
    let err = OidcClient::test_configuration(config).await.unwrap_err();
    assert!(matches!(&err, OidcError::Unreachable { url, .. } if url.contains(&issuer)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn key_rotation_refetches_the_key_set() {
    let mut provider = Provider::start().await;
    let client = OidcClient::discover(provider.config(&[])).await.unwrap();
    let keys_before = client.summary().signing_key_ids;

    provider.restart().await;
    let rotated = OidcClient::test_configuration(provider.config(&[])).await.unwrap();
    assert_ne!(rotated.signing_key_ids, keys_before, "the restarted provider should sign with a new key");

    // The client discovered before the rotation only knows the old key.
    let start = client.begin_login();
    let callback = browser_login(&start.authorize_url, "bob").await;
    let bob = client.finish_login(&callback.code, &callback.state, &start.pending).await.unwrap();
    assert_eq!(bob.groups, ["students"]);
    assert_eq!(client.summary().signing_key_ids, rotated.signing_key_ids);
}

#[tokio::test]
async fn test_configuration_summarizes_the_provider() {
    let provider = Provider::start().await;
    let summary = OidcClient::test_configuration(provider.config(&[(vars::SCOPES, "openid email profile offline_x")]))
        .await
        .unwrap();
    assert_eq!(summary.issuer, provider.issuer());
    assert_eq!(summary.token_endpoint, format!("{}/token", provider.issuer()));
    assert_eq!(summary.userinfo_endpoint, Some(format!("{}/me", provider.issuer())));
    assert_eq!(summary.end_session_endpoint, Some(format!("{}/session/end", provider.issuer())));
    assert_eq!(summary.signing_key_ids.len(), 1);
    assert!(summary.warnings.iter().any(|w| w.contains("offline_x")), "{:?}", summary.warnings);
    assert!(!summary.warnings.iter().any(|w| w.contains("PKCE")), "{:?}", summary.warnings);
}
