//! The cluster model: nodes, storages, pools, VMs. Plain data behind one mutex; nothing
//! here waits, so the lock is only ever held briefly.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::config::{SimConfig, StorageSpec, VmSpec};
use super::error::ApiError;

pub(crate) const GIB: u64 = 1 << 30;
pub(crate) const MIB: u64 = 1 << 20;
/// Memory the host itself uses, so an idle node does not report zero.
const NODE_BASE_MEM: u64 = 3 * GIB;
/// A linked clone stores only its changes; counted as this fraction of the disk.
const LINKED_CLONE_SHARE: u64 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Power {
    Stopped,
    Running,
    Paused,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SnapshotRec {
    pub name: String,
    pub description: String,
    pub snaptime: u64,
    pub parent: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Vm {
    pub vmid: u32,
    pub node: String,
    pub name: String,
    pub pool: Option<String>,
    pub template: bool,
    pub cores: u32,
    pub memory_mib: u64,
    pub disk_bytes: u64,
    pub storage: String,
    /// The template a linked clone's disk is based on.
    pub linked_base: Option<u32>,
    pub description: String,
    pub tags: String,
    pub net0: String,
    pub agent: bool,
    pub power: Power,
    pub lock: Option<String>,
    pub snapshots: Vec<SnapshotRec>,
    /// Runtime only: set when the VM boots (also after loading a running VM).
    #[serde(skip)]
    pub started_at: Option<Instant>,
    #[serde(skip)]
    pub agent_ready_at: Option<Instant>,
    #[serde(skip)]
    pub pid: u32,
}

impl Vm {
    pub fn from_spec(spec: &VmSpec) -> Vm {
        Vm {
            vmid: spec.vmid,
            node: spec.node.clone(),
            name: spec.name.clone(),
            pool: spec.pool.clone(),
            template: spec.template,
            cores: spec.cores.max(1),
            memory_mib: spec.memory_mib.max(16),
            disk_bytes: (spec.disk_gib.max(0.0) * GIB as f64) as u64,
            storage: spec.storage.clone(),
            linked_base: None,
            description: spec.description.clone(),
            tags: spec.tags.clone(),
            net0: net0_for(spec.vmid),
            agent: spec.agent,
            power: if spec.running && !spec.template { Power::Running } else { Power::Stopped },
            lock: None,
            snapshots: Vec::new(),
            started_at: None,
            agent_ready_at: None,
            pid: 0,
        }
    }

    pub fn is_running(&self) -> bool {
        self.power != Power::Stopped
    }

    pub fn maxmem(&self) -> u64 {
        self.memory_mib * MIB
    }

    /// Guest memory in use: a plausible constant share while running.
    pub fn mem(&self) -> u64 {
        if self.is_running() { self.maxmem() / 5 * 3 } else { 0 }
    }

    pub fn uptime(&self, now: Instant) -> u64 {
        self.started_at.map_or(0, |t| now.duration_since(t).as_secs())
    }

    /// Space the VM takes on its storage.
    pub fn disk_usage(&self) -> u64 {
        if self.linked_base.is_some() { self.disk_bytes / LINKED_CLONE_SHARE } else { self.disk_bytes }
    }

    pub fn status_str(&self) -> &'static str {
        if self.is_running() { "running" } else { "stopped" }
    }

    pub fn qmpstatus(&self) -> &'static str {
        match self.power {
            Power::Stopped => "stopped",
            Power::Running => "running",
            Power::Paused => "paused",
        }
    }

    /// The volume ID Proxmox would print for the first disk.
    pub fn disk_volume(&self) -> String {
        match (self.template, self.linked_base) {
            (true, _) => format!("{}:base-{}-disk-0", self.storage, self.vmid),
            (false, Some(base)) => format!("{}:base-{base}-disk-0/vm-{}-disk-0", self.storage, self.vmid),
            (false, None) => format!("{}:vm-{}-disk-0", self.storage, self.vmid),
        }
    }

    pub fn require_unlocked(&self) -> Result<(), ApiError> {
        match &self.lock {
            Some(lock) => Err(ApiError::vm_locked(self.vmid, lock)),
            None => Ok(()),
        }
    }

    pub fn require_running(&self) -> Result<(), ApiError> {
        if self.is_running() { Ok(()) } else { Err(ApiError::internal(format!("VM {} not running", self.vmid))) }
    }
}

/// A stable MAC in Proxmox's `BC:24:11` range, derived from the VMID.
pub(crate) fn mac_for(vmid: u32) -> String {
    let b = vmid.to_be_bytes();
    format!("BC:24:11:{:02X}:{:02X}:{:02X}", b[1], b[2], b[3])
}

pub(crate) fn net0_for(vmid: u32) -> String {
    format!("virtio={},bridge=vmbr0,firewall=1", mac_for(vmid))
}

/// The address the simulated DHCP hands a VM: unique per VMID within 10.0.0.0/8.
pub(crate) fn ip_for(vmid: u32) -> Ipv4Addr {
    let host = vmid % 250 + 2;
    let net = vmid / 250;
    Ipv4Addr::new(10, ((net >> 8) & 0xff) as u8, (net & 0xff) as u8, host as u8)
}

#[derive(Debug, Clone)]
pub(crate) struct NodeState {
    pub name: String,
    pub cpus: u32,
    pub memory_bytes: u64,
    pub online: bool,
}

/// What survives a restart when a state file is configured. Nodes, storages and tokens
/// come from the configuration; tasks do not survive (as on a rebooted real node).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Persisted {
    pub pools: BTreeMap<String, String>,
    pub vms: Vec<Vm>,
}

