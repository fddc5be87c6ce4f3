//! The built-in console: which Proxmox VM a signed-in person may open a console
//! on, and a byte channel to that VM's VNC server. The server's WebSocket route
//! asks [`ConsoleAccess`] first and relays only when it says yes; the Proxmox
//! ticket and credentials stay inside the [`ConsoleBackend`].

use async_trait::async_trait;
use domain::{Actor, AppError};

/// The Proxmox VM behind an OpenVLE VM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleTarget {
    pub node: String,
    pub vmid: u32,
}

/// The authorization hook: given the signed-in actor and an OpenVLE VM id, the
/// Proxmox node and VMID, or `AppError::Forbidden` / `AppError::NotFound`.
/// Implemented by the VM records (classroom flow).
#[async_trait]
pub trait ConsoleAccess: Send + Sync {
    async fn console_target(&self, actor: &Actor, vm_id: &str) -> Result<ConsoleTarget, AppError>;
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConsoleError {
    #[error("the VM's console is unavailable: {reason}")]
    Unavailable { reason: String },
}

/// Bytes towards the VM's VNC server.
#[async_trait]
pub trait ConsoleSink: Send {
    async fn send(&mut self, bytes: Vec<u8>) -> Result<(), ConsoleError>;
    async fn close(&mut self);
}

/// Bytes from the VM's VNC server; `None` once the VM side closed.
#[async_trait]
pub trait ConsoleSource: Send {
    async fn recv(&mut self) -> Option<Vec<u8>>;
}

pub struct ConsoleChannel {
    pub to_vm: Box<dyn ConsoleSink>,
    pub from_vm: Box<dyn ConsoleSource>,
}

/// Opens a console channel (Proxmox: `vncproxy` + `vncwebsocket`).
#[async_trait]
pub trait ConsoleBackend: Send + Sync {
    async fn open(&self, target: &ConsoleTarget) -> Result<ConsoleChannel, ConsoleError>;
}
