//! The HTTP client for talking to the provider: reqwest over rustls with the `ring`
//! provider, explicit timeouts, and no redirects (a token endpoint that redirects would
//! make us send the code and client secret elsewhere).

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};
use rustls_platform_verifier::BuilderVerifierExt;

use crate::config::{OidcConfig, vars};
use crate::error::{OidcError, chain};

/// A request to the provider failed below HTTP (connect, TLS, timeout, body).
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    #[error("{}", chain(.0))]
    Transport(#[source] reqwest::Error),
    #[error("malformed HTTP message: {0}")]
    Malformed(String),
}

#[derive(Debug, Clone)]
pub(crate) struct HttpClient {
    inner: reqwest::Client,
}

impl HttpClient {
    pub fn new(config: &OidcConfig) -> Result<HttpClient, OidcError> {
        let tls = tls_config(config.ca_file.as_deref())?;
        let inner = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.timeout)
            .timeout(config.timeout)
            .build()
            .map_err(|e| OidcError::Misconfigured(format!("cannot build the HTTP client: {}", chain(&e))))?;
        Ok(HttpClient { inner })
    }

    /// GET with `Accept: application/json` and, when given, a bearer token.
    pub async fn get(&self, url: &str, bearer: Option<&str>) -> Result<HttpResponse, HttpError> {
        let mut request = self.inner.get(url).header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(HttpError::Transport)?;
        into_http_response(response).await
    }
}

impl<'c> AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(HttpError::Transport)?;
            let response = self.inner.execute(request).await.map_err(HttpError::Transport)?;
            into_http_response(response).await
        })
    }
}

async fn into_http_response(response: reqwest::Response) -> Result<HttpResponse, HttpError> {
    let mut builder = openidconnect::http::Response::builder().status(response.status());
    if let Some(headers) = builder.headers_mut() {
        headers.extend(response.headers().iter().map(|(name, value)| (name.clone(), value.clone())));
    }
    let body = response.bytes().await.map_err(HttpError::Transport)?.to_vec();
    builder.body(body).map_err(|e| HttpError::Malformed(e.to_string()))
}

fn tls_config(ca_file: Option<&Path>) -> Result<ClientConfig, OidcError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let setup = |e: rustls::Error| OidcError::Misconfigured(format!("TLS setup failed: {e}"));
    let builder = ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions().map_err(setup)?;
    let Some(path) = ca_file else {
        return Ok(builder.with_platform_verifier().map_err(setup)?.with_no_client_auth());
    };
    let ca_error = |message: String| {
        OidcError::Misconfigured(format!("{}: cannot use {}: {message}", vars::CA_FILE, path.display()))
    };
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| ca_error(e.to_string()))? {
        roots.add(cert.map_err(|e| ca_error(e.to_string()))?).map_err(|e| ca_error(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(ca_error("no PEM certificates in the file".into()));
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}
