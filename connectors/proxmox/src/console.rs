//! `services::console::ConsoleBackend` on Proxmox: `vncproxy` (websocket=1), then
//! the `vncwebsocket` with the API token and the one-time PVEVNC ticket, over the
//! same TLS verification as every other call. Neither leaves this module.
//!
//! Proxmox's VNC server asks for VNC authentication with the ticket as password
//! (what its own noVNC page sends). We answer that here, so the browser never holds
//! the ticket: the server's relay then presents the browser a fresh RFB 3.8
//! handshake with security type None ([`RfbOverFrames`] serves both), and after
//! the browser's choice frames pass through unread ([`crate::websocket`] says why).

use std::sync::Arc;

use async_trait::async_trait;
use rustls::pki_types::ServerName;
use services::console::{ConsoleBackend, ConsoleChannel, ConsoleError, ConsoleIo, ConsoleTarget};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::PveClient;
use crate::websocket::{self, FrameReader, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_TEXT};

/// The longest HTTP response head the upgrade reads.
const RESPONSE_HEAD_MAX: usize = 16 * 1024;

#[derive(Debug)]
pub struct ProxmoxConsole {
    client: Arc<PveClient>,
}

impl ProxmoxConsole {
    pub fn new(client: Arc<PveClient>) -> ProxmoxConsole {
        ProxmoxConsole { client }
    }

    /// The upgraded socket, what was read past the HTTP response, and the
    /// ticket, which is also the VNC password.
    async fn connect(&self, target: &ConsoleTarget) -> Result<(Box<dyn ConsoleIo>, Vec<u8>, String), String> {
        let proxy = self.client.vnc_proxy(&target.node, target.vmid).await.map_err(|e| e.to_string())?;
        let url = self.client.vnc_websocket_url(&target.node, target.vmid, &proxy).map_err(|e| e.to_string())?;
        let host = url.host_str().ok_or("the Proxmox URL has no host")?.to_owned();
        let port = url.port_or_known_default().ok_or("the Proxmox URL has no port")?;
        let tcp = TcpStream::connect((host.as_str(), port)).await.map_err(|e| format!("cannot connect: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let mut io: Box<dyn ConsoleIo> = if url.scheme() == "wss" {
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
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        };
        let read = upgrade(&mut io, &authority, &path, &self.client.config().authorization_header()).await?;
        Ok((io, read, proxy.ticket))
    }
}

/// The WebSocket opening handshake (RFC 6455 section 4.1) as a client asking
/// for the `binary` subprotocol and no extension; returns the bytes read past
/// the response (frames may follow it at once).
async fn upgrade(
    io: &mut Box<dyn ConsoleIo>,
    authority: &str,
    path: &str,
    authorization: &str,
) -> Result<Vec<u8>, String> {
    if [authority, path, authorization].iter().any(|v| v.contains(['\r', '\n'])) {
        return Err("the console URL or token holds a line break".into());
    }
    let key = generate_key();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n\
         Authorization: {authorization}\r\n\r\n"
    );
    let failed = |e: std::io::Error| format!("vncwebsocket: {e}");
    io.write_all(request.as_bytes()).await.map_err(failed)?;
    io.flush().await.map_err(failed)?;
    let mut read = Vec::new();
    let head_len = loop {
        if let Some(end) = read.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if read.len() > RESPONSE_HEAD_MAX {
            return Err("vncwebsocket: the response head is too long".into());
        }
        let mut chunk = [0u8; 4096];
        match io.read(&mut chunk).await.map_err(failed)? {
            0 => return Err("vncwebsocket: Proxmox closed the connection before answering".into()),
            n => read.extend_from_slice(&chunk[..n]),
        }
    };
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    response.parse(&read[..head_len]).map_err(|e| format!("vncwebsocket: a malformed response: {e}"))?;
    if response.code != Some(101) {
        // Proxmox puts its error message in the reason phrase.
        let code = response.code.unwrap_or_default();
        return Err(format!("vncwebsocket: HTTP {code} {}", response.reason.unwrap_or_default()));
    }
    let header = |name: &str| {
        response.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| String::from_utf8_lossy(h.value))
    };
    if header("Sec-WebSocket-Accept").as_deref() != Some(derive_accept_key(key.as_bytes()).as_str()) {
        return Err("vncwebsocket: the server's accept key does not match".into());
    }
    if header("Sec-WebSocket-Extensions").is_some_and(|v| !v.trim().is_empty()) {
        return Err("vncwebsocket: the server chose an extension nobody asked for".into());
    }
    Ok(read.split_off(head_len))
}

