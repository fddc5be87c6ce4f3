//! The rustls configuration for each [`TlsVerification`] mode.
//!
//! Built on the `ring` provider explicitly, so nothing depends on a process-wide default
//! provider, and handed to ldap3 finished (ldap3 would otherwise read the system roots
//! itself on first use).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_platform_verifier::BuilderVerifierExt;

use crate::config::{TlsVerification, vars};
use crate::error::LdapError;

pub(crate) fn client_config(mode: &TlsVerification) -> Result<Arc<ClientConfig>, LdapError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let setup_error = |e: rustls::Error| LdapError::Misconfigured(format!("TLS setup failed: {e}"));
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(setup_error)?;
    let config = match mode {
        TlsVerification::SystemRoots => builder.with_platform_verifier().map_err(setup_error)?.with_no_client_auth(),
        TlsVerification::CaFile(path) => {
            let ca_error = |message: String| {
                LdapError::Misconfigured(format!("{}: cannot use {}: {message}", vars::CA_FILE, path.display()))
            };
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(path).map_err(|e| ca_error(e.to_string()))? {
                let cert = cert.map_err(|e| ca_error(e.to_string()))?;
                roots.add(cert).map_err(|e| ca_error(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(ca_error("no PEM certificates in the file".into()));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        TlsVerification::SkipVerify => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate {
                algorithms: provider.signature_verification_algorithms,
            }))
            .with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// `LDAP_SKIP_VERIFY`: accepts any certificate for any name. The handshake signature is
/// still checked, so the peer at least holds the key of the certificate it shows.
#[derive(Debug)]
struct AcceptAnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_ca_file_names_the_variable() {
        let empty = tempfile::NamedTempFile::new().unwrap();
        for path in [empty.path().to_owned(), "/nonexistent/ca.pem".into()] {
            let err = client_config(&TlsVerification::CaFile(path.clone())).unwrap_err();
            let text = err.to_string();
            assert!(matches!(err, LdapError::Misconfigured(_)), "{text}");
            assert!(text.contains(vars::CA_FILE) && text.contains(&path.display().to_string()), "{text}");
        }
    }

    #[test]
    fn system_roots_and_skip_verify_build() {
        client_config(&TlsVerification::SystemRoots).unwrap();
        client_config(&TlsVerification::SkipVerify).unwrap();
    }
}
