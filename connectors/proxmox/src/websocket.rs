//! WebSocket frames (RFC 6455 section 5), as much as the console relay needs.
//!
//! Why not a WebSocket library for this: the relay passes frames through
//! unchanged. A browser's frames are masked client frames, which is what
//! Proxmox's `vncwebsocket` expects from OpenVLE as its client; Proxmox's frames
//! are unmasked server frames, which is what the browser expects from OpenVLE.
//! So after the RFB security handshake (which OpenVLE answers itself, see
//! [`crate::console`]) the relay copies bytes, and only the handshake needs
//! frames taken apart. A library decodes and re-encodes every frame; on a 2-core
//! machine that cost the relay a quarter of its throughput. Extensions are never
//! negotiated on either side, so frames carry no compression.

use tokio::io::{AsyncRead, AsyncReadExt};

pub const OP_CONTINUATION: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// The longest frame a handshake reads whole: the RFB handshake's messages are
/// a few bytes; anything longer is not a console.
pub const HANDSHAKE_FRAME_MAX: u64 = 64 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("a WebSocket frame with reserved bits set (no extension was negotiated)")]
    ReservedBits,
    #[error("a WebSocket frame of {0} bytes during the handshake")]
    TooLong(u64),
    #[error("the WebSocket closed")]
    Closed,
    #[error("WebSocket: {0}")]
    Io(String),
}

/// A frame's header: what comes before its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    pub fin: bool,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    pub payload_len: u64,
    /// Bytes of the header itself (2 to 14).
    pub header_len: usize,
}

impl FrameHeader {
    /// The header at the start of `bytes`, or `None` while it is incomplete.
    pub fn parse(bytes: &[u8]) -> Result<Option<FrameHeader>, FrameError> {
        let [first, second, ..] = *bytes else { return Ok(None) };
        if first & 0x70 != 0 {
            return Err(FrameError::ReservedBits);
        }
        let masked = second & 0x80 != 0;
        let (payload_len, mut at) = match second & 0x7F {
            126 => match bytes.get(2..4) {
                Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
                None => return Ok(None),
            },
            127 => match bytes.get(2..10) {
                Some(b) => (u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]), 10),
                None => return Ok(None),
            },
            short => (u64::from(short), 2),
        };
        let mask = if masked {
            let Some(key) = bytes.get(at..at + 4) else { return Ok(None) };
            at += 4;
            Some([key[0], key[1], key[2], key[3]])
        } else {
            None
        };
        Ok(Some(FrameHeader { fin: first & 0x80 != 0, opcode: first & 0x0F, mask, payload_len, header_len: at }))
    }
}

/// One whole frame: `fin`, `opcode` and a payload with `mask` applied.
pub fn encode(opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 14);
    frame.push(0x80 | opcode);
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        len @ 0..=125 => frame.push(mask_bit | len as u8),
        len @ 126..=0xFFFF => {
            frame.push(mask_bit | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            frame.push(mask_bit | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    let start = frame.len() + mask.map_or(0, |key| key.len());
    if let Some(key) = mask {
        frame.extend_from_slice(&key);
    }
    frame.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut frame[start..], key);
    }
    frame
}

/// Masks or unmasks (the same operation) a payload that starts at its first byte.
pub fn apply_mask(payload: &mut [u8], key: [u8; 4]) {
    for (i, byte) in payload.iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}

/// A frame read whole during a handshake, its payload unmasked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

/// Reads whole frames from a stream, for the handshakes. What it read past the
/// last frame it returned stays in [`FrameReader::buffered`]: it starts at a
/// frame boundary, so the relay can pass it on as it is.
pub struct FrameReader {
    buffer: Vec<u8>,
}

impl FrameReader {
    /// `buffered`: bytes already read from the stream (after an HTTP upgrade).
    pub fn new(buffered: Vec<u8>) -> FrameReader {
        FrameReader { buffer: buffered }
    }

    pub async fn frame(&mut self, stream: &mut (impl AsyncRead + Unpin)) -> Result<Frame, FrameError> {
        loop {
            if let Some(header) = FrameHeader::parse(&self.buffer)? {
                if header.payload_len > HANDSHAKE_FRAME_MAX {
                    return Err(FrameError::TooLong(header.payload_len));
                }
                let end = header.header_len + header.payload_len as usize;
                if self.buffer.len() >= end {
                    let mut payload: Vec<u8> = self.buffer.drain(..end).skip(header.header_len).collect();
                    if let Some(key) = header.mask {
                        apply_mask(&mut payload, key);
                    }
                    return Ok(Frame { fin: header.fin, opcode: header.opcode, payload });
                }
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) => return Err(FrameError::Closed),
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(FrameError::Io(e.to_string())),
            }
        }
    }

    /// Bytes read past the last frame returned (from a frame boundary on).
    pub fn buffered(self) -> Vec<u8> {
        self.buffer
    }
}

