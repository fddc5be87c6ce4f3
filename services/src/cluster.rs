//! The Proxmox VE cluster: the connection administrators edit, and what the
//! UI reads from the cluster (version, nodes, templates).
//!
//! The connection in use is the one saved in the database; until one is
//! saved, the one configured in the environment (`PVE_*`). The token secret
//! is stored encrypted ([`crate::secrets`]) and never leaves the server.
//! [`ClusterHandle`] holds the client built from the current connection;
//! every replica compares the stored revision on use and rebuilds its client
//! when another one saved a new connection.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use domain::access::ObjectType;
use domain::activity::ActivityTarget;
use domain::cluster::{
    ClusterProblem, ConnectionInput, ConnectionSource, ConnectionTest, ConnectionView, DEFAULT_POOL, NodeView,
    TemplateView,
};
use domain::error::Problem;
use domain::time::Timestamp;
use domain::{Action, Actor, AppError, Target};

use crate::console::{ConsoleChannel, ConsoleError, ConsoleTarget};
use crate::ports::StoreError;
use crate::secrets::{SecretError, SecretKey};
use crate::{Services, authorize};

/// What the token secret is encrypted for (bound to the ciphertext).
pub const SECRET_PURPOSE: &str = "openvle/proxmox-token-secret";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterVersion {
    pub version: String,
    pub release: String,
}

/// One Proxmox VE cluster, confined to our pool. Implemented by the Proxmox
/// connector; errors are already classified for people.
#[async_trait]
pub trait Cluster: Send + Sync {
    async fn version(&self) -> Result<ClusterVersion, ClusterProblem>;
    /// Every node with its load and the number of our pool's guests on it.
    async fn nodes(&self) -> Result<Vec<NodeView>, ClusterProblem>;
    /// The template VMs of our pool.
    async fn templates(&self) -> Result<Vec<TemplateView>, ClusterProblem>;

    // ----- provisioning (see `crate::provisioning`) -----------------------------
    // Every operation that starts a Proxmox task waits for it to end. The
    // defaults refuse, so clients that only read (fakes in tests) need not
    // implement them.

    /// Nodes, storages and our pool's guests from one `/cluster/resources`
    /// call: the bulk state provisioning reads instead of polling each VM.
    async fn inventory(&self) -> Result<Inventory, VmError> {
        Err(VmError::unsupported())
    }
    /// The storage holding the first disk of a VM (a template's, for clones).
    async fn disk_storage(&self, _node: &str, _vmid: u32) -> Result<String, VmError> {
        Err(VmError::unsupported())
    }
    /// A free VMID; not reserved, so a clone may still find it taken.
    async fn next_vmid(&self) -> Result<u32, VmError> {
        Err(VmError::unsupported())
    }
    async fn clone_vm(&self, _spec: &CloneSpec) -> Result<(), VmError> {
        Err(VmError::unsupported())
    }
    async fn configure_vm(&self, _node: &str, _vmid: u32, _settings: &VmSettings) -> Result<(), VmError> {
        Err(VmError::unsupported())
    }
    async fn power(&self, _node: &str, _vmid: u32, _op: PowerOp) -> Result<(), VmError> {
        Err(VmError::unsupported())
    }
    /// Destroys a stopped VM with its disks.
    async fn delete_vm(&self, _node: &str, _vmid: u32) -> Result<(), VmError> {
        Err(VmError::unsupported())
    }
    /// The guest agent's view of the VM's address.
    async fn guest_ip(&self, _node: &str, _vmid: u32) -> Result<GuestIp, VmError> {
        Err(VmError::unsupported())
    }

    /// A byte channel to the VM's console (`crate::console`).
    async fn open_console(&self, _target: &ConsoleTarget) -> Result<ConsoleChannel, ConsoleError> {
        Err(ConsoleError::Unavailable { reason: "this cluster client has no console".into() })
    }

