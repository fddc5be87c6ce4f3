//! The client behind the `services::cluster` port: settings from the UI (or
//! the environment) in, nodes and templates out, and every failure turned
//! into a [`ClusterProblem`] an administrator can act on.

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::sync::Arc;

use async_trait::async_trait;
use std::time::Duration;

use domain::cluster::{ClusterProblem, NodeView, TemplateView};
use services::cluster::{
    CloneSpec, Cluster, ClusterConnector, ClusterSettings, ClusterVersion, GuestIp, GuestState, Inventory, NodeState,
    PowerOp, StorageState, VmError, VmSettings,
};
use services::console::{ConsoleBackend, ConsoleChannel, ConsoleError, ConsoleTarget};

use crate::PveClient;
use crate::config::{PveConfig, TlsVerification};
use crate::console::ProxmoxConsole;
use crate::error::PveError;
use crate::tls::{MISMATCH, colon_hex};
use crate::types::{CloneOptions, Upid, VmConfigUpdate, guest_ipv4_addresses};

/// Builds [`PveCluster`]s from settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct PveConnector;

impl ClusterConnector for PveConnector {
    fn connect(&self, settings: &ClusterSettings) -> Result<Arc<dyn Cluster>, ClusterProblem> {
        let client = PveClient::new(config_from_settings(settings)?)
            .map_err(|e| ClusterProblem::Setup { message: e.to_string() })?;
        Ok(Arc::new(PveCluster::new(client)))
    }
}

/// The client configuration for settings saved in the UI (connector defaults
/// for everything the UI does not offer).
pub fn config_from_settings(settings: &ClusterSettings) -> Result<PveConfig, ClusterProblem> {
    let setup = |message: String| ClusterProblem::Setup { message };
    let (user, token_name) = settings
        .token_id
        .split_once('!')
        .ok_or_else(|| setup("the token id must look like user@realm!token".into()))?;
    let mut config =
        PveConfig::new(&settings.url, user, token_name, &settings.secret).map_err(|e| setup(e.to_string()))?;
    config.tls = match settings.fingerprint.as_deref() {
        Some(fp) => {
            let digits: String = fp.chars().filter(|c| *c != ':').collect();
            let bytes = hex::decode(digits).map_err(|_| setup("the fingerprint is not hex".into()))?;
            TlsVerification::PinnedSha256(
                <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| setup("the fingerprint is not SHA-256".into()))?,
            )
        }
        None if !settings.verify_tls => TlsVerification::Insecure,
        None => TlsVerification::SystemRoots,
    };
    config.pool = settings.pool.clone();
    Ok(config)
}

/// The settings page's view of an environment configuration.
pub fn settings_from_config(config: &PveConfig) -> ClusterSettings {
    ClusterSettings {
        url: config.base_url.as_str().trim_end_matches('/').to_string(),
        token_id: format!("{}!{}", config.user, config.token_name),
        secret: config.token_value.clone(),
        fingerprint: match &config.tls {
            TlsVerification::PinnedSha256(fp) => Some(colon_hex(fp)),
            _ => None,
        },
        verify_tls: config.tls != TlsVerification::Insecure,
        pool: config.pool.clone(),
    }
}

/// How long a task (a clone of a big disk, above all) may run before we stop waiting.
const TASK_TIMEOUT: Duration = Duration::from_secs(3600);
/// How long an ACPI shutdown may take before Proxmox stops the VM hard.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(60);

/// One cluster through [`PveClient`], confined to the configured pool.
#[derive(Clone, Debug)]
pub struct PveCluster {
    client: PveClient,
    task_timeout: Duration,
    /// VM consoles over the same client (token, TLS verification).
    console: Arc<ProxmoxConsole>,
}

impl PveCluster {
    pub fn new(client: PveClient) -> PveCluster {
        let console = Arc::new(ProxmoxConsole::new(Arc::new(client.clone())));
        PveCluster { client, task_timeout: TASK_TIMEOUT, console }
    }

    async fn finish(&self, node: &str, upid: Result<Upid, PveError>) -> Result<(), VmError> {
        let upid = upid.map_err(|e| vm_error(&e, node))?;
        self.client.wait_task(&upid, self.task_timeout).await.map(|_| ()).map_err(|e| vm_error(&e, node))
    }
}

