//! Certificate failures are told apart and explained: a pinned fingerprint
//! that does not match names the one the server presented; an untrusted
//! certificate and a closed port say so. The server is a minimal TLS
//! endpoint with a fixed self-signed certificate (tests/fixtures).

use std::sync::Arc;

use domain::cluster::ClusterProblem;
use proxmox_connector::adapter::PveConnector;
use services::cluster::{ClusterConnector, ClusterSettings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

const CERT: &str = include_str!("fixtures/pve-test.crt");
const KEY: &str = include_str!("fixtures/pve-test.key");
/// `openssl x509 -in tests/fixtures/pve-test.crt -noout -fingerprint -sha256`
const FINGERPRINT: &str =
    "9B:E9:F6:45:A5:1A:4C:B0:39:7E:57:56:11:0F:B6:74:19:CB:70:AC:3B:8E:14:10:BD:8C:71:FE:3A:4F:CB:71";

/// Answers every request with a `/version` body, over TLS.
async fn tls_server() -> String {
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(CERT.as_bytes()).unwrap()],
            PrivateKeyDer::from_pem_slice(KEY.as_bytes()).unwrap(),
        )
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else { return };
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let body = r#"{"data":{"version":"8.2.4","release":"8.2","repoid":"abc"}}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://127.0.0.1:{}", addr.port())
}

fn settings(url: &str, fingerprint: Option<&str>) -> ClusterSettings {
    ClusterSettings {
        url: url.into(),
        token_id: "openvle@pve!test".into(),
        secret: "secret".into(),
        fingerprint: fingerprint.map(str::to_string),
        verify_tls: true,
        pool: "OpenVLE-VMs".into(),
    }
}

#[tokio::test]
async fn certificate_problems_are_precise() {
    let url = tls_server().await;

    let pinned = PveConnector.connect(&settings(&url, Some(FINGERPRINT))).unwrap();
    assert_eq!(pinned.version().await.unwrap().version, "8.2.4");

    let other_pin = ["AB"; 32].join(":");
    let wrong = PveConnector.connect(&settings(&url, Some(&other_pin))).unwrap();
    assert_eq!(
        wrong.version().await.unwrap_err(),
        ClusterProblem::FingerprintMismatch { seen: Some(FINGERPRINT.to_string()) }
    );

    let untrusted = PveConnector.connect(&settings(&url, None)).unwrap();
    let problem = untrusted.version().await.unwrap_err();
    assert!(matches!(problem, ClusterProblem::CertificateUntrusted { .. }), "{problem:?}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let nowhere = PveConnector.connect(&settings(&format!("https://{closed}"), None)).unwrap();
    let problem = nowhere.version().await.unwrap_err();
    assert!(matches!(problem, ClusterProblem::Unreachable { .. }), "{problem:?}");
}
