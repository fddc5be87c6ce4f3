//! The `openvle` server: configuration, wiring, HTTP server and CLI. A
//! library so the integration tests can start the real application.

pub mod activities;
pub mod background;
pub mod cli;
pub mod config;
pub mod connect;
pub mod console;
pub mod demo;
pub mod events;
pub mod guacamole;
pub mod health;
pub mod logging;
pub mod oidc;
pub mod web;
pub mod wiring;

/// TLS for outgoing connections (Proxmox, and later Guacamole, Moodle, OIDC)
/// uses rustls with the `ring` provider; the process installs it once, before
/// any HTTP client is built. Installing twice is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
