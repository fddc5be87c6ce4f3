//! The rustls configuration for each [`TlsVerification`] mode.
//!
//! We always hand reqwest a finished rustls config built on the `ring` provider, so
//! reqwest never needs a process-wide default provider (and aws-lc-rs is not compiled).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_platform_verifier::BuilderVerifierExt;
use sha2::{Digest, Sha256};

use crate::config::TlsVerification;

/// The TLS setup could not be built (unreadable CA file, no usable certificates).
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read CA file {path}: {message}")]
    CaFile { path: String, message: String },
    #[error("TLS configuration failed: {0}")]
    Rustls(#[from] rustls::Error),
}

pub(crate) fn client_config(mode: &TlsVerification) -> Result<ClientConfig, TlsSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    let config = match mode {
        TlsVerification::SystemRoots => builder.with_platform_verifier()?.with_no_client_auth(),
        TlsVerification::CustomCa(path) => {
            let ca_error = |message: String| TlsSetupError::CaFile { path: path.display().to_string(), message };
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(path).map_err(|e| ca_error(e.to_string()))? {
                let cert = cert.map_err(|e| ca_error(e.to_string()))?;
                roots.add(cert).map_err(|e| ca_error(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(ca_error("no certificates in file".into()));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        TlsVerification::PinnedSha256(fingerprint) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedVerifier {
                fingerprint: *fingerprint,
                algorithms: provider.signature_verification_algorithms,
                verify_fingerprint: true,
            }))
            .with_no_client_auth(),
        TlsVerification::Insecure => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedVerifier {
                fingerprint: [0; 32],
                algorithms: provider.signature_verification_algorithms,
                verify_fingerprint: false,
            }))
            .with_no_client_auth(),
    };
    Ok(config)
}

/// Start of the handshake error for a certificate other than the pinned one;
/// the fingerprint the server presented follows "it presented ".
pub(crate) const MISMATCH: &str = "server certificate does not match the pinned SHA-256 fingerprint";

fn fingerprint_of(cert: &CertificateDer<'_>) -> [u8; 32] {
    Sha256::digest(cert.as_ref()).into()
}

/// `AB:CD:...`, as Proxmox shows fingerprints.
pub(crate) fn colon_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// Trusts the leaf certificate by its SHA-256 fingerprint (name and chain are ignored,
/// as with Proxmox's self-signed node certificates), or — in insecure mode — trusts any
/// certificate. Handshake signatures are still checked in both modes, so the peer must
/// hold the certificate's private key.
#[derive(Debug)]
struct PinnedVerifier {
    fingerprint: [u8; 32],
    algorithms: WebPkiSupportedAlgorithms,
    verify_fingerprint: bool,
}

impl PinnedVerifier {
    fn matches(&self, cert: &CertificateDer<'_>) -> bool {
        // Constant time is not needed: the fingerprint is public, not a secret.
        fingerprint_of(cert) == self.fingerprint
    }
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if !self.verify_fingerprint || self.matches(end_entity) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!("{MISMATCH}; it presented {}", colon_hex(&fingerprint_of(end_entity)))))
        }
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
    fn every_mode_builds() {
        for mode in [TlsVerification::SystemRoots, TlsVerification::PinnedSha256([1; 32]), TlsVerification::Insecure] {
            client_config(&mode).unwrap();
        }
    }

    #[test]
    fn missing_ca_file_is_reported() {
        let err = client_config(&TlsVerification::CustomCa("/nonexistent/ca.pem".into())).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn fingerprint_compares_sha256_of_der() {
        let der = CertificateDer::from(vec![1u8, 2, 3]);
        let verifier = PinnedVerifier {
            fingerprint: Sha256::digest([1u8, 2, 3]).into(),
            algorithms: rustls::crypto::ring::default_provider().signature_verification_algorithms,
            verify_fingerprint: true,
        };
        assert!(verifier.matches(&der));
        let name = ServerName::try_from("pve").unwrap();
        let other = CertificateDer::from(vec![9u8]);
        assert!(verifier.verify_server_cert(&other, &[], &name, &[], UnixTime::now()).is_err());
        assert!(verifier.verify_server_cert(&der, &[], &name, &[], UnixTime::now()).is_ok());
    }
}