pub const RFB_VERSION: &[u8; 12] = b"RFB 003.008\n";
pub const SECURITY_NONE: u8 = 1;
const SECURITY_VNC_AUTH: u8 = 2;

/// RFB bytes over whole WebSocket frames, for a handshake: RFB messages may be
/// split across frames or share one.
pub struct RfbOverFrames {
    reader: FrameReader,
    /// Payload bytes read and not yet taken.
    bytes: Vec<u8>,
    /// Whether the last data frame ended its message.
    message_ended: bool,
    /// Whether the frames we send are masked: yes as a client, no as a server.
    masked: bool,
}

impl RfbOverFrames {
    pub fn new(buffered: Vec<u8>, masked: bool) -> RfbOverFrames {
        RfbOverFrames { reader: FrameReader::new(buffered), bytes: Vec::new(), message_ended: true, masked }
    }

    /// The next `n` bytes of the RFB stream.
    pub async fn exact(&mut self, io: &mut (impl tokio::io::AsyncRead + Unpin), n: usize) -> Result<Vec<u8>, String> {
        while self.bytes.len() < n {
            self.data_frame(io).await?;
        }
        Ok(self.bytes.drain(..n).collect())
    }

    async fn data_frame(&mut self, io: &mut (impl tokio::io::AsyncRead + Unpin)) -> Result<(), String> {
        loop {
            let frame = self.reader.frame(io).await.map_err(|e| e.to_string())?;
            match frame.opcode {
                OP_BINARY | OP_TEXT | OP_CONTINUATION => {
                    self.bytes.extend_from_slice(&frame.payload);
                    self.message_ended = frame.fin;
                    return Ok(());
                }
                OP_CLOSE => return Err("the WebSocket closed during the VNC handshake".into()),
                // Ping and pong: nobody pings while an RFB handshake runs.
                _ => {}
            }
        }
    }

    /// Sends one RFB message as a binary frame.
    pub async fn send(&self, io: &mut (impl tokio::io::AsyncWrite + Unpin), payload: &[u8]) -> Result<(), String> {
        let mask = self.masked.then(rand::random::<[u8; 4]>);
        let failed = |e: std::io::Error| format!("WebSocket: {e}");
        io.write_all(&websocket::encode(OP_BINARY, payload, mask)).await.map_err(failed)?;
        io.flush().await.map_err(failed)
    }