    /// Version and nodes: proves address, TLS and token in one go.
    async fn test(&self) -> Result<ConnectionTest, ClusterProblem> {
        let version = self.version().await?;
        let nodes = self.nodes().await?;
        Ok(ConnectionTest { version: version.version, release: version.release, nodes })
    }
}

/// A node as `/cluster/resources` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeState {
    pub name: String,
    pub online: bool,
    pub mem_used: u64,
    pub mem_total: u64,
}

impl NodeState {
    pub fn mem_free(&self) -> u64 {
        self.mem_total.saturating_sub(self.mem_used)
    }
}

/// A storage as seen from one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageState {
    pub node: String,
    pub name: String,
    /// One storage for the whole cluster (Ceph, NFS): clones may target any node.
    pub shared: bool,
}

/// One guest of our pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestState {
    pub vmid: u32,
    pub name: String,
    pub node: String,
    /// `running`, `stopped`, or `unknown` while its node is offline.
    pub status: String,
    /// The operation holding the VM (`clone`, `destroyed`, ...).
    pub lock: Option<String>,
    pub tags: Vec<String>,
    pub template: bool,
    pub mem_total: u64,
    /// Seconds since it started (running guests).
    pub uptime_secs: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inventory {
    pub nodes: Vec<NodeState>,
    pub storages: Vec<StorageState>,
    pub guests: Vec<GuestState>,
}

impl Inventory {
    pub fn node(&self, name: &str) -> Option<&NodeState> {
        self.nodes.iter().find(|n| n.name == name)
    }
    pub fn guest(&self, vmid: u32) -> Option<&GuestState> {
        self.guests.iter().find(|g| g.vmid == vmid)
    }
    /// Whether `storage` is shared (seen from any node).
    pub fn storage_shared(&self, storage: &str) -> bool {
        self.storages.iter().any(|s| s.name == storage && s.shared)
    }
}

/// A clone to make and wait for; the new VM lands in our pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloneSpec {
    pub source_node: String,
    pub source_vmid: u32,
    pub newid: u32,
    pub name: String,
    pub target_node: String,
    /// Linked (shares the template's disk) or full (copies it).
    pub linked: bool,
    pub description: String,
}

/// Settings applied after a clone; `None` keeps the template's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VmSettings {
    pub cores: Option<u32>,
    pub memory_mib: Option<u64>,
    pub tags: Vec<String>,
    pub description: Option<String>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerOp {
    Start,
    /// ACPI shutdown, forced off if the guest does not react in time.
    Shutdown,
    /// Hard stop.
    Stop,
    Reboot,
    /// Pause (`suspend` in Proxmox).
    Suspend,
    Resume,
    /// Hard reset (power cycle).
    Reset,
}

/// What the guest agent says about a VM's address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GuestIp {
    Address(String),
    /// The agent does not answer yet, or has no IPv4 address yet.
    NotYet,
    /// The VM has no guest agent configured: no address will come.
    NoAgent,
}

/// Why an operation on a VM failed, classified for retrying; `message` is
/// Proxmox's own text where there is one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VmError {
    /// Locked by another task, or a storage lock timed out: try again later.
    #[error("busy: {message}")]
    Busy { message: String },
    /// The VMID was taken between `/cluster/nextid` and the clone.
    #[error("VMID taken: {message}")]
    VmidTaken { message: String },
    #[error("node {node} is offline: {message}")]
    NodeOffline { node: String, message: String },
    /// The VM (or template) does not exist (any more).
    #[error("not found: {message}")]
    Missing { message: String },
    #[error("timed out: {message}")]
    Timeout { message: String },
    /// The cluster could not be reached or refused the token.
    #[error("cluster unreachable: {problem}")]
    Cluster { problem: ClusterProblem },
    /// Any other refusal or failed task.
    #[error("{message}")]
    Failed { message: String },
}

impl VmError {
    fn unsupported() -> VmError {
        VmError::Failed { message: "this cluster client cannot manage VMs".into() }
    }

