//! The relying party: discovery, the authorization-code flow with PKCE, and logout.

use std::fmt;
use std::sync::{Arc, RwLock};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreClientAuthMethod, CoreErrorResponseType, CoreJsonWebKeySet,
};
use openidconnect::url::Url;
use openidconnect::{
    AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    JsonWebKey, JsonWebKeySet, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    ProviderMetadataWithLogout, RedirectUrl, RequestTokenError, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::claims::{Claims, OidcIdentity};
use crate::config::{OidcConfig, vars};
use crate::error::{OidcError, chain};
use crate::http::{HttpClient, HttpError};
use crate::token::{self, Expectations};

type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// A client for one provider, after discovery. Share it (`Arc`) between requests.
pub struct OidcClient {
    config: OidcConfig,
    http: HttpClient,
    metadata: ProviderMetadataWithLogout,
    /// PKCE methods the provider announces (not part of the library's metadata type).
    pkce_methods: Vec<String>,
    /// Replaced when a token is signed with a key we do not know (key rotation).
    keys: RwLock<Arc<CoreJsonWebKeySet>>,
}

impl fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcClient").field("config", &self.config).finish_non_exhaustive()
    }
}

/// What [`OidcClient::begin_login`] produces: send the browser to `authorize_url`, keep
/// `pending` on the server (in the session) until the callback.
#[derive(Debug, Clone)]
pub struct LoginStart {
    pub authorize_url: Url,
    pub pending: PendingLogin,
}

/// The secrets of one login attempt. They must stay server-side: `state` is the only one
/// the provider echoes back; the nonce comes back inside the signed ID token, and the
/// PKCE verifier proves to the token endpoint that we started this login.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PendingLogin { <redacted> }")
    }
}

/// The result of the admin "Test" action: what the provider announced, and warnings about
/// settings that will not work with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSummary {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: Option<String>,
    pub end_session_endpoint: Option<String>,
    pub signing_key_ids: Vec<String>,
    pub warnings: Vec<String>,
}

impl OidcClient {
    /// Fetches the discovery document and the signing keys, checking that the provider
    /// is the configured issuer.
    pub async fn discover(config: OidcConfig) -> Result<OidcClient, OidcError> {
        let http = HttpClient::new(&config)?;
        let url = format!("{}/.well-known/openid-configuration", config.issuer.trim_end_matches('/'));
        let raw = get_json(&http, &url, None).await?;
        let discovered = raw.get("issuer").and_then(Value::as_str).unwrap_or_default();
        if discovered != config.issuer {
            return Err(OidcError::WrongIssuer {
                configured: config.issuer.clone(),
                discovered: discovered.to_owned(),
            });
        }
        let pkce_methods = raw
            .get("code_challenge_methods_supported")
            .and_then(Value::as_array)
            .map(|methods| methods.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        let metadata: ProviderMetadataWithLogout =
            serde_json::from_value(Value::Object(raw)).map_err(|e| OidcError::BadDiscovery(format!("{url}: {e}")))?;
        if metadata.token_endpoint().is_none() {
            return Err(OidcError::BadDiscovery(format!("{url} names no token_endpoint")));
        }
        let keys = fetch_keys(&http, &metadata).await?;
        Ok(OidcClient { config, http, metadata, pkce_methods, keys: RwLock::new(Arc::new(keys)) })
    }

    /// For the admin "Test" action: discovery and key fetch with these settings, and
    /// what the provider offers.
    pub async fn test_configuration(config: OidcConfig) -> Result<ProviderSummary, OidcError> {
        Ok(OidcClient::discover(config).await?.summary())
    }

    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// What the provider offers, with warnings about settings that do not fit it.
    pub fn summary(&self) -> ProviderSummary {
        let m = &self.metadata;
        let mut warnings = Vec::new();
        if let Some(supported) = m.scopes_supported() {
            let unknown: Vec<&str> = self
                .config
                .scopes
                .iter()
                .filter(|s| !supported.iter().any(|known| known.as_str() == s.as_str()))
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                warnings.push(format!("{}: the provider does not list {}", vars::SCOPES, unknown.join(", ")));
            }
        }
        if !self.pkce_methods.iter().any(|m| m == "S256") {
            warnings.push("the provider does not announce PKCE S256; sign-in may still work".into());
        }
        if self.config.logout && self.end_session_endpoint().is_none() {
            warnings.push(format!("{} is on but the provider has no end_session_endpoint", vars::LOGOUT));
        }
        ProviderSummary {
            issuer: m.issuer().to_string(),
            authorization_endpoint: m.authorization_endpoint().to_string(),
            token_endpoint: m.token_endpoint().map(|u| u.to_string()).unwrap_or_default(),
            userinfo_endpoint: m.userinfo_endpoint().map(|u| u.to_string()),
            end_session_endpoint: self.end_session_endpoint().map(|u| u.to_string()),
            signing_key_ids: self
                .current_keys()
                .keys()
                .iter()
                .filter_map(|k| k.key_id())
                .map(|k| k.to_string())
                .collect(),
            warnings,
        }
    }

