//! A Proxmox VE simulator: the subset of `/api2/json` that OpenVLE uses, with Proxmox's
//! answer shapes, error messages and status codes, and the behaviour of a real cluster
//! under class-sized load (lock timeouts, VMID races, slow per-VM polling).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use sim::proxmox::{SimConfig, Simulator};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let running = Simulator::new(SimConfig::demo()).expect("valid config").start(listener)?;
//! println!("Proxmox VE simulator at {}", running.base_url());
//! running.stop().await?;
//! # Ok(()) }
//! ```

mod auth;
pub mod cli;
mod config;
pub mod console;
mod error;
mod faults;
mod params;
mod routes;
mod state;
mod tasks;
mod websocket;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::{Mutex as AsyncMutex, Semaphore, watch};
use tokio::task::JoinHandle;

pub use config::{
    DEMO_POOL, DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET, DEMO_USER, FaultConfig, FaultRule, NodeSpec, PoolSpec, SimConfig,
    StorageSpec, Timings, TokenSpec, VmSpec,
};

use faults::Faults;
use state::{Cluster, Persisted, Vm};
use tasks::TaskRegistry;

/// How often a configured state file is rewritten when something changed.
const AUTOSAVE_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid simulator configuration: {0}")]
    Config(String),
    #[error("state file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("state file {path} is not valid: {source}")]
    StateFormat {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("no node named {0:?}")]
    UnknownNode(String),
    #[error("VM {0} already exists")]
    VmExists(u32),
    #[error("cannot serve on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Locks a std mutex, ignoring poisoning: a panicked handler must not take the whole
/// simulator down, and the data stays consistent because no lock is held across a
/// partial update that could panic.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The simulated cluster. Cheap to clone; clones share the same cluster.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

struct Inner {
    config: SimConfig,
    cluster: Mutex<Cluster>,
    tasks: Mutex<TaskRegistry>,
    faults: Mutex<Faults>,
    /// Limits concurrently running tasks per node.
    node_slots: HashMap<String, Arc<Semaphore>>,
    /// VM and storage file locks (`/var/lock/qemu-server/...`), by key.
    file_locks: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
    shutdown: watch::Sender<bool>,
    epoch: Instant,
    /// VNC servers and tickets behind `vncproxy` / `vncwebsocket`.
    consoles: console::Consoles,
}

impl Simulator {
    /// Builds the cluster from `config`, or from its state file when that exists.
    pub fn new(config: SimConfig) -> Result<Simulator, SimError> {
        validate(&config)?;
        let mut cluster = Cluster::new(&config);
        if let Some(path) = config.state_file.as_deref().filter(|p| p.exists()) {
            cluster.restore(load_state(path)?);
        }
        let node_slots = config
            .nodes
            .iter()
            .map(|n| {
                let slots = config.timings.max_tasks_per_node.max(1) as usize;
                (n.name.clone(), Arc::new(Semaphore::new(slots)))
            })
            .collect();
        let faults = Faults::new(config.faults.rules.clone(), config.faults.seed);
        Ok(Simulator {
            inner: Arc::new(Inner {
                cluster: Mutex::new(cluster),
                tasks: Mutex::new(TaskRegistry::default()),
                faults: Mutex::new(faults),
                node_slots,
                file_locks: Mutex::new(HashMap::new()),
                shutdown: watch::channel(false).0,
                epoch: Instant::now(),
                consoles: console::Consoles::default(),
                config,
            }),
        })
    }

    pub fn config(&self) -> &SimConfig {
        &self.inner.config
    }

    /// The axum router serving `/api2/json/...`, to mount elsewhere if wanted.
    pub fn router(&self) -> axum::Router {
        routes::router(self.clone())
    }

