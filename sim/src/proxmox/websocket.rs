//! The WebSocket end of `vncwebsocket`, with the rules of Proxmox's API server
//! (pve-http-server, `PVE::APIServer::AnyEvent`, `handle_api2_request` and
//! `websocket_proxy`):
//! - an upgrade needs `Upgrade: websocket`, `Sec-WebSocket-Version: 13` and a
//!   key; otherwise the answer is 501 with the reason. The subprotocol a client
//!   asks for is repeated as it came (Proxmox no longer chooses one). A request
//!   without `Upgrade` is an ordinary API call;
//! - what the VNC server writes goes out as one binary frame per read of at most
//!   128 KiB;
//! - a client's frames must be masked, final (no fragments), without RSV bits and
//!   at most 128 KiB; text and binary payloads go to the VNC server, a Ping is
//!   answered with a Pong, a Close shuts the connection down without a Close in
//!   return, and anything else drops it;
//! - when the VNC server ends, the connection is dropped, again without a Close.
//!
//! Written here rather than taken from axum's WebSocket for those rules, and
//! because the simulator sits on the console benchmark's path in Proxmox's place:
//! a library copies every message on its way out, and that cost would be counted
//! against OpenVLE's relay. Here a frame goes out straight from the read buffer.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::error::ApiError;

/// Proxmox's `$max_payload_size`: the largest frame either way.
pub(crate) const MAX_PAYLOAD: usize = 128 * 1024;
/// Room for the longest header before a payload read into the same buffer.
const HEADROOM: usize = 10;
const OP_TEXT: u8 = 0x1;
pub(crate) const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
pub(crate) const OP_PONG: u8 = 0xA;

/// The request's headers and, when the connection can be upgraded, its upgrade.
pub(crate) struct UpgradeRequest {
    headers: HeaderMap,
    connection: Option<hyper::upgrade::OnUpgrade>,
}

impl<S: Send + Sync> FromRequestParts<S> for UpgradeRequest {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<UpgradeRequest, Infallible> {
        Ok(UpgradeRequest {
            headers: parts.headers.clone(),
            connection: parts.extensions.remove::<hyper::upgrade::OnUpgrade>(),
        })
    }
}

/// An upgrade that passed the checks: what the 101 carries.
pub(crate) struct Accepted {
    accept: String,
    /// The client's `Sec-WebSocket-Protocol`, repeated as it came.
    protocol: Option<HeaderValue>,
    connection: hyper::upgrade::OnUpgrade,
}

impl UpgradeRequest {
    /// Proxmox's checks, in its order. `Ok(None)`: no upgrade was asked for.
    pub fn check(self) -> Result<Option<Accepted>, ApiError> {
        let header = |name: header::HeaderName| self.headers.get(name).and_then(|v| v.to_str().ok());
        let Some(upgrade) = header(header::UPGRADE).map(str::to_ascii_lowercase) else { return Ok(None) };
        let refuse = |message: String| Err(ApiError::upgrade_refused(message));
        if upgrade != "websocket" {
            return refuse(format!("unable to upgrade to protocol '{upgrade}'"));
        }
        let version = header(header::SEC_WEBSOCKET_VERSION).unwrap_or_default();
        if version != "13" {
            return refuse(format!("unsupported websocket-version '{version}'"));
        }
        let protocol = self.headers.get(header::SEC_WEBSOCKET_PROTOCOL).cloned();
        let Some(key) = header(header::SEC_WEBSOCKET_KEY) else { return refuse("missing websocket-key".into()) };
        let accept = accept_key(key);
        let Some(connection) = self.connection else {
            return refuse("this connection cannot be upgraded".into());
        };
        Ok(Some(Accepted { accept, protocol, connection }))
    }
}

/// `Sec-WebSocket-Accept` for a key (RFC 6455 section 4.2.2).
fn accept_key(key: &str) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(key.as_bytes());
    sha1.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha1.finalize())
}

impl Accepted {
    /// The 101 answer; `serve` gets the connection once it has gone out.
    pub fn switch<F>(
        self,
        serve: impl FnOnce(hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>) -> F + Send + 'static,
    ) -> Response
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let connection = self.connection;
        tokio::spawn(async move {
            if let Ok(upgraded) = connection.await {
                serve(hyper_util::rt::TokioIo::new(upgraded)).await;
            }
        });
        let mut response = Response::new(axum::body::Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        if let Ok(accept) = HeaderValue::from_str(&self.accept) {
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        }
        if let Some(protocol) = self.protocol {
            headers.insert(header::SEC_WEBSOCKET_PROTOCOL, protocol);
        }
        response
    }
}

/// Why a client's connection is dropped.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Dropped {
    /// The client sent a Close (or went away).
    Closed,
    /// A frame Proxmox does not accept.
    Refused(&'static str),
}