fn split_tags(tags: Option<&str>) -> Vec<String> {
    tags.unwrap_or_default()
        .split([';', ',', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// The node named in `target node 'pve3' is not online`.
fn offline_target(message: &str) -> Option<String> {
    let rest = message.strip_prefix("target node '")?;
    let (node, tail) = rest.split_once('\'')?;
    tail.contains("not online").then(|| node.to_string())
}

/// A failed VM operation on `node`, classified for the engine's retries.
pub fn vm_error(error: &PveError, node: &str) -> VmError {
    match error {
        PveError::Locked { message } => VmError::Busy { message: message.clone() },
        PveError::AlreadyExists { message } => VmError::VmidTaken { message: message.clone() },
        PveError::NodeUnreachable { message, .. } => {
            VmError::NodeOffline { node: node.into(), message: message.clone() }
        }
        PveError::NotFound { message } => VmError::Missing { message: message.clone() },
        PveError::NotInPool { .. } => VmError::Missing { message: error.to_string() },
        PveError::Timeout { .. } => VmError::Timeout { message: error.to_string() },
        PveError::Transport(_) => VmError::Cluster { problem: classify(error) },
        PveError::TaskFailed { exitstatus, .. } => VmError::Failed { message: exitstatus.clone() },
        PveError::Api { message, .. } => match offline_target(message) {
            Some(node) => VmError::NodeOffline { node, message: message.clone() },
            None => VmError::Failed { message: message.clone() },
        },
        other => VmError::Failed { message: other.to_string() },
    }
}

#[async_trait]
impl Cluster for PveCluster {
    async fn open_console(&self, target: &ConsoleTarget) -> Result<ConsoleChannel, ConsoleError> {
        self.console.open(target).await
    }

    async fn version(&self) -> Result<ClusterVersion, ClusterProblem> {
        let v = self.client.version().await.map_err(|e| classify(&e))?;
        Ok(ClusterVersion { version: v.version, release: v.release })
    }

    async fn nodes(&self) -> Result<Vec<NodeView>, ClusterProblem> {
        let resources = self.client.cluster_resources(None).await.map_err(|e| classify(&e))?;
        let mut nodes: BTreeMap<String, NodeView> = BTreeMap::new();
        for r in resources.iter().filter(|r| r.kind == "node") {
            let Some(name) = r.node.clone() else { continue };
            nodes.insert(
                name.clone(),
                NodeView {
                    name,
                    online: r.status.as_deref() == Some("online"),
                    cpu: r.cpu.unwrap_or(0.0),
                    cpus: r.maxcpu.unwrap_or(0.0).max(0.0).round() as u64,
                    mem_used: r.mem.unwrap_or(0),
                    mem_total: r.maxmem.unwrap_or(0),
                    disk_used: 0,
                    disk_total: 0,
                    vms: 0,
                    templates: 0,
                },
            );
        }
        for r in &resources {
            let Some(node) = r.node.as_ref().and_then(|n| nodes.get_mut(n)) else { continue };
            match r.kind.as_str() {
                "storage" => {
                    node.disk_used = node.disk_used.saturating_add(r.disk.unwrap_or(0));
                    node.disk_total = node.disk_total.saturating_add(r.maxdisk.unwrap_or(0));
                }
                // Guests are already confined to our pool by the client.
                "qemu" | "lxc" if r.template => node.templates += 1,
                "qemu" | "lxc" => node.vms += 1,
                _ => {}
            }
        }
        Ok(nodes.into_values().collect())
    }

    async fn templates(&self) -> Result<Vec<TemplateView>, ClusterProblem> {
        let mut vms = self.client.pool_vms().await.map_err(|e| classify(&e))?;
        vms.retain(|vm| vm.template);
        vms.sort_by_key(|vm| vm.vmid);
        let mut out = Vec::with_capacity(vms.len());
        for vm in vms {
            let (Some(vmid), Some(node)) = (vm.vmid, vm.node.clone()) else { continue };
            // The description and exact sizes are in the config; a template
            // whose config cannot be read is still listed.
            let config = match self.client.vm_config(&node, vmid).await {
                Ok(config) => Some(config),
                Err(e) => {
                    tracing::debug!(vmid, error = %e, "template config unreadable");
                    None
                }
            };
            let tags = config.as_ref().and_then(|c| c.tags.clone()).or(vm.tags.clone()).unwrap_or_default();
            out.push(TemplateView {
                vmid,
                name: vm.name.clone().unwrap_or_else(|| format!("VM {vmid}")),
                node,
                cores: config.as_ref().and_then(|c| c.cores).or(vm.maxcpu.map(|c| c.round() as u32)),
                memory_mib: config.as_ref().and_then(|c| c.memory_mib()).or(vm.maxmem.map(|m| m / (1024 * 1024))),
                disk_bytes: vm.maxdisk,
                tags: tags
                    .split([';', ',', ' '])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect(),
                os_type: config.as_ref().and_then(|c| c.ostype.clone()),
                description: config.and_then(|c| c.description).unwrap_or_default().trim().to_string(),
            });
        }
        Ok(out)
    }

    async fn inventory(&self) -> Result<Inventory, VmError> {
        let resources = self.client.cluster_resources(None).await.map_err(|e| vm_error(&e, "-"))?;
        let mut inventory = Inventory::default();
        for r in resources {
            let Some(node) = r.node.clone() else { continue };
            match r.kind.as_str() {
                "node" => inventory.nodes.push(NodeState {
                    name: node,
                    online: r.status.as_deref() == Some("online"),
                    mem_used: r.mem.unwrap_or(0),
                    mem_total: r.maxmem.unwrap_or(0),
                }),
                "storage" => {
                    if let Some(name) = r.storage.clone() {
                        inventory.storages.push(StorageState { node, name, shared: r.shared });
                    }
                }
                "qemu" => {
                    let Some(vmid) = r.vmid else { continue };
                    inventory.guests.push(GuestState {
                        vmid,
                        name: r.name.clone().unwrap_or_default(),
                        node,
                        status: r.status.clone().unwrap_or_else(|| "unknown".into()),
                        lock: r.lock.clone(),
                        tags: split_tags(r.tags.as_deref()),
                        template: r.template,
                        mem_total: r.maxmem.unwrap_or(0),
                        uptime_secs: r.uptime.filter(|_| r.status.as_deref() == Some("running")),
                    });
                }
                _ => {}
            }
        }
        Ok(inventory)
    }

    async fn disk_storage(&self, node: &str, vmid: u32) -> Result<String, VmError> {
        let config = self.client.vm_config(node, vmid).await.map_err(|e| vm_error(&e, node))?;
        config
            .disk_storage()
            .map(str::to_string)
            .ok_or_else(|| VmError::Failed { message: format!("VM {vmid} has no disk to clone") })
    }

    async fn next_vmid(&self) -> Result<u32, VmError> {
        self.client.next_id().await.map_err(|e| vm_error(&e, "-"))
    }

    async fn clone_vm(&self, spec: &CloneSpec) -> Result<(), VmError> {
        let options = CloneOptions {
            newid: spec.newid,
            name: Some(spec.name.clone()),
            target: (spec.target_node != spec.source_node).then(|| spec.target_node.clone()),
            full: Some(!spec.linked),
            storage: None,
            description: (!spec.description.is_empty()).then(|| spec.description.clone()),
        };
        let upid = self.client.clone_vm(&spec.source_node, spec.source_vmid, &options).await;
        self.finish(&spec.source_node, upid).await
    }

    async fn configure_vm(&self, node: &str, vmid: u32, settings: &VmSettings) -> Result<(), VmError> {
        let update = VmConfigUpdate {
            cores: settings.cores,
            memory_mib: settings.memory_mib,
            tags: (!settings.tags.is_empty()).then(|| settings.tags.join(";")),
            description: settings.description.clone().filter(|d| !d.is_empty()),
            ..VmConfigUpdate::default()
        };
        self.client.update_vm_config(node, vmid, &update).await.map_err(|e| vm_error(&e, node))
    }

    async fn power(&self, node: &str, vmid: u32, op: PowerOp) -> Result<(), VmError> {
        let upid = match op {
            PowerOp::Start => self.client.start_vm(node, vmid).await,
            PowerOp::Shutdown => self.client.shutdown_vm(node, vmid, SHUTDOWN_GRACE, true).await,
            PowerOp::Stop => self.client.stop_vm(node, vmid).await,
            PowerOp::Reboot => self.client.reboot_vm(node, vmid).await,
            PowerOp::Suspend => self.client.suspend_vm(node, vmid).await,
            PowerOp::Resume => self.client.resume_vm(node, vmid).await,
            PowerOp::Reset => self.client.reset_vm(node, vmid).await,
        };
        self.finish(node, upid).await
    }

    async fn delete_vm(&self, node: &str, vmid: u32) -> Result<(), VmError> {
        let upid = self.client.delete_vm(node, vmid).await;
        self.finish(node, upid).await
    }

    async fn guest_ip(&self, node: &str, vmid: u32) -> Result<GuestIp, VmError> {
        match self.client.agent_network_interfaces(node, vmid).await {
            Ok(interfaces) => {
                Ok(guest_ipv4_addresses(&interfaces).into_iter().next().map_or(GuestIp::NotYet, GuestIp::Address))
            }
            Err(PveError::Api { message, .. }) if message.contains("guest agent is not running") => Ok(GuestIp::NotYet),
            Err(PveError::Api { message, .. }) if message.contains("No QEMU guest agent configured") => {
                Ok(GuestIp::NoAgent)
            }
            Err(e) => Err(vm_error(&e, node)),
        }
    }
}

/// Every error source below `error`, looking inside `io::Error`s too (whose
/// `source()` skips the error they wrap).
fn chain<'a>(error: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut current = Some(error);
    while let Some(e) = current {
        out.push(e);
        if let Some(inner) = e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            let inner: &'a (dyn StdError + 'static) = inner;
            out.extend(chain(inner));
        }
        current = e.source();
    }
    out
}

