//! The built-in console: which Proxmox VM a signed-in person may open a console
//! on, and a byte channel to that VM's VNC server. The server's WebSocket route
//! asks [`ConsoleAccess`] first and relays only when it says yes; the Proxmox
//! ticket and credentials stay inside the [`ConsoleBackend`].

use async_trait::async_trait;
use bytes::Bytes;
use domain::{Actor, AppError};

use crate::Services;

/// The Proxmox VM behind an OpenVLE VM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleTarget {
    pub node: String,
    pub vmid: u32,
}

/// The authorization hook: given the signed-in actor and an OpenVLE VM id, the
/// Proxmox node and VMID, or `AppError::Forbidden` / `AppError::NotFound`
/// (`AppError::Conflict` while the VM does not run). Implemented by the VM
/// records (`crate::classroom::console`).
#[async_trait]
pub trait ConsoleAccess: Send + Sync {
    async fn console_target(&self, actor: &Actor, vm_id: &str) -> Result<ConsoleTarget, AppError>;
    /// A console session on the VM started (the channel is open): the activity log's `vm.console_open`.
    async fn opened(&self, actor: &Actor, vm_id: &str) -> Result<(), AppError>;
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConsoleError {
    #[error("the VM's console is unavailable: {reason}")]
    Unavailable { reason: String },
}

/// Bytes towards the VM's VNC server. [`Bytes`] because WebSocket libraries hand
/// frames over as such: the relay passes them on without copying.
#[async_trait]
pub trait ConsoleSink: Send {
    async fn send(&mut self, bytes: Bytes) -> Result<(), ConsoleError>;
    async fn close(&mut self);
}

/// Bytes from the VM's VNC server; `None` once the VM side closed.
#[async_trait]
pub trait ConsoleSource: Send {
    async fn recv(&mut self) -> Option<Bytes>;
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

/// Through the cluster connection in use at the moment of opening, so a
/// connection changed in Settings (on any replica) is the one consoles use next.
#[async_trait]
impl ConsoleBackend for Services {
    async fn open(&self, target: &ConsoleTarget) -> Result<ConsoleChannel, ConsoleError> {
        let cluster = self.current_cluster().await.map_err(|e| ConsoleError::Unavailable { reason: e.to_string() })?;
        cluster.open_console(target).await
    }
}