    /// Whether the same operation may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            VmError::Busy { .. } | VmError::VmidTaken { .. } | VmError::Timeout { .. } | VmError::Cluster { .. }
        )
    }
}

/// Everything needed to reach the cluster, including the secret. Debug
/// output never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterSettings {
    pub url: String,
    /// `user@realm!token`
    pub token_id: String,
    pub secret: String,
    /// `AA:BB:...`
    pub fingerprint: Option<String>,
    pub verify_tls: bool,
    pub pool: String,
}

impl fmt::Debug for ClusterSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterSettings")
            .field("url", &self.url)
            .field("token_id", &self.token_id)
            .field("secret", &"<redacted>")
            .field("fingerprint", &self.fingerprint)
            .field("verify_tls", &self.verify_tls)
            .field("pool", &self.pool)
            .finish()
    }
}

/// Builds a client from settings (no network traffic).
pub trait ClusterConnector: Send + Sync {
    fn connect(&self, settings: &ClusterSettings) -> Result<Arc<dyn Cluster>, ClusterProblem>;
}

/// The saved connection as stored: the secret only encrypted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredConnection {
    pub url: String,
    pub token_id: String,
    /// Sealed with [`SecretKey::seal`] for [`SECRET_PURPOSE`].
    pub secret_sealed: String,
    pub fingerprint: Option<String>,
    pub verify_tls: bool,
    pub pool: String,
    /// Grows with every save; replicas rebuild their client when it changes.
    pub revision: i64,
    pub updated_at: Timestamp,
    pub updated_by: Option<String>,
}

#[async_trait]
pub trait ConnectionRepo: Send + Sync {
    async fn get(&self) -> Result<Option<StoredConnection>, StoreError>;
    /// Replaces the saved connection; the stored revision becomes one more
    /// than before (`revision` of the argument is ignored).
    async fn save(
        &self,
        connection: &StoredConnection,
        activity: Option<&domain::activity::Activity>,
    ) -> Result<(), StoreError>;
}

/// The connection from the environment, with its client (built at start so
/// that options only the environment has, such as a CA file, apply).
#[derive(Clone)]
pub struct EnvironmentCluster {
    pub settings: ClusterSettings,
    pub client: Arc<dyn Cluster>,
}

#[derive(Clone)]
struct Active {
    client: Arc<dyn Cluster>,
}

struct Cached {
    /// The stored revision the state was built from (`None`: nothing saved).
    revision: Option<i64>,
    state: Result<Active, ClusterProblem>,
}

/// The one place that holds the current cluster client; shared by the pages,
/// the readiness check and (later) the worker.
#[derive(Clone, Default)]
pub struct ClusterHandle {
    inner: Arc<HandleInner>,
}

#[derive(Default)]
struct HandleInner {
    connector: Option<Arc<dyn ClusterConnector>>,
    environment: Option<EnvironmentCluster>,
    key: Option<SecretKey>,
    cache: RwLock<Option<Cached>>,
}

impl ClusterHandle {
    /// `key` is `OPENVLE_SECRET_KEY`: without it a saved connection can be
    /// neither stored nor read (the environment's still works).
    pub fn new(
        connector: Arc<dyn ClusterConnector>,
        environment: Option<EnvironmentCluster>,
        key: Option<SecretKey>,
    ) -> ClusterHandle {
        ClusterHandle {
            inner: Arc::new(HandleInner { connector: Some(connector), environment, key, cache: RwLock::new(None) }),
        }
    }

    /// The key secrets stored in the database are sealed with (`OPENVLE_SECRET_KEY`).
    pub(crate) fn secret_key(&self) -> Option<&SecretKey> {
        self.inner.key.as_ref()
    }

    fn cached(&self, revision: Option<i64>) -> Option<Result<Active, ClusterProblem>> {
        let cache = self.inner.cache.read().unwrap_or_else(PoisonError::into_inner);
        cache.as_ref().filter(|c| c.revision == revision).map(|c| c.state.clone())
    }

