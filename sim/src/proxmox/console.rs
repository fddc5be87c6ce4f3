//! VM consoles: what `vncproxy` + `vncwebsocket` lead to. Each running VM whose
//! console is opened gets a real VNC server, TigerVNC's `Xvnc` on a loopback port
//! (Debian `tigervnc-standalone-server`), so a console shows real pixels; it is
//! stopped when the VM stops (or the simulator ends), which closes every socket
//! relayed to it.
//!
//! With `consoles_at_start` (the demo) a VM's server starts with the VM, as
//! Proxmox's QEMU VNC server does; otherwise at the first `vncproxy` of a running
//! VM, since a 500-VM benchmark class would run 500 X servers nobody looks at.
//! Without `Xvnc` the simulator works as before; only `vncwebsocket` answers with
//! a message naming the missing package.
//!
//! `vncproxy` tickets (`PVEVNC:...`) are remembered with their VM, port and user,
//! valid for the proxy's lifetime and usable once, as Proxmox's proxy accepts one
//! connection. The ticket is also the VNC password: the WebSocket's RFB handshake
//! asks for VNC authentication, as Proxmox's QEMU VNC server does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use super::state::Power;
use super::websocket::{self, ClientFrame, ClientFrames, Dropped, FramesFrom, OP_BINARY, OP_PONG};
use super::{Simulator, lock};

/// Set to a path to use another Xvnc binary (or to a missing one to test without).
pub const XVNC_ENV: &str = "OPENVLE_SIM_XVNC";

#[derive(Clone, Debug)]
pub(crate) struct Ticket {
    pub node: String,
    pub vmid: u32,
    pub port: u32,
    pub user: String,
    pub expires: Instant,
}

/// Whether checking a ticket uses it up: Proxmox's VNC proxy takes one connection.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Redeem {
    Yes,
    No,
}

struct XvncServer {
    port: u16,
    child: Child,
}

#[derive(Default)]
pub(crate) struct Consoles {
    /// Set by [`Simulator::set_vnc_server_binary`]; otherwise looked up.
    binary: Mutex<Option<Option<PathBuf>>>,
    tickets: Mutex<HashMap<String, Ticket>>,
    servers: tokio::sync::Mutex<HashMap<u32, XvncServer>>,
}

/// The Xvnc binary, from `OPENVLE_SIM_XVNC` or the PATH.
pub fn xvnc_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(XVNC_ENV) {
        let path = PathBuf::from(path);
        return path.is_file().then_some(path);
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths).map(|dir| dir.join("Xvnc")).find(|p| p.is_file())
}

pub(crate) const NO_XVNC: &str = "no VNC server for the console: install Xvnc (Debian package tigervnc-standalone-server, `scripts/setup --test`) on the simulator's machine";

impl Consoles {
    pub fn remember(&self, ticket: String, details: Ticket) {
        let mut tickets = lock(&self.tickets);
        let now = Instant::now();
        tickets.retain(|_, t| t.expires > now);
        tickets.insert(ticket, details);
    }

    /// Whether `ticket` is valid for this VM, port and user; one that opens a
    /// console is used up.
    pub fn check_ticket(&self, ticket: &str, node: &str, vmid: u32, port: u32, user: &str, redeem: Redeem) -> bool {
        let mut tickets = lock(&self.tickets);
        let valid = tickets.get(ticket).is_some_and(|t| {
            t.node == node && t.vmid == vmid && t.port == port && t.user == user && t.expires > Instant::now()
        });
        if valid && redeem == Redeem::Yes {
            tickets.remove(ticket);
        }
        valid
    }

    /// The loopback port of the VM's VNC server, starting one if needed.
    pub async fn server_port(&self, sim: &Simulator, vmid: u32, name: &str) -> Result<u16, String> {
        let mut servers = self.servers.lock().await;
        if let Some(server) = servers.get_mut(&vmid) {
            if matches!(server.child.try_wait(), Ok(None)) {
                return Ok(server.port);
            }
            servers.remove(&vmid);
        }
        let chosen = lock(&self.binary).clone();
        let binary = chosen.unwrap_or_else(xvnc_binary).ok_or_else(|| NO_XVNC.to_owned())?;
        let server = start_xvnc(&binary, name).await?;
        let port = server.port;
        servers.insert(vmid, server);
        drop(servers);
        let sim = sim.clone();
        tokio::spawn(async move { watch_vm(sim, vmid).await });
        Ok(port)
    }

