//! `services::console::ConsoleBackend` on Proxmox: `vncproxy` (websocket=1), then
//! the `vncwebsocket` with the API token and the one-time PVEVNC ticket, over the
//! same TLS verification as every other call. Neither leaves this module.

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::ServerName;
use services::console::{ConsoleBackend, ConsoleChannel, ConsoleError, ConsoleSink, ConsoleSource, ConsoleTarget};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::PveClient;

/// A plain or TLS connection to Proxmox.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

type Socket = WebSocketStream<Box<dyn Io>>;

pub struct ProxmoxConsole {
    client: Arc<PveClient>,
}

impl ProxmoxConsole {
    pub fn new(client: Arc<PveClient>) -> ProxmoxConsole {
        ProxmoxConsole { client }
    }

    async fn connect(&self, target: &ConsoleTarget) -> Result<Socket, String> {
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
        Ok(socket)
    }
}

struct Sink(SplitSink<Socket, Message>);
struct Source(SplitStream<Socket>);

#[async_trait]
impl ConsoleSink for Sink {
    async fn send(&mut self, bytes: Vec<u8>) -> Result<(), ConsoleError> {
        self.0.send(Message::binary(bytes)).await.map_err(|e| ConsoleError::Unavailable { reason: e.to_string() })
    }

    async fn close(&mut self) {
        let _ = self.0.close().await;
    }
}

#[async_trait]
impl ConsoleSource for Source {
    async fn recv(&mut self) -> Option<Vec<u8>> {
        loop {
            match self.0.next().await? {
                Ok(Message::Binary(bytes)) => return Some(bytes.to_vec()),
                Ok(Message::Text(text)) => return Some(text.as_bytes().to_vec()),
                Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
                Ok(Message::Close(_)) | Err(_) => return None,
            }
        }
    }
}

#[async_trait]
impl ConsoleBackend for ProxmoxConsole {
    async fn open(&self, target: &ConsoleTarget) -> Result<ConsoleChannel, ConsoleError> {
        let socket = self.connect(target).await.map_err(|reason| ConsoleError::Unavailable { reason })?;
        let (sink, source) = socket.split();
        Ok(ConsoleChannel { to_vm: Box::new(Sink(sink)), from_vm: Box::new(Source(source)) })
    }
}