#[derive(Debug)]
pub(crate) struct Cluster {
    pub nodes: Vec<NodeState>,
    pub storages: Vec<StorageSpec>,
    /// Pool ID to comment.
    pub pools: BTreeMap<String, String>,
    pub vms: BTreeMap<u32, Vm>,
    /// Set by every change, cleared when saved.
    pub dirty: bool,
}

impl Cluster {
    pub fn new(config: &SimConfig) -> Cluster {
        let nodes = config
            .nodes
            .iter()
            .map(|n| NodeState {
                name: n.name.clone(),
                cpus: n.cpus,
                memory_bytes: n.memory_gib * GIB,
                online: !config.faults.offline_nodes.contains(&n.name),
            })
            .collect();
        let mut cluster = Cluster {
            nodes,
            storages: config.storages.clone(),
            pools: config.pools.iter().map(|p| (p.id.clone(), p.comment.clone())).collect(),
            vms: BTreeMap::new(),
            dirty: false,
        };
        let now = Instant::now();
        for spec in &config.vms {
            let mut vm = Vm::from_spec(spec);
            if vm.is_running() {
                vm.started_at = Some(now);
                vm.agent_ready_at = Some(now);
            }
            cluster.vms.insert(vm.vmid, vm);
        }
        cluster
    }

    /// Replaces pools and VMs with saved ones. Locks are cleared, since the tasks that
    /// held them are gone.
    pub fn restore(&mut self, saved: Persisted) {
        let now = Instant::now();
        self.pools = saved.pools;
        self.vms = saved
            .vms
            .into_iter()
            .map(|mut vm| {
                vm.lock = None;
                if vm.is_running() {
                    vm.started_at = Some(now);
                    vm.agent_ready_at = Some(now);
                }
                (vm.vmid, vm)
            })
            .collect();
    }

    pub fn persisted(&self) -> Persisted {
        Persisted { pools: self.pools.clone(), vms: self.vms.values().cloned().collect() }
    }

    pub fn node(&self, name: &str) -> Option<&NodeState> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub fn storage(&self, name: &str) -> Option<&StorageSpec> {
        self.storages.iter().find(|s| s.name == name)
    }

    /// The VM `vmid` if it lives on `node`, with Proxmox's error otherwise.
    pub fn vm_on(&self, node: &str, vmid: u32) -> Result<&Vm, ApiError> {
        self.vms.get(&vmid).filter(|vm| vm.node == node).ok_or_else(|| ApiError::no_such_vm(node, vmid))
    }

    pub fn vm_on_mut(&mut self, node: &str, vmid: u32) -> Result<&mut Vm, ApiError> {
        self.dirty = true;
        self.vms.get_mut(&vmid).filter(|vm| vm.node == node).ok_or_else(|| ApiError::no_such_vm(node, vmid))
    }

    /// Bytes used on `storage` as seen from `node` (shared storages count every node).
    pub fn storage_used(&self, node: &str, storage: &StorageSpec) -> u64 {
        self.vms
            .values()
            .filter(|vm| vm.storage == storage.name && (storage.shared || vm.node == node))
            .map(Vm::disk_usage)
            .sum()
    }

    pub fn node_mem_used(&self, node: &str) -> u64 {
        NODE_BASE_MEM + self.vms.values().filter(|vm| vm.node == node).map(Vm::mem).sum::<u64>()
    }

    /// Memory committed to running VMs on a node (what a new start must fit beside).
    pub fn node_mem_committed(&self, node: &str) -> u64 {
        NODE_BASE_MEM + self.vms.values().filter(|vm| vm.node == node && vm.is_running()).map(Vm::maxmem).sum::<u64>()
    }

    pub fn node_cpu_load(&self, node: &NodeState) -> f64 {
        let busy: u32 = self.vms.values().filter(|vm| vm.node == node.name && vm.is_running()).map(|vm| vm.cores).sum();
        (f64::from(busy) * 0.05 / f64::from(node.cpus.max(1))).min(1.0)
    }

    /// The lowest free VMID at or above `first`; reserves nothing, like Proxmox.
    pub fn next_free_vmid(&self, first: u32) -> u32 {
        let mut id = first.max(100);
        for &used in self.vms.range(id..).map(|(k, _)| k) {
            if used != id {
                break;
            }
            id += 1;
        }
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_vmid_fills_gaps() {
        let mut cluster = Cluster::new(&SimConfig::demo());
        assert_eq!(cluster.next_free_vmid(100), 100);
        for id in [100, 101, 103] {
            let mut vm = cluster.vms[&9000].clone();
            vm.vmid = id;
            cluster.vms.insert(id, vm);
        }
        assert_eq!(cluster.next_free_vmid(100), 102);
        assert_eq!(cluster.next_free_vmid(9000), 9003);
    }

    #[test]
    fn addresses_are_unique_and_private() {
        assert_ne!(ip_for(100), ip_for(350));
        assert_eq!(ip_for(100).octets()[0], 10);
        assert_eq!(mac_for(0x0001_0203), "BC:24:11:01:02:03");
    }

    #[test]
    fn linked_clones_use_little_space() {
        let cluster = Cluster::new(&SimConfig::demo());
        let mut vm = cluster.vms[&9000].clone();
        let full = vm.disk_usage();
        vm.linked_base = Some(9000);
        assert!(vm.disk_usage() * 10 < full);
    }
}