/// The cause of a failed request, as an administrator needs to hear it.
pub fn classify(error: &PveError) -> ClusterProblem {
    match error {
        PveError::Unauthorized { message } => ClusterProblem::BadToken { message: message.clone() },
        PveError::Forbidden { message } => ClusterProblem::Forbidden { message: message.clone() },
        PveError::Timeout { after, .. } => ClusterProblem::Timeout { secs: after.as_secs().max(1) },
        PveError::Transport(e) => classify_transport(e),
        PveError::Api { status, message } | PveError::NodeUnreachable { status, message } => {
            ClusterProblem::Api { status: *status, message: message.clone() }
        }
        PveError::NotFound { message } => ClusterProblem::Api { status: 404, message: message.clone() },
        other => ClusterProblem::Api { status: 0, message: other.to_string() },
    }
}

fn classify_transport(error: &reqwest::Error) -> ClusterProblem {
    let causes = chain(error);
    let innermost = causes.last().map(|e| e.to_string()).unwrap_or_else(|| error.to_string());
    let tls = causes.iter().find_map(|e| e.downcast_ref::<rustls::Error>());
    let text = causes.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(": ");
    if let Some(pos) = text.find(MISMATCH) {
        let seen = text[pos..]
            .split_once("it presented ")
            .map(|(_, rest)| {
                let fp: String = rest.chars().take_while(|c| c.is_ascii_hexdigit() || *c == ':').collect();
                fp.trim_end_matches(':').to_string()
            })
            .filter(|s| !s.is_empty());
        return ClusterProblem::FingerprintMismatch { seen };
    }
    match tls {
        Some(rustls::Error::InvalidCertificate(cert)) => {
            ClusterProblem::CertificateUntrusted { detail: format!("{cert:?}") }
        }
        Some(other) => ClusterProblem::Unreachable { detail: format!("TLS handshake failed: {other}") },
        None if error.is_timeout() => ClusterProblem::Timeout { secs: 0 },
        None => ClusterProblem::Unreachable { detail: innermost },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ClusterSettings {
        ClusterSettings {
            url: "https://pve.example.org:8006".into(),
            token_id: "openvle@pve!vle".into(),
            secret: "s3cr3t".into(),
            fingerprint: None,
            verify_tls: true,
            pool: "Course".into(),
        }
    }

    #[test]
    fn settings_map_to_tls_modes_and_back() {
        let config = config_from_settings(&settings()).unwrap();
        assert_eq!(config.tls, TlsVerification::SystemRoots);
        assert_eq!(config.pool, "Course");
        assert_eq!(config.authorization_header(), "PVEAPIToken=openvle@pve!vle=s3cr3t");
        let insecure = config_from_settings(&ClusterSettings { verify_tls: false, ..settings() }).unwrap();
        assert_eq!(insecure.tls, TlsVerification::Insecure);
        let fp = ["AB"; 32].join(":");
        let pinned = config_from_settings(&ClusterSettings { fingerprint: Some(fp.clone()), ..settings() }).unwrap();
        assert_eq!(pinned.tls, TlsVerification::PinnedSha256([0xab; 32]));
        let back = settings_from_config(&pinned);
        assert_eq!(back.fingerprint.as_deref(), Some(fp.as_str()));
        assert_eq!(back.url, "https://pve.example.org:8006");
        assert_eq!(back.token_id, "openvle@pve!vle");
    }

    #[test]
    fn api_errors_are_classified() {
        let bad = classify(&PveError::Unauthorized { message: "authentication failure".into() });
        assert_eq!(bad, ClusterProblem::BadToken { message: "authentication failure".into() });
        let api = classify(&PveError::Api { status: 500, message: "boom".into() });
        assert_eq!(api, ClusterProblem::Api { status: 500, message: "boom".into() });
    }
}