    /// Ends the handshake where frames can pass through unread: reads the rest
    /// of a message the handshake ended in (its continuation frames could not be
    /// passed on alone), then returns what the peer sent past the handshake as
    /// frames of the peer's kind (masked if the peer is the client), ready to be
    /// passed on: RFB bytes read beyond the handshake in a frame of their own,
    /// then the frames read past them, from a frame boundary on.
    pub async fn finish(mut self, io: &mut (impl tokio::io::AsyncRead + Unpin)) -> Result<Vec<u8>, String> {
        while !self.message_ended {
            self.data_frame(io).await?;
        }
        let mut frames = if self.bytes.is_empty() {
            Vec::new()
        } else {
            let peer_mask = (!self.masked).then(rand::random::<[u8; 4]>);
            websocket::encode(OP_BINARY, &self.bytes, peer_mask)
        };
        frames.extend(self.reader.buffered());
        Ok(frames)
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
async fn authenticate(io: &mut Box<dyn ConsoleIo>, rfb: &mut RfbOverFrames, password: &str) -> Result<(), String> {
    let version = rfb.exact(io, 12).await?;
    if !version.starts_with(b"RFB 003.") {
        return Err(format!("not a VNC server: {:?}", String::from_utf8_lossy(&version)));
    }
    rfb.send(io, RFB_VERSION).await?;
    let count = rfb.exact(io, 1).await?[0] as usize;
    if count == 0 {
        return Err(format!("the VNC server refused the connection: {}", reason(io, rfb).await));
    }
    let types = rfb.exact(io, count).await?;
    if types.contains(&SECURITY_VNC_AUTH) {
        rfb.send(io, &[SECURITY_VNC_AUTH]).await?;
        let challenge = rfb.exact(io, 16).await?;
        rfb.send(io, &vnc_auth_response(password.as_bytes(), &challenge)).await?;
    } else if types.contains(&SECURITY_NONE) {
        rfb.send(io, &[SECURITY_NONE]).await?;
    } else {
        return Err(format!("the VNC server offers no supported security type: {types:?}"));
    }
    if rfb.exact(io, 4).await? != [0, 0, 0, 0] {
        return Err(format!("VNC authentication failed: {}", reason(io, rfb).await));
    }
    Ok(())
}

/// The reason string that follows a refusal.
async fn reason(io: &mut Box<dyn ConsoleIo>, rfb: &mut RfbOverFrames) -> String {
    match rfb.exact(io, 4).await {
        Ok(len) => {
            let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]).min(1024) as usize;
            rfb.exact(io, len).await.map(|r| String::from_utf8_lossy(&r).into_owned()).unwrap_or_default()
        }
        Err(e) => e,
    }
}

fn unavailable(reason: impl Into<String>) -> ConsoleError {
    ConsoleError::Unavailable { reason: reason.into() }
}

#[async_trait]
impl ConsoleBackend for ProxmoxConsole {
    async fn open(&self, target: &ConsoleTarget) -> Result<ConsoleChannel, ConsoleError> {
        let (mut stream, read, ticket) = self.connect(target).await.map_err(unavailable)?;
        let mut rfb = RfbOverFrames::new(read, true);
        authenticate(&mut stream, &mut rfb, &ticket).await.map_err(unavailable)?;
        // Proxmox sends nothing after the security result until ClientInit; should
        // it have, that goes to the browser first.
        let buffered = rfb.finish(&mut stream).await.map_err(unavailable)?;
        Ok(ConsoleChannel { stream, buffered })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFB bytes that shared a frame with the handshake, and the frames after
    /// it, are handed on as frames of the peer's kind: masked from a browser
    /// (the client), unmasked from Proxmox (the server).
    #[tokio::test]
    async fn finishing_hands_on_what_followed_the_handshake() {
        use crate::websocket::{FrameHeader, apply_mask, encode};
        for (we_mask, peer_mask) in [(false, Some([9, 8, 7, 6])), (true, None)] {
            let mut wire = encode(OP_BINARY, b"RFB 003.008\nAB", peer_mask);
            let next = encode(OP_BINARY, b"CD", peer_mask);
            wire.extend_from_slice(&next);
            let mut rfb = RfbOverFrames::new(Vec::new(), we_mask);
            let mut stream = &wire[..];
            assert_eq!(rfb.exact(&mut stream, 12).await.unwrap(), RFB_VERSION);
            let handed_on = rfb.finish(&mut stream).await.unwrap();
            let header = FrameHeader::parse(&handed_on).unwrap().unwrap();
            assert_eq!((header.opcode, header.mask.is_some()), (OP_BINARY, peer_mask.is_some()));
            let end = header.header_len + header.payload_len as usize;
            let mut payload = handed_on[header.header_len..end].to_vec();
            if let Some(key) = header.mask {
                apply_mask(&mut payload, key);
            }
            assert_eq!(payload, b"AB");
            assert_eq!(&handed_on[end..], &next[..], "the next frame as it came");
        }
    }

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