    /// Starts a login: a random `state` and `nonce` and a PKCE S256 challenge.
    pub fn begin_login(&self) -> LoginStart {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let scopes = self.config.scopes.iter().filter(|s| *s != "openid").map(|s| Scope::new(s.clone()));
        let (authorize_url, state, nonce) = self
            .client()
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scopes(scopes)
            .set_pkce_challenge(challenge)
            .url();
        LoginStart {
            authorize_url,
            pending: PendingLogin {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
            },
        }
    }

    /// Completes a login from the callback's `code` and `state` and what
    /// [`begin_login`](Self::begin_login) stored: checks the state, redeems the code,
    /// validates the ID token (re-fetching the provider's keys once if it is signed with
    /// an unknown key) and completes the claims from userinfo when the token lacks some.
    pub async fn finish_login(
        &self,
        code: &str,
        returned_state: &str,
        pending: &PendingLogin,
    ) -> Result<OidcIdentity, OidcError> {
        if !constant_time_eq(returned_state.as_bytes(), pending.state.as_bytes()) {
            return Err(OidcError::TamperedState);
        }
        let client = self.client();
        let token_url = self.metadata.token_endpoint().map(|u| u.to_string()).unwrap_or_default();
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::BadDiscovery(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| token_error(e, &token_url))?;
        let id_token = response.id_token().ok_or_else(|| {
            OidcError::Protocol(format!("the token response has no ID token; is openid in {}?", vars::SCOPES))
        })?;

        let client_id = ClientId::new(self.config.client_id.clone());
        let nonce = Nonce::new(pending.nonce.clone());
        let expect = Expectations {
            client_id: &client_id,
            issuer: self.metadata.issuer(),
            nonce: &nonce,
            clock_skew: self.config.clock_skew,
            now: chrono::Utc::now(),
        };
        let (subject, id_claims) = match token::verify(id_token, &self.current_keys(), &expect) {
            Ok(verified) => verified,
            Err(refusal) if refusal.keys_may_be_stale => {
                tracing::info!(issuer = %self.config.issuer, "ID token signed with an unknown key; re-fetching the key set");
                let keys = self.refresh_keys().await?;
                token::verify(id_token, &keys, &expect).map_err(|refusal| refusal.error)?
            }
            Err(refusal) => return Err(refusal.error),
        };

        let mut claims = Claims::new(id_claims);
        let wanted = [self.config.username_claim.as_str(), "email", "name", self.config.groups_claim.as_str()];
        if let Some(userinfo_url) = self.metadata.userinfo_endpoint()
            && wanted.iter().any(|claim| !claims.has(claim))
        {
            let userinfo =
                get_json(&self.http, userinfo_url.url().as_str(), Some(response.access_token().secret())).await?;
            if userinfo.get("sub").and_then(Value::as_str) != Some(subject.as_str()) {
                return Err(OidcError::Protocol("the userinfo response is about another subject".into()));
            }
            claims.add_userinfo(userinfo);
        }
        Ok(claims.into_identity(subject, &self.config.username_claim, &self.config.groups_claim, id_token.to_string()))
    }