    fn remember(&self, revision: Option<i64>, state: Result<Active, ClusterProblem>) {
        *self.inner.cache.write().unwrap_or_else(PoisonError::into_inner) = Some(Cached { revision, state });
    }

    fn forget(&self) {
        *self.inner.cache.write().unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn open(&self, stored: &StoredConnection) -> Result<String, ClusterProblem> {
        let key = self.inner.key.as_ref().ok_or(ClusterProblem::SecretKeyMissing)?;
        key.open(SECRET_PURPOSE, &stored.secret_sealed).map_err(|e| match e {
            SecretError::BadKey | SecretError::Unreadable => ClusterProblem::SecretUnreadable,
        })
    }

    fn build(&self, stored: Option<&StoredConnection>) -> Result<Active, ClusterProblem> {
        match stored {
            Some(stored) => {
                let settings = ClusterSettings {
                    url: stored.url.clone(),
                    token_id: stored.token_id.clone(),
                    secret: self.open(stored)?,
                    fingerprint: stored.fingerprint.clone(),
                    verify_tls: stored.verify_tls,
                    pool: stored.pool.clone(),
                };
                let connector = self.inner.connector.as_ref().ok_or(ClusterProblem::NotConfigured)?;
                Ok(Active { client: connector.connect(&settings)? })
            }
            None => match &self.inner.environment {
                Some(env) => Ok(Active { client: env.client.clone() }),
                None => Err(ClusterProblem::NotConfigured),
            },
        }
    }
}

fn cluster_error(problem: ClusterProblem) -> AppError {
    AppError::Cluster { problem }
}

impl Services {
    /// The cluster in use, rebuilt when the saved connection changed (on this
    /// or another replica). For internal callers (readiness, jobs); use cases
    /// check permissions before calling it.
    pub async fn current_cluster(&self) -> Result<Arc<dyn Cluster>, AppError> {
        self.active_cluster().await.map(|active| active.client)
    }

    async fn active_cluster(&self) -> Result<Active, AppError> {
        let stored = self.ports.connection.get().await?;
        let revision = stored.as_ref().map(|s| s.revision);
        if let Some(state) = self.cluster.cached(revision) {
            return state.map_err(cluster_error);
        }
        let state = self.cluster.build(stored.as_ref());
        if let Err(problem) = &state {
            tracing::warn!(%problem, "Proxmox VE connection unusable");
        }
        self.cluster.remember(revision, state.clone());
        state.map_err(cluster_error)
    }

