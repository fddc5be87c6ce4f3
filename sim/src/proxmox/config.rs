//! What the simulated cluster looks like and how it behaves.
//!
//! All durations are in *cluster seconds*, i.e. what a real cluster would take; the
//! simulator multiplies them by [`SimConfig::time_scale`], so a test can run the same
//! logic a hundred times faster. Fault latencies are the exception (see [`FaultRule`]).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The demo token's secret (user `openvle@pve`, token `demo`). Public on purpose: the
/// simulator only listens where the operator tells it and holds no real data.
pub const DEMO_TOKEN_SECRET: &str = "5f0c7a2e-3b1d-4c8e-9a6f-0d2b4e6a8c10";
pub const DEMO_USER: &str = "openvle@pve";
pub const DEMO_TOKEN_NAME: &str = "demo";
pub const DEMO_POOL: &str = "OpenVLE-VMs";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    pub nodes: Vec<NodeSpec>,
    /// Storages present on every node (shared ones are one storage seen from all nodes).
    pub storages: Vec<StorageSpec>,
    pub pools: Vec<PoolSpec>,
    pub tokens: Vec<TokenSpec>,
    /// VMs that exist at start (templates or not); ignored when a state file is loaded.
    pub vms: Vec<VmSpec>,
    pub timings: Timings,
    /// Factor applied to every cluster duration: 1.0 is real time, 0.01 is 100× faster.
    pub time_scale: f64,
    pub faults: FaultConfig,
    /// Where to keep the cluster state across restarts; saved periodically and at shutdown.
    pub state_file: Option<PathBuf>,
    /// Lowest VMID `/cluster/nextid` hands out.
    pub first_vmid: u32,
    /// Start a VM's VNC server (Xvnc) when the VM starts, as Proxmox's QEMU does.
    /// Off, it starts at the VM's first console instead: a benchmark's 500-VM
    /// class would otherwise run 500 X servers nobody looks at.
    pub consoles_at_start: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeSpec {
    pub name: String,
    pub cpus: u32,
    pub memory_gib: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StorageSpec {
    pub name: String,
    /// Proxmox plugin type: `dir`, `lvmthin`, `rbd`, ...
    pub kind: String,
    /// Comma-separated content types, e.g. `images,rootdir`.
    pub content: String,
    pub capacity_gib: u64,
    /// Shared storages (Ceph, NFS) have one lock and one capacity for the whole cluster.
    pub shared: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PoolSpec {
    pub id: String,
    pub comment: String,
}

/// An API token and the pools it is granted (privilege separation: it sees and changes
/// only VMs in those pools).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenSpec {
    /// `user@realm`
    pub user: String,
    pub name: String,
    pub secret: String,
    pub pools: Vec<String>,
}

impl TokenSpec {
    /// The token's full ID as Proxmox prints it in tasks: `user@realm!name`.
    pub fn full_id(&self) -> String {
        format!("{}!{}", self.user, self.name)
    }
}

/// A VM to create at start (or through [`super::Simulator::add_vm`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VmSpec {
    pub vmid: u32,
    pub name: String,
    pub node: String,
    pub pool: Option<String>,
    pub template: bool,
    pub cores: u32,
    pub memory_mib: u64,
    pub disk_gib: f64,
    pub storage: String,
    pub description: String,
    pub tags: String,
    /// Whether the QEMU guest agent is enabled (and installed in the guest).
    pub agent: bool,
    pub running: bool,
}

impl VmSpec {
    /// A small running VM in the demo pool (1 core, 512 MiB, a 1 GiB disk, a
    /// guest agent): what the console's tests and benchmark connect to.
    pub fn small_running(vmid: u32, name: &str, node: &str, storage: &str) -> VmSpec {
        VmSpec {
            vmid,
            name: name.into(),
            node: node.into(),
            pool: Some(DEMO_POOL.into()),
            template: false,
            cores: 1,
            memory_mib: 512,
            disk_gib: 1.0,
            storage: storage.into(),
            description: String::new(),
            tags: String::new(),
            agent: true,
            running: true,
        }
    }
}

/// How long operations take, in cluster seconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Timings {
    pub linked_clone: f64,
    /// A full clone copies the disk and holds the storage lock meanwhile.
    pub full_clone_per_gib: f64,
    /// How long a task waits for a storage or VM lock before failing with `got timeout`.
    pub lock_wait: f64,
    pub start: f64,
    pub stop: f64,
    pub shutdown: f64,
    pub reboot: f64,
    pub reset: f64,
    pub suspend: f64,
    pub resume: f64,
    pub delete: f64,
    pub snapshot: f64,
    pub rollback: f64,
    pub template: f64,
    /// From boot until the guest agent answers.
    pub agent_boot_delay: f64,
    /// Added to every per-VM `status/current` answer (slow on a busy real cluster).
    pub status_latency: f64,
    /// How long a VNC proxy (and its task) stays open.
    pub vnc_proxy_lifetime: f64,
    /// Tasks a node runs at once; further ones wait (still reported `running`).
    pub max_tasks_per_node: u32,
}