/// What a client's frame asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ClientFrame {
    Data(Vec<u8>),
    Ping(Vec<u8>),
    Pong,
}

/// Reads a client's frames. Cancel-safe: bytes are kept only once read.
#[derive(Default)]
pub(crate) struct ClientFrames {
    buffer: Vec<u8>,
}

impl ClientFrames {
    pub async fn next(&mut self, stream: &mut (impl AsyncRead + Unpin)) -> Result<ClientFrame, Dropped> {
        loop {
            if let Some(frame) = self.take()? {
                return Ok(frame);
            }
            let mut chunk = [0u8; 16 * 1024];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return Err(Dropped::Closed),
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// The first whole frame in the buffer, if there is one.
    fn take(&mut self) -> Result<Option<ClientFrame>, Dropped> {
        let [first, second, ..] = *self.buffer else { return Ok(None) };
        if first & 0x80 == 0 {
            return Err(Dropped::Refused("received fragmented websocket frame"));
        }
        if first & 0x70 != 0 {
            return Err(Dropped::Refused("received websocket frame with RSV flags"));
        }
        if second & 0x80 == 0 {
            return Err(Dropped::Refused("received unmasked websocket frame from client"));
        }
        let (len, at) = match second & 0x7F {
            126 => match self.buffer.get(2..4) {
                Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
                None => return Ok(None),
            },
            127 => match self.buffer.get(2..10) {
                Some(b) => (u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]), 10),
                None => return Ok(None),
            },
            short => (u64::from(short), 2),
        };
        if len > MAX_PAYLOAD as u64 {
            return Err(Dropped::Refused("received too large websocket frame"));
        }
        let end = at + 4 + len as usize;
        if self.buffer.len() < end {
            return Ok(None);
        }
        let mask = [self.buffer[at], self.buffer[at + 1], self.buffer[at + 2], self.buffer[at + 3]];
        let mut payload: Vec<u8> = self.buffer.drain(..end).skip(at + 4).collect();
        for (i, byte) in payload.iter_mut().enumerate() {
            *byte ^= mask[i % 4];
        }
        match first & 0x0F {
            OP_TEXT | OP_BINARY => Ok(Some(ClientFrame::Data(payload))),
            OP_PING => Ok(Some(ClientFrame::Ping(payload))),
            OP_PONG => Ok(Some(ClientFrame::Pong)),
            OP_CLOSE => Err(Dropped::Closed),
            _ => Err(Dropped::Refused("received unhandled websocket opcode")),
        }
    }
}

/// Writes `payload` as one unmasked frame (the server's), for the handshake
/// and Pongs; screen updates go through [`FramesFrom`].
pub(crate) async fn send(stream: &mut (impl AsyncWrite + Unpin), opcode: u8, payload: &[u8]) -> std::io::Result<()> {
    let header = Header::new(opcode, payload.len());
    let mut frame = Vec::with_capacity(HEADROOM + payload.len());
    frame.extend_from_slice(header.as_slice());
    frame.extend_from_slice(payload);
    stream.write_all(&frame).await
}

/// A final, unmasked frame's header (2 to 10 bytes).
struct Header {
    bytes: [u8; HEADROOM],
    len: usize,
}