    /// Where to send the browser to sign out at the provider too (RP-initiated logout),
    /// or `None` when `OIDC_LOGOUT` is off or the provider offers no end-session endpoint.
    /// `post_logout_redirect` must be registered at the provider.
    pub fn logout_url(&self, id_token_hint: &str, post_logout_redirect: Option<&str>) -> Option<Url> {
        if !self.config.logout {
            return None;
        }
        let mut url = self.end_session_endpoint()?.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("id_token_hint", id_token_hint);
            query.append_pair("client_id", &self.config.client_id);
            if let Some(redirect) = post_logout_redirect {
                query.append_pair("post_logout_redirect_uri", redirect);
            }
        }
        Some(url)
    }

    fn end_session_endpoint(&self) -> Option<&Url> {
        self.metadata.additional_metadata().end_session_endpoint.as_ref().map(|u| u.url())
    }

    fn client(&self) -> Client {
        let metadata = self.metadata.clone().set_jwks(JsonWebKeySet::new(Vec::new()));
        let secret = self.config.client_secret.clone().map(ClientSecret::new);
        let mut client =
            CoreClient::from_provider_metadata(metadata, ClientId::new(self.config.client_id.clone()), secret)
                .set_redirect_uri(RedirectUrl::from_url(self.config.redirect_url.clone()));
        // client_secret_basic is the default (and what providers assume when they do not
        // say); switch to the form body only for providers that support just that.
        if let Some(methods) = self.metadata.token_endpoint_auth_methods_supported()
            && !methods.contains(&CoreClientAuthMethod::ClientSecretBasic)
            && methods.contains(&CoreClientAuthMethod::ClientSecretPost)
        {
            client = client.set_auth_type(AuthType::RequestBody);
        }
        client
    }

    fn current_keys(&self) -> Arc<CoreJsonWebKeySet> {
        self.keys.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    async fn refresh_keys(&self) -> Result<Arc<CoreJsonWebKeySet>, OidcError> {
        let keys = Arc::new(fetch_keys(&self.http, &self.metadata).await?);
        *self.keys.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = keys.clone();
        Ok(keys)
    }
}

async fn fetch_keys(http: &HttpClient, metadata: &ProviderMetadataWithLogout) -> Result<CoreJsonWebKeySet, OidcError> {
    let url = metadata.jwks_uri().url().as_str();
    let raw = get_json(http, url, None).await?;
    let keys: CoreJsonWebKeySet = serde_json::from_value(Value::Object(raw))
        .map_err(|e| OidcError::BadDiscovery(format!("key set at {url}: {e}")))?;
    if keys.keys().is_empty() {
        return Err(OidcError::BadDiscovery(format!("the key set at {url} has no keys")));
    }
    Ok(keys)
}

/// GETs a JSON object; transport failures are `Unreachable`, anything else that is not a
/// 200 JSON object is reported with the URL and status.
async fn get_json(http: &HttpClient, url: &str, bearer: Option<&str>) -> Result<Map<String, Value>, OidcError> {
    let response = http.get(url, bearer).await.map_err(|e| unreachable(url, &e))?;
    let status = response.status();
    let bad = |what: String| {
        if bearer.is_some() {
            OidcError::Protocol(format!("userinfo at {url}: {what}"))
        } else {
            OidcError::BadDiscovery(format!("{url}: {what}; check {}", vars::ISSUER))
        }
    };
    if !status.is_success() {
        return Err(bad(format!("answered HTTP {status}")));
    }
    let content_type = response
        .headers()
        .get(openidconnect::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/jwt") {
        return Err(bad("signed (JWT) responses are not supported; ask for plain JSON".into()));
    }
    match serde_json::from_slice::<Value>(response.body()) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(bad("not a JSON object".into())),
        Err(e) => Err(bad(format!("not JSON ({e})"))),
    }
}

fn unreachable(url: &str, error: &HttpError) -> OidcError {
    OidcError::Unreachable { url: url.to_owned(), message: chain(error) }
}

type TokenRequestError = RequestTokenError<HttpError, openidconnect::StandardErrorResponse<CoreErrorResponseType>>;

fn token_error(error: TokenRequestError, token_url: &str) -> OidcError {
    match error {
        RequestTokenError::ServerResponse(response) => {
            let detail = match response.error_description() {
                Some(description) => format!("{}: {description}", response.error()),
                None => response.error().to_string(),
            };
            match response.error() {
                CoreErrorResponseType::InvalidGrant => OidcError::CodeRejected(detail),
                CoreErrorResponseType::InvalidClient | CoreErrorResponseType::UnauthorizedClient => {
                    OidcError::ClientRejected(detail)
                }
                _ => OidcError::Protocol(format!("token endpoint: {detail}")),
            }
        }
        RequestTokenError::Request(e) => unreachable(token_url, &e),
        RequestTokenError::Parse(e, _) => OidcError::Protocol(format!("token response not understood: {e}")),
        RequestTokenError::Other(message) => OidcError::Protocol(format!("token endpoint: {message}")),
    }
}

/// Compares without an early exit, so the time taken does not tell how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn pending_login_debug_hides_secrets() {
        let pending = PendingLogin { state: "st-123".into(), nonce: "no-456".into(), pkce_verifier: "ver-789".into() };
        let shown = format!("{pending:?}");
        assert!(!shown.contains("st-123") && !shown.contains("no-456") && !shown.contains("ver-789"), "{shown}");
    }
}