    /// Serves until [`Simulator::shutdown`] is called, then saves the state file if one
    /// is configured. Requests that hang by fault injection are released at shutdown.
    pub async fn serve(&self, listener: TcpListener) -> std::io::Result<()> {
        let autosave = self.inner.config.state_file.clone().map(|path| {
            let sim = self.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(AUTOSAVE_EVERY);
                loop {
                    tick.tick().await;
                    if let Err(e) = sim.save_if_dirty(&path) {
                        tracing::warn!(target: "sim::proxmox", error = %e, "autosave failed");
                    }
                }
            })
        });
        let mut stop = self.inner.shutdown.subscribe();
        // No Nagle delay on the console sockets, as on a real node.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let result = axum::serve(listener, self.router())
            .with_graceful_shutdown(async move {
                // Either the flag turns true or the sender is gone; both mean stop.
                let _ = stop.wait_for(|stopped| *stopped).await;
            })
            .await;
        if let Some(task) = autosave {
            task.abort();
        }
        self.inner.consoles.stop_all().await;
        if let Some(path) = &self.inner.config.state_file
            && let Err(e) = self.save_state(path)
        {
            tracing::warn!(target: "sim::proxmox", error = %e, "saving state at shutdown failed");
        }
        result
    }

    /// Serves in the background; for tests and the in-process demo.
    pub fn start(self, listener: TcpListener) -> std::io::Result<RunningSimulator> {
        let addr = listener.local_addr()?;
        let sim = self.clone();
        let handle = tokio::spawn(async move { sim.serve(listener).await });
        Ok(RunningSimulator { addr, simulator: self, handle })
    }

    /// Asks [`Simulator::serve`] to finish.
    pub fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }

    pub(crate) async fn wait_for_shutdown(&self) {
        let mut stop = self.inner.shutdown.subscribe();
        let _ = stop.wait_for(|stopped| *stopped).await;
    }

    /// Adds a VM directly (no task), e.g. one outside the pool for a confinement test.
    pub fn add_vm(&self, spec: VmSpec) -> Result<(), SimError> {
        let mut cluster = lock(&self.inner.cluster);
        if cluster.node(&spec.node).is_none() {
            return Err(SimError::UnknownNode(spec.node));
        }
        if cluster.storage(&spec.storage).is_none() {
            return Err(SimError::Config(format!("VM {}: no storage named {:?}", spec.vmid, spec.storage)));
        }
        if cluster.vms.contains_key(&spec.vmid) {
            return Err(SimError::VmExists(spec.vmid));
        }
        if let Some(pool) = &spec.pool {
            cluster.pools.entry(pool.clone()).or_default();
        }
        let mut vm = Vm::from_spec(&spec);
        if vm.is_running() {
            let now = Instant::now();
            vm.started_at = Some(now);
            vm.agent_ready_at = Some(now);
        }
        cluster.vms.insert(vm.vmid, vm);
        cluster.dirty = true;
        Ok(())
    }

    pub fn vm_count(&self) -> usize {
        lock(&self.inner.cluster).vms.len()
    }

    /// How many VMs have a VNC server (Xvnc) running for their console.
    pub async fn console_servers(&self) -> usize {
        self.inner.consoles.running().await
    }

    /// Takes a node down (requests for it fail with 595, it shows `offline`) or up.
    pub fn set_node_online(&self, node: &str, online: bool) -> Result<(), SimError> {
        let mut cluster = lock(&self.inner.cluster);
        let state =
            cluster.nodes.iter_mut().find(|n| n.name == node).ok_or_else(|| SimError::UnknownNode(node.to_owned()))?;
        state.online = online;
        Ok(())
    }

    /// Replaces the injected fault rules.
    pub fn set_fault_rules(&self, rules: Vec<FaultRule>) {
        lock(&self.inner.faults).rules = rules;
    }

    /// Writes pools and VMs to `path` (atomically, through a temporary file).
    pub fn save_state(&self, path: &Path) -> Result<(), SimError> {
        let snapshot = {
            let mut cluster = lock(&self.inner.cluster);
            cluster.dirty = false;
            cluster.persisted()
        };
        let io = |source| SimError::Io { path: path.to_owned(), source };
        let json = serde_json::to_vec_pretty(&snapshot)
            .map_err(|source| SimError::StateFormat { path: path.to_owned(), source })?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, json).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    fn save_if_dirty(&self, path: &Path) -> Result<(), SimError> {
        if lock(&self.inner.cluster).dirty { self.save_state(path) } else { Ok(()) }
    }
}

fn load_state(path: &Path) -> Result<Persisted, SimError> {
    let bytes = std::fs::read(path).map_err(|source| SimError::Io { path: path.to_owned(), source })?;
    serde_json::from_slice(&bytes).map_err(|source| SimError::StateFormat { path: path.to_owned(), source })
}

fn validate(config: &SimConfig) -> Result<(), SimError> {
    if !(config.time_scale.is_finite() && config.time_scale >= 0.0) {
        return Err(SimError::Config(format!("time_scale must be >= 0, got {}", config.time_scale)));
    }
    if config.nodes.is_empty() {
        return Err(SimError::Config("at least one node is needed".into()));
    }
    for vm in &config.vms {
        if !config.nodes.iter().any(|n| n.name == vm.node) {
            return Err(SimError::UnknownNode(vm.node.clone()));
        }
        if !config.storages.iter().any(|s| s.name == vm.storage) {
            return Err(SimError::Config(format!("VM {}: no storage named {:?}", vm.vmid, vm.storage)));
        }
    }
    Ok(())
}

/// A simulator serving in the background.
pub struct RunningSimulator {
    addr: SocketAddr,
    simulator: Simulator,
    handle: JoinHandle<std::io::Result<()>>,
}

impl RunningSimulator {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, what `PVE_HOSTNAME` should be set to.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn simulator(&self) -> &Simulator {
        &self.simulator
    }

    /// Shuts the server down and waits for it (and for the final state save).
    pub async fn stop(self) -> std::io::Result<()> {
        self.simulator.shutdown();
        match self.handle.await {
            Ok(result) => result,
            Err(join) => Err(std::io::Error::other(join)),
        }
    }
}