    /// VNC servers still running (an exited one does not count).
    pub async fn running(&self) -> usize {
        let mut servers = self.servers.lock().await;
        servers.values_mut().map(|s| matches!(s.child.try_wait(), Ok(None))).filter(|alive| *alive).count()
    }

    async fn stop(&self, vmid: u32) {
        if let Some(mut server) = self.servers.lock().await.remove(&vmid) {
            let _ = server.child.kill().await;
        }
    }

    pub async fn stop_all(&self) {
        let mut servers = self.servers.lock().await;
        for (_, mut server) in servers.drain() {
            let _ = server.child.kill().await;
        }
    }
}

/// Stops the VM's VNC server once the VM no longer runs (or the simulator stops).
async fn watch_vm(sim: Simulator, vmid: u32) {
    loop {
        let running = lock(&sim.inner.cluster).vms.get(&vmid).is_some_and(|vm| vm.power == Power::Running);
        if !running {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = sim.wait_for_shutdown() => break,
        }
    }
    sim.inner.consoles.stop(vmid).await;
}

/// A display number no other X server holds (their lock files are in /tmp).
fn free_display() -> Option<u32> {
    (100..400).find(|n| !Path::new(&format!("/tmp/.X{n}-lock")).exists())
}

async fn free_port() -> Result<u16, String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

async fn start_xvnc(binary: &Path, name: &str) -> Result<XvncServer, String> {
    // Two simulators may pick the same display at once; Xvnc then exits, and we retry.
    for _ in 0..5 {
        let display = free_display().ok_or("no free X display between :100 and :399")?;
        let port = free_port().await?;
        let mut child = Command::new(binary)
            .arg(format!(":{display}"))
            .args(["-geometry", "1024x768", "-depth", "24", "-rfbport", &port.to_string()])
            .args(["-localhost", "-interface", "127.0.0.1", "-SecurityTypes", "None", "-AlwaysShared"])
            .args(["-nolisten", "tcp", "-desktop", name])
            // X's classic grey stipple instead of a black root window: with no
            // desktop running, a connected console still shows visible pixels.
            .arg("-retro")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !matches!(child.try_wait(), Ok(None)) {
                break;
            }
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Ok(XvncServer { port, child });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill().await;
    }
    Err("Xvnc did not start listening".into())
}

/// What Proxmox's VNC proxy does with one WebSocket (the framing rules are in
/// [`super::websocket`]): asks the client for VNC authentication with the ticket
/// as password (as Proxmox's noVNC page answers), then relays the client's frames
/// to the VM's VNC server and what it writes back, until either side ends. The
/// simulator does the security handshake with Xvnc (None) itself.
pub(crate) async fn relay(client: impl AsyncRead + AsyncWrite + Unpin, port: u16, ticket: String) {
    let Ok(mut tcp) = TcpStream::connect(("127.0.0.1", port)).await else { return };
    let (mut from_client, mut to_client) = tokio::io::split(client);
    let mut frames = ClientFrames::default();
    let mut pending = Vec::new();
    let authenticated = match xvnc_handshake(&mut tcp).await {
        Ok(()) => {
            let mut client = Client { reading: &mut from_client, writing: &mut to_client, frames: &mut frames };
            client.handshake(&mut pending, ticket.as_bytes()).await
        }
        Err(_) => false,
    };
    if !authenticated || tcp.write_all(&pending).await.is_err() {
        return;
    }
    let (mut from_vnc, mut to_vnc) = tcp.into_split();
    let mut screen = FramesFrom::new();
    loop {
        tokio::select! {
            read = screen.read(&mut from_vnc) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if screen.send(n, &mut to_client).await.is_err() {
                        return;
                    }
                }
            },
            frame = frames.next(&mut from_client) => match frame {
                Ok(ClientFrame::Data(bytes)) => {
                    if to_vnc.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
                Ok(ClientFrame::Ping(payload)) => {
                    if websocket::send(&mut to_client, OP_PONG, &payload).await.is_err() {
                        return;
                    }
                }
                Ok(ClientFrame::Pong) => {}
                Err(Dropped::Closed) => {
                    let _ = tokio::join!(to_vnc.shutdown(), to_client.shutdown());
                    return;
                }
                Err(Dropped::Refused(reason)) => {
                    tracing::debug!(target: "sim::console", reason, "console dropped");
                    return;
                }
            },
        }
    }
}

