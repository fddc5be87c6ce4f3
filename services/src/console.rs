//! The built-in console: which Proxmox VM a signed-in person may open a console
//! on, and a byte channel to that VM's VNC server. The server's WebSocket route
//! asks [`ConsoleAccess`] first and relays only when it says yes; the Proxmox
//! ticket and credentials stay inside the [`ConsoleBackend`].

use async_trait::async_trait;
use domain::{Actor, AppError};
use tokio::io::{AsyncRead, AsyncWrite};

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

/// A plain or TLS connection.
pub trait ConsoleIo: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> ConsoleIo for T {}

/// A WebSocket connection, as its client, to the VM's VNC server, past the RFB
/// security handshake (ClientInit is due). The relay passes frames through as
/// they are: the browser's are masked client frames, which `stream` takes; what
/// `stream` sends are server frames the browser takes. No WebSocket extension is
/// in use, and the subprotocol is `binary`.
pub struct ConsoleChannel {
    pub stream: Box<dyn ConsoleIo>,
    /// Frames already read from `stream`, from a frame boundary on: they go to
    /// the browser before anything else.
    pub buffered: Vec<u8>,
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