    /// The connection for the settings page, without its secret.
    pub async fn connection_settings(&self, actor: &Actor) -> Result<ConnectionView, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Setting))?;
        let environment = self.cluster.inner.environment.as_ref();
        let can_save = self.cluster.inner.key.is_some();
        let stored = self.ports.connection.get().await?;
        let view = match (&stored, environment) {
            (Some(stored), _) => ConnectionView {
                source: Some(ConnectionSource::Saved),
                url: stored.url.clone(),
                token_id: stored.token_id.clone(),
                secret_set: true,
                fingerprint: stored.fingerprint.clone().unwrap_or_default(),
                verify_tls: stored.verify_tls,
                pool: stored.pool.clone(),
                updated_at: Some(stored.updated_at),
                updated_by: stored.updated_by.clone(),
                environment_configured: environment.is_some(),
                can_save,
                problem: self.active_cluster().await.err().and_then(|e| match e {
                    AppError::Cluster { problem } => Some(problem),
                    _ => None,
                }),
            },
            (None, Some(env)) => ConnectionView {
                source: Some(ConnectionSource::Environment),
                url: env.settings.url.clone(),
                token_id: env.settings.token_id.clone(),
                secret_set: !env.settings.secret.is_empty(),
                fingerprint: env.settings.fingerprint.clone().unwrap_or_default(),
                verify_tls: env.settings.verify_tls,
                pool: env.settings.pool.clone(),
                updated_at: None,
                updated_by: None,
                environment_configured: true,
                can_save,
                problem: None,
            },
            (None, None) => ConnectionView {
                source: None,
                url: String::new(),
                token_id: String::new(),
                secret_set: false,
                fingerprint: String::new(),
                verify_tls: true,
                pool: DEFAULT_POOL.to_string(),
                updated_at: None,
                updated_by: None,
                environment_configured: false,
                can_save,
                problem: None,
            },
        };
        Ok(view)
    }

    /// Validates, encrypts the secret and saves the connection; from now on
    /// it wins over the environment. An empty secret keeps the one in use.
    pub async fn save_connection(&self, actor: &Actor, input: &ConnectionInput) -> Result<(), AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::Setting))?;
        let valid = domain::cluster::validate_connection(input)?;
        let new_secret = domain::cluster::token_secret(&input.secret)?;
        let key = self.cluster.inner.key.clone().ok_or(cluster_error(ClusterProblem::SecretKeyMissing))?;
        let secret = if !new_secret.is_empty() {
            new_secret
        } else {
            match self.ports.connection.get().await? {
                // A secret that no longer decrypts must be entered again.
                Some(stored) => {
                    self.cluster.open(&stored).map_err(|_| AppError::invalid("secret", Problem::Required))?
                }
                None => match &self.cluster.inner.environment {
                    Some(env) if !env.settings.secret.is_empty() => env.settings.secret.clone(),
                    _ => return Err(AppError::invalid("secret", Problem::Required)),
                },
            }
        };
        let settings = ClusterSettings {
            url: valid.url,
            token_id: valid.token_id,
            secret,
            fingerprint: valid.fingerprint,
            verify_tls: valid.verify_tls,
            pool: valid.pool,
        };
        // Settings that cannot even make a client are refused before saving.
        if let Some(connector) = &self.cluster.inner.connector {
            connector.connect(&settings).map_err(cluster_error)?;
        }
        let stored = StoredConnection {
            url: settings.url.clone(),
            token_id: settings.token_id.clone(),
            secret_sealed: key.seal(SECRET_PURPOSE, &settings.secret),
            fingerprint: settings.fingerprint.clone(),
            verify_tls: settings.verify_tls,
            pool: settings.pool.clone(),
            revision: 0,
            updated_at: self.clock.now(),
            updated_by: Some(actor.username.clone()),
        };
        let mut activity =
            self.activity(actor, "cluster.connection_save", ActivityTarget::new("settings", "proxmox", &settings.url));
        // Never the secret: only whether a new one was entered.
        activity.details = serde_json::json!({
            "url": settings.url, "token_id": settings.token_id, "pool": settings.pool,
            "verify_tls": settings.verify_tls, "secret_changed": !input.secret.trim().is_empty(),
        });
        self.ports.connection.save(&stored, Some(&activity)).await?;
        self.cluster.forget();
        tracing::info!(url = %settings.url, token_id = %settings.token_id, by = %actor.username, "Proxmox VE connection saved");
        Ok(())
    }

    /// Asks the cluster in use for its version and nodes.
    pub async fn test_connection(&self, actor: &Actor) -> Result<ConnectionTest, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Setting))?;
        let cluster = self.current_cluster().await?;
        cluster.test().await.map_err(cluster_error)
    }

    pub async fn cluster_nodes(&self, actor: &Actor) -> Result<Vec<NodeView>, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Node))?;
        let cluster = self.current_cluster().await?;
        cluster.nodes().await.map_err(cluster_error)
    }

    pub async fn cluster_templates(&self, actor: &Actor) -> Result<Vec<TemplateView>, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Template))?;
        let cluster = self.current_cluster().await?;
        cluster.templates().await.map_err(cluster_error)
    }
}