impl Header {
    fn new(opcode: u8, payload: usize) -> Header {
        let mut bytes = [0u8; HEADROOM];
        bytes[0] = 0x80 | opcode;
        let len = match payload {
            0..=125 => {
                bytes[1] = payload as u8;
                2
            }
            126..=0xFFFF => {
                bytes[1] = 126;
                bytes[2..4].copy_from_slice(&(payload as u16).to_be_bytes());
                4
            }
            _ => {
                bytes[1] = 127;
                bytes[2..10].copy_from_slice(&(payload as u64).to_be_bytes());
                10
            }
        };
        Header { bytes, len }
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Bytes from a stream sent on as binary frames, one per read, each written
/// from the buffer it was read into.
pub(crate) struct FramesFrom {
    buffer: Vec<u8>,
}

impl FramesFrom {
    pub fn new() -> FramesFrom {
        FramesFrom { buffer: vec![0u8; HEADROOM + MAX_PAYLOAD] }
    }

    /// Reads once from `from` (cancel-safe); the bytes read, 0 at its end.
    pub async fn read(&mut self, from: &mut (impl AsyncRead + Unpin)) -> std::io::Result<usize> {
        from.read(&mut self.buffer[HEADROOM..]).await
    }

    /// Sends the `n` bytes of the last read as one frame.
    pub async fn send(&mut self, n: usize, to: &mut (impl AsyncWrite + Unpin)) -> std::io::Result<()> {
        let header = Header::new(OP_BINARY, n);
        let start = HEADROOM - header.as_slice().len();
        self.buffer[start..HEADROOM].copy_from_slice(header.as_slice());
        to.write_all(&self.buffer[start..HEADROOM + n]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client's frame: final unless `fin` is false, masked with `mask` if any.
    fn client_frame(first: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
        let header = Header::new(first & 0x0F, payload.len());
        let mut frame = header.as_slice().to_vec();
        frame[0] = first;
        if let Some(key) = mask {
            frame[1] |= 0x80;
            frame.extend_from_slice(&key);
            frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        } else {
            frame.extend_from_slice(payload);
        }
        frame
    }

    #[test]
    fn the_accept_key_is_rfc_6455s_example() {
        assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn headers_carry_every_length() {
        for (len, header_len) in [(0, 2), (125, 2), (126, 4), (65_535, 4), (65_536, 10)] {
            let header = Header::new(OP_BINARY, len);
            assert_eq!(header.as_slice().len(), header_len, "{len}");
            assert_eq!(header.as_slice()[0], 0x82);
        }
        assert_eq!(&Header::new(OP_BINARY, 300).as_slice()[1..], [126, 1, 44]);
    }

    #[tokio::test]
    async fn client_frames_are_unmasked_across_split_reads() {
        let key = Some([0x37, 0xfa, 0x21, 0x3d]);
        let big = vec![7u8; 70_000];
        let mut wire = client_frame(0x82, b"RFB 003.008\n", key);
        wire.extend(client_frame(0x89, b"hi", key));
        wire.extend(client_frame(0x81, b"text", key));
        wire.extend(client_frame(0x8A, b"", key));
        wire.extend(client_frame(0x82, &big, key));
        wire.extend(client_frame(0x88, &[3, 232], key));
        for step in [1, 3, 7, 4096, wire.len()] {
            let mut frames = ClientFrames::default();
            let mut stream = in_steps(&wire, step);
            assert_eq!(frames.next(&mut stream).await, Ok(ClientFrame::Data(b"RFB 003.008\n".to_vec())));
            assert_eq!(frames.next(&mut stream).await, Ok(ClientFrame::Ping(b"hi".to_vec())));
            assert_eq!(frames.next(&mut stream).await, Ok(ClientFrame::Data(b"text".to_vec())));
            assert_eq!(frames.next(&mut stream).await, Ok(ClientFrame::Pong));
            assert_eq!(frames.next(&mut stream).await, Ok(ClientFrame::Data(big.clone())));
            assert_eq!(frames.next(&mut stream).await, Err(Dropped::Closed), "step {step}");
        }
    }

    #[tokio::test]
    async fn frames_proxmox_refuses_drop_the_connection() {
        let key = Some([1, 2, 3, 4]);
        let cases: [(Vec<u8>, &str); 5] = [
            (client_frame(0x02, b"part", key), "received fragmented websocket frame"),
            (client_frame(0xC2, b"zip", key), "received websocket frame with RSV flags"),
            (client_frame(0x82, b"plain", None), "received unmasked websocket frame from client"),
            (client_frame(0x82, &vec![0; MAX_PAYLOAD + 1], key), "received too large websocket frame"),
            (client_frame(0x83, b"", key), "received unhandled websocket opcode"),
        ];
        for (wire, reason) in cases {
            let mut frames = ClientFrames::default();
            assert_eq!(frames.next(&mut &wire[..]).await, Err(Dropped::Refused(reason)));
        }
        let mut frames = ClientFrames::default();
        assert_eq!(frames.next(&mut &b"\x82"[..]).await, Err(Dropped::Closed), "cut short");
    }

    #[tokio::test]
    async fn a_read_goes_out_as_one_frame() {
        let screen: Vec<u8> = (0..150_000u32).map(|i| i as u8).collect();
        let mut from = &screen[..];
        let mut out = FramesFrom::new();
        let mut wire = Vec::new();
        loop {
            let n = out.read(&mut from).await.unwrap();
            if n == 0 {
                break;
            }
            out.send(n, &mut wire).await.unwrap();
        }
        // 128 KiB, then the rest: each with its header, unmasked.
        let first = MAX_PAYLOAD;
        assert_eq!(&wire[..10], &[&[0x82, 127][..], &(first as u64).to_be_bytes()].concat()[..]);
        assert_eq!(wire[10..10 + first], screen[..first]);
        let rest = &wire[10 + first..];
        let left = screen.len() - first;
        assert_eq!(&rest[..4], &[&[0x82, 126][..], &(left as u16).to_be_bytes()].concat()[..]);
        assert_eq!(rest[4..], screen[first..]);
    }

    /// `wire` as a stream that hands out at most `step` bytes per read.
    fn in_steps(wire: &[u8], step: usize) -> impl AsyncRead + Unpin {
        let (mut writer, reader) = tokio::io::duplex(step);
        let wire = wire.to_vec();
        tokio::spawn(async move { writer.write_all(&wire).await });
        reader
    }
}