/// Follows frame boundaries in a stream of frames passed on unread, so the
/// relay knows whether it may add a frame of its own (a Close when the other
/// side went away without one) and whether a Close went by.
#[derive(Default)]
pub struct FrameBoundaries {
    /// Header bytes of a frame whose header is split across reads.
    header: Vec<u8>,
    /// Payload bytes of the current frame still to come.
    payload_left: u64,
    closed: bool,
}

impl FrameBoundaries {
    pub fn advance(&mut self, mut bytes: &[u8]) -> Result<(), FrameError> {
        while !bytes.is_empty() {
            if self.payload_left > 0 {
                let skip = self.payload_left.min(bytes.len() as u64);
                self.payload_left -= skip;
                bytes = &bytes[skip as usize..];
                continue;
            }
            // A header: at most 14 bytes, perhaps split between reads.
            let before = self.header.len();
            let take = (14 - before).min(bytes.len());
            self.header.extend_from_slice(&bytes[..take]);
            match FrameHeader::parse(&self.header)? {
                Some(header) => {
                    bytes = &bytes[header.header_len - before..];
                    self.header.clear();
                    self.payload_left = header.payload_len;
                    self.closed |= header.opcode == OP_CLOSE;
                }
                None => {
                    bytes = &bytes[take..];
                }
            }
        }
        Ok(())
    }

    /// Between two frames: a frame of our own would not cut into another.
    pub fn at_boundary(&self) -> bool {
        self.header.is_empty() && self.payload_left == 0
    }

    /// A Close frame went by.
    pub fn closed(&self) -> bool {
        self.closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_every_length_and_masking() {
        for len in [0usize, 5, 125, 126, 65_535, 65_536, 200_000] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            for mask in [None, Some([1, 2, 3, 4])] {
                let frame = encode(OP_BINARY, &payload, mask);
                let header = FrameHeader::parse(&frame).unwrap().unwrap();
                assert_eq!((header.fin, header.opcode, header.mask), (true, OP_BINARY, mask));
                assert_eq!(header.payload_len, len as u64);
                assert_eq!(frame.len(), header.header_len + len);
                let mut body = frame[header.header_len..].to_vec();
                if let Some(key) = mask {
                    assert!(len == 0 || body != payload, "masked on the wire");
                    apply_mask(&mut body, key);
                }
                assert_eq!(body, payload);
                // Any shorter prefix of the header is incomplete, not an error.
                for cut in 0..header.header_len {
                    assert_eq!(FrameHeader::parse(&frame[..cut]), Ok(None));
                }
            }
        }
        assert_eq!(FrameHeader::parse(&[0xC2, 0]), Err(FrameError::ReservedBits), "RSV1: compression");
    }

    #[tokio::test]
    async fn the_reader_returns_frames_and_keeps_what_follows() {
        let mut wire = encode(OP_BINARY, b"RFB 003.008\n", Some([9, 8, 7, 6]));
        wire.extend(encode(OP_PING, b"", Some([1, 1, 1, 1])));
        let rest = encode(OP_BINARY, &[1, 2, 3], None);
        wire.extend_from_slice(&rest[..3]);
        let (first, second) = wire.split_at(5);
        let mut reader = FrameReader::new(first.to_vec());
        let mut stream = second;
        let frame = reader.frame(&mut stream).await.unwrap();
        assert_eq!(frame, Frame { fin: true, opcode: OP_BINARY, payload: b"RFB 003.008\n".to_vec() });
        assert_eq!(reader.frame(&mut stream).await.unwrap().opcode, OP_PING);
        assert_eq!(reader.frame(&mut stream).await, Err(FrameError::Closed), "a frame cut short");
        assert_eq!(reader.buffered(), rest[..3]);
        let long = encode(OP_BINARY, &vec![0; 70_000], None);
        assert_eq!(FrameReader::new(long).frame(&mut &b""[..]).await, Err(FrameError::TooLong(70_000)));
    }

    #[test]
    fn boundaries_are_followed_across_any_split() {
        let mut wire = encode(OP_BINARY, &vec![7; 300], None);
        wire.extend(encode(OP_BINARY, &vec![8; 70_000], Some([1, 2, 3, 4])));
        let data_end = wire.len();
        wire.extend(encode(OP_CLOSE, &[3, 232], None));
        for step in [1, 2, 3, 13, 127, 4096, wire.len()] {
            let mut boundaries = FrameBoundaries::default();
            let mut fed = 0;
            for chunk in wire.chunks(step) {
                boundaries.advance(chunk).unwrap();
                fed += chunk.len();
                if fed == data_end {
                    assert!(boundaries.at_boundary() && !boundaries.closed(), "step {step}");
                }
            }
            assert!(boundaries.at_boundary() && boundaries.closed(), "step {step}");
        }
        let mut cut = FrameBoundaries::default();
        cut.advance(&wire[..301]).unwrap();
        assert!(!cut.at_boundary(), "inside the second frame's header");
    }
}
