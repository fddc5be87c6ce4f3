//! VM consoles: what `vncproxy` + `vncwebsocket` lead to. Each running VM whose
//! console is opened gets a real VNC server, TigerVNC's `Xvnc` on a loopback port
//! (Debian `tigervnc-standalone-server`), so a console shows real pixels; it is
//! stopped when the VM stops (or the simulator ends), which closes every socket
//! relayed to it.
//!
//! Servers start at the first `vncproxy` of a running VM rather than at every VM
//! start: a 500-VM class would otherwise run 500 X servers nobody looks at. Without
//! `Xvnc` the simulator works as before; only `vncwebsocket` answers with a message
//! naming the missing package.
//!
//! `vncproxy` tickets (`PVEVNC:...`) are remembered with their VM, port and user,
//! valid for the proxy's lifetime and usable once, as Proxmox's proxy accepts one
//! connection.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use super::state::Power;
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

    /// Takes a valid ticket for this VM, port and user (once).
    pub fn redeem(&self, ticket: &str, node: &str, vmid: u32, port: u32, user: &str) -> bool {
        let mut tickets = lock(&self.tickets);
        match tickets.get(ticket) {
            Some(t)
                if t.node == node
                    && t.vmid == vmid
                    && t.port == port
                    && t.user == user
                    && t.expires > Instant::now() =>
            {
                tickets.remove(ticket);
                true
            }
            _ => false,
        }
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

/// Relays WebSocket binary frames to the VNC server and back until either side ends.
pub(crate) async fn relay(mut socket: WebSocket, port: u16) {
    let Ok(tcp) = TcpStream::connect(("127.0.0.1", port)).await else {
        let _ = socket.send(Message::Close(None)).await;
        return;
    };
    let (mut from_vnc, mut to_vnc) = tcp.into_split();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        tokio::select! {
            read = from_vnc.read(&mut buffer) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if socket.send(Message::Binary(buffer[..n].to_vec().into())).await.is_err() {
                        return;
                    }
                }
            },
            message = socket.recv() => match message {
                Some(Ok(Message::Binary(bytes))) => {
                    if to_vnc.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Text(text))) => {
                    if to_vnc.write_all(text.as_bytes()).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
            },
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

impl Simulator {
    /// Uses `binary` as the VNC server instead of the `Xvnc` found on the PATH;
    /// `None` runs the simulator as on a machine without one.
    pub fn set_vnc_server_binary(&self, binary: Option<PathBuf>) {
        *lock(&self.inner.consoles.binary) = Some(binary);
    }
}