impl Default for Timings {
    fn default() -> Timings {
        Timings {
            linked_clone: 2.0,
            full_clone_per_gib: 5.0,
            lock_wait: 10.0,
            start: 3.0,
            stop: 1.5,
            shutdown: 6.0,
            reboot: 8.0,
            reset: 1.0,
            suspend: 1.0,
            resume: 1.0,
            delete: 2.0,
            snapshot: 2.0,
            rollback: 4.0,
            template: 2.0,
            agent_boot_delay: 20.0,
            status_latency: 0.5,
            vnc_proxy_lifetime: 10.0,
            max_tasks_per_node: 8,
        }
    }
}

/// Failures to inject, on top of the ones the cluster model produces itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultConfig {
    pub rules: Vec<FaultRule>,
    /// Nodes that are down: requests routed to them fail with 595, they show `offline`.
    pub offline_nodes: Vec<String>,
    /// Seed of the generator deciding which requests fail, so runs are reproducible.
    pub seed: u64,
}

/// A fault applying to requests whose path (after `/api2/json`) matches `path`, where
/// `*` matches any characters, e.g. `/nodes/*/qemu/*/clone`. Latency and hanging are in
/// wall-clock time, not scaled, since they target the client's timeouts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultRule {
    /// `GET`, `POST`, ...; `None` matches every method.
    pub method: Option<String>,
    pub path: String,
    /// Probability (0..=1) that a matching request fails with `status` and `message`.
    pub error_rate: f64,
    pub status: u16,
    pub message: String,
    pub latency_ms: u64,
    /// Never answer (until the simulator shuts down).
    pub hang: bool,
}

impl Default for FaultRule {
    fn default() -> FaultRule {
        FaultRule {
            method: None,
            path: "*".into(),
            error_rate: 0.0,
            status: 500,
            message: "simulated failure".into(),
            latency_ms: 0,
            hang: false,
        }
    }
}

impl Default for SimConfig {
    /// An empty one-node cluster; see [`SimConfig::demo`] for a useful one.
    fn default() -> SimConfig {
        SimConfig {
            nodes: vec![NodeSpec { name: "pve1".into(), cpus: 32, memory_gib: 128 }],
            storages: default_storages(),
            pools: Vec::new(),
            tokens: Vec::new(),
            vms: Vec::new(),
            timings: Timings::default(),
            time_scale: 1.0,
            faults: FaultConfig::default(),
            state_file: None,
            first_vmid: 100,
            consoles_at_start: false,
        }
    }
}

fn default_storages() -> Vec<StorageSpec> {
    vec![
        StorageSpec {
            name: "local".into(),
            kind: "dir".into(),
            content: "iso,vztmpl,backup".into(),
            capacity_gib: 100,
            shared: false,
        },
        StorageSpec {
            name: "local-lvm".into(),
            kind: "lvmthin".into(),
            content: "images,rootdir".into(),
            capacity_gib: 900,
            shared: false,
        },
        StorageSpec {
            name: "vmdata".into(),
            kind: "rbd".into(),
            content: "images".into(),
            capacity_gib: 4096,
            shared: true,
        },
    ]
}

impl SimConfig {
    /// The demo cluster: nodes `pve1` and `pve2`, shared storage `vmdata`, pool
    /// `OpenVLE-VMs`, token `openvle@pve!demo` (secret [`DEMO_TOKEN_SECRET`]) granted that
    /// pool, and three templates in it (SSH and RDP, noted in tags and description).
    pub fn demo() -> SimConfig {
        SimConfig::with_nodes(2)
    }

    /// Like [`SimConfig::demo`] with `count` nodes (`pve1`, `pve2`, ...).
    pub fn with_nodes(count: usize) -> SimConfig {
        let nodes =
            (1..=count.max(1)).map(|n| NodeSpec { name: format!("pve{n}"), cpus: 32, memory_gib: 128 }).collect();
        let template = |vmid, name: &str, cores, memory_mib, disk_gib, protocol: &str, os: &str| VmSpec {
            vmid,
            name: name.into(),
            node: "pve1".into(),
            pool: Some(DEMO_POOL.into()),
            template: true,
            cores,
            memory_mib,
            disk_gib,
            storage: "vmdata".into(),
            description: format!("{os}. OpenVLE template; connect with {}.", protocol.to_uppercase()),
            tags: format!("openvle;{protocol}"),
            agent: true,
            running: false,
        };
        SimConfig {
            nodes,
            pools: vec![PoolSpec { id: DEMO_POOL.into(), comment: "VMs managed by OpenVLE".into() }],
            tokens: vec![TokenSpec {
                user: DEMO_USER.into(),
                name: DEMO_TOKEN_NAME.into(),
                secret: DEMO_TOKEN_SECRET.into(),
                pools: vec![DEMO_POOL.into()],
            }],
            vms: vec![
                template(9000, "debian-12-server", 2, 2048, 8.0, "ssh", "Debian 12 server"),
                template(9001, "ubuntu-24-desktop", 4, 8192, 32.0, "rdp", "Ubuntu 24.04 desktop"),
                template(9002, "windows-11", 4, 8192, 64.0, "rdp", "Windows 11"),
            ],
            ..SimConfig::default()
        }
    }
}