/// RFB 3.8 with Xvnc up to ServerInit's request: version, security None, result.
async fn xvnc_handshake(tcp: &mut TcpStream) -> std::io::Result<()> {
    let mut version = [0u8; 12];
    tcp.read_exact(&mut version).await?;
    tcp.write_all(b"RFB 003.008\n").await?;
    let count = tcp.read_u8().await? as usize;
    let mut types = vec![0u8; count];
    tcp.read_exact(&mut types).await?;
    if !types.contains(&1) {
        return Err(std::io::Error::other("Xvnc does not offer security None"));
    }
    tcp.write_all(&[1]).await?;
    if tcp.read_u32().await? != 0 {
        return Err(std::io::Error::other("Xvnc refused security None"));
    }
    Ok(())
}

/// The client's side of the WebSocket during the RFB handshake.
struct Client<'a, R, W> {
    reading: &'a mut R,
    writing: &'a mut W,
    frames: &'a mut ClientFrames,
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Client<'_, R, W> {
    async fn send(&mut self, bytes: &[u8]) -> bool {
        websocket::send(self.writing, OP_BINARY, bytes).await.is_ok()
    }

    /// Bytes from the client's frames until `buffer` holds `n`; `None` if it went away.
    async fn bytes(&mut self, buffer: &mut Vec<u8>, n: usize) -> Option<Vec<u8>> {
        while buffer.len() < n {
            match self.frames.next(self.reading).await.ok()? {
                ClientFrame::Data(bytes) => buffer.extend_from_slice(&bytes),
                ClientFrame::Ping(payload) => websocket::send(self.writing, OP_PONG, &payload).await.ok()?,
                ClientFrame::Pong => {}
            }
        }
        Some(buffer.drain(..n).collect())
    }

    /// VNC authentication with the ticket; leaves any bytes the client sent beyond
    /// it in `buffer`.
    async fn handshake(&mut self, buffer: &mut Vec<u8>, password: &[u8]) -> bool {
        if !self.send(b"RFB 003.008\n").await {
            return false;
        }
        let Some(version) = self.bytes(buffer, 12).await else { return false };
        if !version.starts_with(b"RFB 003.") || !self.send(&[1, 2]).await {
            return false;
        }
        if self.bytes(buffer, 1).await != Some(vec![2]) {
            return false;
        }
        let challenge: [u8; 16] = rand::random();
        if !self.send(&challenge).await {
            return false;
        }
        let Some(response) = self.bytes(buffer, 16).await else { return false };
        if response != des_challenge(password, &challenge) {
            let reason = b"Authentication failure";
            let mut answer = vec![0, 0, 0, 1];
            answer.extend_from_slice(&(reason.len() as u32).to_be_bytes());
            answer.extend_from_slice(reason);
            self.send(&answer).await;
            return false;
        }
        self.send(&[0, 0, 0, 0]).await
    }
}

/// VNC authentication: DES of the challenge under the password's first 8 bytes,
/// each with its bits in reverse order.
fn des_challenge(password: &[u8], challenge: &[u8; 16]) -> Vec<u8> {
    use des::cipher::{BlockEncrypt, KeyInit};
    let mut key = [0u8; 8];
    for (i, slot) in key.iter_mut().enumerate() {
        *slot = password.get(i).copied().unwrap_or(0).reverse_bits();
    }
    let des = des::Des::new(&key.into());
    let mut out = challenge.to_vec();
    for block in out.chunks_mut(8) {
        des.encrypt_block(des::cipher::generic_array::GenericArray::from_mut_slice(block));
    }
    out
}

impl Simulator {
    /// Uses `binary` as the VNC server instead of the `Xvnc` found on the PATH;
    /// `None` runs the simulator as on a machine without one.
    pub fn set_vnc_server_binary(&self, binary: Option<PathBuf>) {
        *lock(&self.inner.consoles.binary) = Some(binary);
    }
}

impl Simulator {
    /// The loopback port of a VM's running VNC server (for benchmarks comparing a
    /// direct connection with the relayed one).
    pub async fn vnc_server_port(&self, vmid: u32) -> Option<u16> {
        self.inner.consoles.servers.lock().await.get(&vmid).map(|server| server.port)
    }
}
