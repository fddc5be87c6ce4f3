//! `services::console::ConsoleBackend` on Proxmox: `vncproxy` (websocket=1), then
//! the `vncwebsocket` with the API token and the one-time PVEVNC ticket, over the
//! same TLS verification as every other call. Neither leaves this module.
//!
//! Proxmox's VNC server asks for VNC authentication with the ticket as password
//! (what its own noVNC page sends). We answer that here, so the browser never holds
//! the ticket: towards the browser the channel is a fresh RFB 3.8 server offering
//! security type None, and after the browser's choice every byte passes through.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::ServerName;
use services::console::{ConsoleBackend, ConsoleChannel, ConsoleError, ConsoleSink, ConsoleSource, ConsoleTarget};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::PveClient;

/// A plain or TLS connection to Proxmox.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

type Socket = WebSocketStream<Box<dyn Io>>;

#[derive(Debug)]
pub struct ProxmoxConsole {
    client: Arc<PveClient>,
}

impl ProxmoxConsole {
    pub fn new(client: Arc<PveClient>) -> ProxmoxConsole {
        ProxmoxConsole { client }
    }

    /// The socket and the ticket, which is also the VNC password.
    async fn connect(&self, target: &ConsoleTarget) -> Result<(Socket, String), String> {
        let proxy = self.client.vnc_proxy(&target.node, target.vmid).await.map_err(|e| e.to_string())?;
        let url = self.client.vnc_websocket_url(&target.node, target.vmid, &proxy).map_err(|e| e.to_string())?;
        let host = url.host_str().ok_or("the Proxmox URL has no host")?.to_owned();
        let port = url.port_or_known_default().ok_or("the Proxmox URL has no port")?;
        let tcp = TcpStream::connect((host.as_str(), port)).await.map_err(|e| format!("cannot connect: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let io: Box<dyn Io> = if url.scheme() == "wss" {
            let tls = crate::tls::client_config(&self.client.config().tls).map_err(|e| e.to_string())?;
            let name = ServerName::try_from(host.clone()).map_err(|e| format!("bad host name: {e}"))?;
            let stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS: {e}"))?;
            Box::new(stream)
        } else {
            Box::new(tcp)
        };
        let mut request = url.as_str().into_client_request().map_err(|e| e.to_string())?;
        let mut auth = HeaderValue::from_str(&self.client.config().authorization_header())
            .map_err(|_| "the API token is not a valid header".to_owned())?;
        auth.set_sensitive(true);
        request.headers_mut().insert("Authorization", auth);
        request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("binary"));
        let (socket, _) = tokio_tungstenite::client_async(request, io).await.map_err(|e| e.to_string())?;
        Ok((socket, proxy.ticket))
    }
}

const RFB_VERSION: &[u8; 12] = b"RFB 003.008\n";
const SECURITY_NONE: u8 = 1;
const SECURITY_VNC_AUTH: u8 = 2;

/// Reads exact byte counts from WebSocket frames, which may split or join RFB messages.
struct Reader {
    frames: SplitStream<Socket>,
    buffer: Vec<u8>,
}

impl Reader {
    async fn frame(&mut self) -> Option<Bytes> {
        loop {
            match self.frames.next().await? {
                Ok(Message::Binary(bytes)) => return Some(bytes),
                Ok(Message::Text(text)) => return Some(Bytes::copy_from_slice(text.as_bytes())),
                Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
                Ok(Message::Close(_)) | Err(_) => return None,
            }
        }
    }

    async fn exact(&mut self, n: usize) -> Result<Vec<u8>, String> {
        while self.buffer.len() < n {
            let frame = self.frame().await.ok_or("Proxmox closed the console during the VNC handshake")?;
            self.buffer.extend_from_slice(&frame);
        }
        Ok(self.buffer.drain(..n).collect())
    }

    async fn reason(&mut self) -> String {
        match self.exact(4).await {
            Ok(len) => {
                let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]).min(1024) as usize;
                self.exact(len).await.map(|r| String::from_utf8_lossy(&r).into_owned()).unwrap_or_default()
            }
            Err(e) => e,
        }
    }
}

/// VNC authentication's answer: the challenge DES-encrypted with the password's
/// first 8 bytes as key, each byte's bits reversed (the protocol's historic quirk).
pub(crate) fn vnc_auth_response(password: &[u8], challenge: &[u8]) -> Vec<u8> {
    use des::cipher::{BlockEncrypt, KeyInit};
    let mut key = [0u8; 8];
    for (slot, byte) in key.iter_mut().zip(password.iter()) {
        *slot = byte.reverse_bits();
    }
    let cipher = des::Des::new(&key.into());
    let mut out = Vec::with_capacity(challenge.len());
    for block in challenge.chunks(8) {
        let mut block = des::cipher::generic_array::GenericArray::clone_from_slice(block);
        cipher.encrypt_block(&mut block);
        out.extend_from_slice(&block);
    }
    out
}

