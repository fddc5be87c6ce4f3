//! Simulators of the external systems OpenVLE talks to, for demos and tests without the
//! real thing. Each lives in its own module and shares nothing with the connector that
//! talks to it, so a misunderstanding of the real API cannot hide on both sides.

pub mod guacamole;
pub mod proxmox;