/// Takes Proxmox's side through the RFB handshake up to where ClientInit is due.
async fn authenticate(
    sink: &mut SplitSink<Socket, Message>,
    reader: &mut Reader,
    password: &str,
) -> Result<(), String> {
    let send_error = |e: tokio_tungstenite::tungstenite::Error| e.to_string();
    let version = reader.exact(12).await?;
    if !version.starts_with(b"RFB 003.") {
        return Err(format!("not a VNC server: {:?}", String::from_utf8_lossy(&version)));
    }
    sink.send(Message::binary(RFB_VERSION.to_vec())).await.map_err(send_error)?;
    let count = reader.exact(1).await?[0] as usize;
    if count == 0 {
        return Err(format!("the VNC server refused the connection: {}", reader.reason().await));
    }
    let types = reader.exact(count).await?;
    if types.contains(&SECURITY_VNC_AUTH) {
        sink.send(Message::binary(vec![SECURITY_VNC_AUTH])).await.map_err(send_error)?;
        let challenge = reader.exact(16).await?;
        sink.send(Message::binary(vnc_auth_response(password.as_bytes(), &challenge))).await.map_err(send_error)?;
    } else if types.contains(&SECURITY_NONE) {
        sink.send(Message::binary(vec![SECURITY_NONE])).await.map_err(send_error)?;
    } else {
        return Err(format!("the VNC server offers no supported security type: {types:?}"));
    }
    if reader.exact(4).await? != [0, 0, 0, 0] {
        return Err(format!("VNC authentication failed: {}", reader.reason().await));
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting for the browser's 12-byte protocol version.
    Version,
    /// Waiting for the browser's one-byte security choice.
    Choice,
    /// Handshake done: bytes pass through.
    Relay,
}

/// Towards the VM. Until the browser finished its (fake) handshake, its bytes are
/// answered locally; the rest goes to Proxmox.
struct Sink {
    socket: SplitSink<Socket, Message>,
    stage: Stage,
    version: Vec<u8>,
    local: mpsc::UnboundedSender<Vec<u8>>,
}

/// From the VM: first what we answer locally, then Proxmox's bytes.
struct Source {
    reader: Reader,
    local: mpsc::UnboundedReceiver<Vec<u8>>,
}

fn unavailable(reason: impl Into<String>) -> ConsoleError {
    ConsoleError::Unavailable { reason: reason.into() }
}

#[async_trait]
impl ConsoleSink for Sink {
    async fn send(&mut self, bytes: Bytes) -> Result<(), ConsoleError> {
        if self.stage == Stage::Relay {
            return self.socket.send(Message::Binary(bytes)).await.map_err(|e| unavailable(e.to_string()));
        }
        let mut rest = bytes.as_ref();
        while self.stage != Stage::Relay && !rest.is_empty() {
            if self.stage == Stage::Version {
                let take = (12 - self.version.len()).min(rest.len());
                self.version.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                if self.version.len() == 12 {
                    if self.version.as_slice() != RFB_VERSION {
                        return Err(unavailable("the browser must speak RFB 3.8"));
                    }
                    // One security type: None (Proxmox's authentication is already done).
                    let _ = self.local.send(vec![1, SECURITY_NONE]);
                    self.stage = Stage::Choice;
                }
            } else {
                let choice = rest[0];
                rest = &rest[1..];
                if choice != SECURITY_NONE {
                    return Err(unavailable("the browser chose an unsupported security type"));
                }
                let _ = self.local.send(vec![0, 0, 0, 0]);
                self.stage = Stage::Relay;
            }
        }
        if rest.is_empty() {
            return Ok(());
        }
        // What followed the handshake in the same frame.
        let tail = bytes.slice(bytes.len() - rest.len()..);
        self.socket.send(Message::Binary(tail)).await.map_err(|e| unavailable(e.to_string()))
    }

    async fn close(&mut self) {
        let _ = self.socket.close().await;
    }
}

#[async_trait]
impl ConsoleSource for Source {
    async fn recv(&mut self) -> Option<Bytes> {
        if !self.reader.buffer.is_empty() {
            return Some(Bytes::from(std::mem::take(&mut self.reader.buffer)));
        }
        tokio::select! {
            biased;
            Some(local) = self.local.recv() => Some(Bytes::from(local)),
            frame = self.reader.frame() => frame,
        }
    }
}

#[async_trait]
impl ConsoleBackend for ProxmoxConsole {
    async fn open(&self, target: &ConsoleTarget) -> Result<ConsoleChannel, ConsoleError> {
        let (socket, ticket) = self.connect(target).await.map_err(unavailable)?;
        let (mut sink, frames) = socket.split();
        let mut reader = Reader { frames, buffer: Vec::new() };
        authenticate(&mut sink, &mut reader, &ticket).await.map_err(unavailable)?;
        let (local, local_rx) = mpsc::unbounded_channel();
        let _ = local.send(RFB_VERSION.to_vec());
        let to_vm = Sink { socket: sink, stage: Stage::Version, version: Vec::new(), local };
        Ok(ConsoleChannel { to_vm: Box::new(to_vm), from_vm: Box::new(Source { reader, local: local_rx }) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vnc_auth_response_is_des_with_bit_reversed_key() {
        // FIPS 81's example: key 0123456789ABCDEF encrypts "Now is t" to 3FA40E8A984D4815.
        // Bit-reversed, that key is the password below.
        let password = [0x80, 0xC4, 0xA2, 0xE6, 0x91, 0xD5, 0xB3, 0xF7];
        let response = vnc_auth_response(&password, b"Now is tNow is t");
        assert_eq!(hex::encode(&response[..8]), "3fa40e8a984d4815");
        assert_eq!(response[..8], response[8..]);
        // Only the first 8 bytes of the password count.
        let mut longer = password.to_vec();
        longer.extend_from_slice(b"EXTRA");
        assert_eq!(vnc_auth_response(&longer, b"Now is tNow is t"), response);
    }
}
