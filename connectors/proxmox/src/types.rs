//! Typed answers of the Proxmox VE API.
//!
//! Proxmox prints numbers and booleans inconsistently (`"100"` for `/cluster/nextid`,
//! `0`/`1` for booleans, floats for some counters), so every numeric and boolean field goes
//! through the lenient deserializers in [`lenient`]. Fields the product does not use are
//! not modelled; unknown fields are ignored.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A task ID as Proxmox prints it:
/// `UPID:node:pid:pstart:starttime:type:id:user@realm!token:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Upid(pub String);

impl Upid {
    /// The node that runs the task; task status must be asked there.
    pub fn node(&self) -> Option<&str> {
        let mut parts = self.0.split(':');
        match (parts.next(), parts.next()) {
            (Some("UPID"), Some(node)) if !node.is_empty() => Some(node),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct VersionInfo {
    pub version: String,
    #[serde(default)]
    pub release: String,
    #[serde(default)]
    pub repoid: String,
}

/// One entry of `GET /nodes`.
#[derive(Debug, Clone, Deserialize)]
pub struct NodeSummary {
    pub node: String,
    /// `online`, `offline` or `unknown`.
    pub status: String,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub cpu: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub maxcpu: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub mem: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub maxmem: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub uptime: Option<u64>,
}

impl NodeSummary {
    pub fn is_online(&self) -> bool {
        self.status == "online"
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct MemoryUsage {
    #[serde(deserialize_with = "lenient::u64")]
    pub total: u64,
    #[serde(deserialize_with = "lenient::u64")]
    pub used: u64,
    #[serde(deserialize_with = "lenient::u64")]
    pub free: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CpuInfo {
    #[serde(deserialize_with = "lenient::u64")]
    pub cpus: u64,
    #[serde(default)]
    pub model: String,
}

/// `GET /nodes/{node}/status`.
#[derive(Debug, Clone, Deserialize)]
pub struct NodeStatus {
    #[serde(deserialize_with = "lenient::f64")]
    pub cpu: f64,
    pub memory: MemoryUsage,
    pub cpuinfo: CpuInfo,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub uptime: Option<u64>,
    #[serde(default)]
    pub pveversion: String,
}

/// The `type` filter of `GET /cluster/resources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    Vm,
    Node,
    Storage,
}

impl ResourceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Vm => "vm",
            ResourceType::Node => "node",
            ResourceType::Storage => "storage",
        }
    }
}

/// One entry of `GET /cluster/resources`; which fields are set depends on `kind`
/// (`qemu`, `lxc`, `node`, `storage`, ...).
#[derive(Debug, Clone, Deserialize)]
pub struct ClusterResource {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub node: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub vmid: Option<u32>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub pool: Option<String>,
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub template: bool,
    #[serde(default)]
    pub lock: Option<String>,
    #[serde(default)]
    pub tags: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub cpu: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub maxcpu: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub mem: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub maxmem: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub disk: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub maxdisk: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub uptime: Option<u64>,
    #[serde(default)]
    pub storage: Option<String>,
    /// For storages: one storage for the whole cluster (Ceph, NFS).
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub shared: bool,
}

impl ClusterResource {
    /// Whether this is a guest (VM or container) rather than a node or storage.
    pub fn is_guest(&self) -> bool {
        self.kind == "qemu" || self.kind == "lxc"
    }
}

/// One entry of `GET /nodes/{node}/storage`.
#[derive(Debug, Clone, Deserialize)]
pub struct StorageInfo {
    pub storage: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub content: String,
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub active: bool,
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub shared: bool,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub total: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub used: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub avail: Option<u64>,
}

/// One entry of `GET /pools`.
#[derive(Debug, Clone, Deserialize)]
pub struct PoolSummary {
    pub poolid: String,
    #[serde(default)]
    pub comment: Option<String>,
}

/// `GET /pools/{poolid}`.
#[derive(Debug, Clone, Deserialize)]
pub struct PoolContents {
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub members: Vec<PoolMember>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PoolMember {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub node: String,
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub vmid: Option<u32>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub template: bool,
}

/// One entry of `GET /nodes/{node}/qemu`.
#[derive(Debug, Clone, Deserialize)]
pub struct QemuVm {
    #[serde(deserialize_with = "lenient::u32")]
    pub vmid: u32,
    pub status: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub template: bool,
    #[serde(default)]
    pub lock: Option<String>,
    #[serde(default)]
    pub tags: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub cpus: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub maxmem: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub maxdisk: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub uptime: Option<u64>,
}

/// The parts of `GET /nodes/{node}/qemu/{vmid}/config` the product reads.
#[derive(Debug, Clone, Deserialize)]
pub struct VmConfig {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub cores: Option<u32>,
    /// Raw, since newer Proxmox prints it as a property string (`4096` or
    /// `current=4096`); see [`VmConfig::memory_mib`].
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub memory: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The guest OS kind (`l26`, `win11`, …).
    #[serde(default)]
    pub ostype: Option<String>,
    #[serde(default)]
    pub tags: Option<String>,
    #[serde(default)]
    pub net0: Option<String>,
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub template: bool,
    #[serde(default)]
    pub lock: Option<String>,
    #[serde(default)]
    pub digest: Option<String>,
    /// Disks, as `storage:volume,options`; the boot disk is usually one of these.
    #[serde(default)]
    pub scsi0: Option<String>,
    #[serde(default)]
    pub virtio0: Option<String>,
    #[serde(default)]
    pub sata0: Option<String>,
    #[serde(default)]
    pub ide0: Option<String>,
}

impl VmConfig {
    /// The storage of the first disk (`vmdata` in `vmdata:base-9000-disk-0,size=8G`).
    pub fn disk_storage(&self) -> Option<&str> {
        [&self.scsi0, &self.virtio0, &self.sata0, &self.ide0]
            .into_iter()
            .flatten()
            .filter(|disk| !disk.contains("media=cdrom"))
            .find_map(|disk| disk.split_once(':').map(|(storage, _)| storage))
    }

    /// Memory in MiB from either form of the `memory` property.
    pub fn memory_mib(&self) -> Option<u64> {
        let raw = self.memory.as_deref()?;
        raw.split(',')
            .map(|part| part.strip_prefix("current=").unwrap_or(part))
            .find_map(|part| part.trim().parse().ok())
    }
}

/// Settings to change with [`crate::PveClient::update_vm_config`]; `None` leaves a
/// setting as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VmConfigUpdate {
    pub name: Option<String>,
    pub cores: Option<u32>,
    pub memory_mib: Option<u64>,
    pub description: Option<String>,
    /// Proxmox separates tags with `;` (it also accepts `,` and spaces).
    pub tags: Option<String>,
    /// Network device, e.g. `virtio,bridge=vmbr1,firewall=1`.
    pub net0: Option<String>,
}

/// Options of [`crate::PveClient::clone_vm`]. The pool is always the configured pool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloneOptions {
    /// The new VMID, usually from [`crate::PveClient::next_id`].
    pub newid: u32,
    pub name: Option<String>,
    /// Node to create the clone on; defaults to the source's node.
    pub target: Option<String>,
    /// Full (independent disks) or linked clone; `None` uses `PVE_VMS_FULL_CLONE_DEFAULT`.
    pub full: Option<bool>,
    /// Target storage; Proxmox allows it only for full clones.
    pub storage: Option<String>,
    pub description: Option<String>,
}

/// `GET /nodes/{node}/qemu/{vmid}/status/current`.
#[derive(Debug, Clone, Deserialize)]
pub struct VmStatus {
    #[serde(deserialize_with = "lenient::u32")]
    pub vmid: u32,
    /// `running` or `stopped`.
    pub status: String,
    /// Finer state from QEMU: `running`, `paused`, `prelaunch`, ...
    #[serde(default)]
    pub qmpstatus: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub lock: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub uptime: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub cpu: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub cpus: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub mem: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub maxmem: Option<u64>,
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub template: bool,
    /// Whether the guest agent is enabled in the config (not whether it answers).
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub agent: bool,
}

impl VmStatus {
    pub fn is_running(&self) -> bool {
        self.status == "running"
    }
}

/// One entry of `GET .../snapshot`; the entry named `current` is the live state.
#[derive(Debug, Clone, Deserialize)]
pub struct Snapshot {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub snaptime: Option<u64>,
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub vmstate: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AgentResult {
    #[serde(default)]
    pub result: Vec<NetworkInterface>,
}

/// One interface reported by the guest agent's `network-get-interfaces`.
#[derive(Debug, Clone, Deserialize)]
pub struct NetworkInterface {
    pub name: String,
    #[serde(default, rename = "hardware-address")]
    pub hardware_address: Option<String>,
    #[serde(default, rename = "ip-addresses")]
    pub ip_addresses: Vec<IpAddress>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IpAddress {
    #[serde(rename = "ip-address")]
    pub ip_address: String,
    /// `ipv4` or `ipv6`.
    #[serde(rename = "ip-address-type")]
    pub ip_address_type: String,
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub prefix: Option<u32>,
}

/// The guest's IPv4 addresses except loopback, i.e. the ones a user can connect to.
pub fn guest_ipv4_addresses(interfaces: &[NetworkInterface]) -> Vec<String> {
    interfaces
        .iter()
        .flat_map(|iface| &iface.ip_addresses)
        .filter(|ip| ip.ip_address_type == "ipv4" && !ip.ip_address.starts_with("127."))
        .map(|ip| ip.ip_address.clone())
        .collect()
}

/// `GET /nodes/{node}/tasks/{upid}/status`.
#[derive(Debug, Clone, Deserialize)]
pub struct TaskStatus {
    pub upid: Upid,
    pub node: String,
    /// `running` or `stopped`.
    pub status: String,
    /// Set once stopped: `OK`, `WARNINGS: n`, or the error message.
    #[serde(default)]
    pub exitstatus: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub user: String,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub starttime: Option<u64>,
}

impl TaskStatus {
    pub fn is_running(&self) -> bool {
        self.status == "running"
    }

    /// Proxmox counts a task that finished with warnings as done.
    pub fn succeeded(&self) -> bool {
        !self.is_running() && self.exitstatus.as_deref().is_some_and(|s| s == "OK" || s.starts_with("WARNINGS"))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct TaskLogLine {
    #[serde(deserialize_with = "lenient::u64")]
    pub n: u64,
    pub t: String,
}

/// `POST .../vncproxy` with `websocket=1`: what the browser needs to open the console.
#[derive(Debug, Clone, Deserialize)]
pub struct VncProxy {
    #[serde(deserialize_with = "lenient::u32")]
    pub port: u32,
    pub ticket: String,
    pub user: String,
    pub upid: Upid,
    #[serde(default)]
    pub cert: Option<String>,
}

/// Deserializers that accept what real Proxmox servers print: numbers as numbers or
/// strings, booleans as `true`/`false`, `0`/`1` or `"0"`/`"1"`.
pub(crate) mod lenient {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    fn to_f64(v: &Value) -> Option<f64> {
        match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn to_u64(v: &Value) -> Option<u64> {
        match v {
            Value::Number(n) => n.as_u64().or_else(|| {
                n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64).map(|f| f as u64)
            }),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn to_bool(v: &Value) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => n.as_u64().map(|n| n != 0),
            Value::String(s) => match s.trim() {
                "1" | "true" => Some(true),
                "0" | "false" | "" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    fn convert<'de, D, T>(d: D, f: impl Fn(&Value) -> Option<T>, what: &str) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
    {
        let v = Value::deserialize(d)?;
        f(&v).ok_or_else(|| D::Error::custom(format!("expected {what}, got {v}")))
    }

    fn convert_opt<'de, D, T>(d: D, f: impl Fn(&Value) -> Option<T>, what: &str) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
    {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            v => f(&v).map(Some).ok_or_else(|| D::Error::custom(format!("expected {what}, got {v}"))),
        }
    }

    pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        convert(d, to_u64, "an unsigned integer")
    }

    pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        convert(d, |v| to_u64(v).and_then(|n| u32::try_from(n).ok()), "a 32-bit unsigned integer")
    }

    pub fn f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        convert(d, to_f64, "a number")
    }

    pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        convert_opt(d, to_u64, "an unsigned integer")
    }

    pub fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        convert_opt(d, |v| to_u64(v).and_then(|n| u32::try_from(n).ok()), "a 32-bit unsigned integer")
    }

    pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        convert_opt(d, to_f64, "a number")
    }

    pub fn bool_or_false<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(convert_opt(d, to_bool, "a boolean")?.unwrap_or(false))
    }

    /// A string, or a number printed as one.
    pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        convert_opt(
            d,
            |v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            },
            "a string",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn upid_names_its_node() {
        let upid = Upid("UPID:pve2:0000ABCD:0012F0A1:6543ABCD:qmclone:100:openvle@pve!demo:".into());
        assert_eq!(upid.node(), Some("pve2"));
        assert_eq!(Upid("garbage".into()).node(), None);
    }

    #[test]
    fn numbers_and_booleans_as_strings() {
        let r: ClusterResource = serde_json::from_value(json!({
            "id": "qemu/100", "type": "qemu", "vmid": "100", "template": 1,
            "maxmem": 2147483648.0, "cpu": "0.5"
        }))
        .unwrap();
        assert_eq!(r.vmid, Some(100));
        assert!(r.template);
        assert_eq!(r.maxmem, Some(2_147_483_648));
        assert_eq!(r.cpu, Some(0.5));
        let bad: Result<ClusterResource, _> = serde_json::from_value(json!({"id": "x", "type": "qemu", "vmid": "abc"}));
        assert!(bad.is_err());
    }

    #[test]
    fn memory_in_both_forms() {
        let cfg: VmConfig = serde_json::from_value(json!({"memory": "current=4096"})).unwrap();
        assert_eq!(cfg.memory_mib(), Some(4096));
        let cfg: VmConfig = serde_json::from_value(json!({"memory": 2048})).unwrap();
        assert_eq!(cfg.memory_mib(), Some(2048));
    }

    #[test]
    fn disk_storage_skips_cd_drives() {
        let cfg: VmConfig = serde_json::from_value(json!({
            "ide0": "local:iso/debian.iso,media=cdrom", "sata0": "local-lvm:vm-100-disk-0,size=8G"
        }))
        .unwrap();
        assert_eq!(cfg.disk_storage(), Some("local-lvm"));
    }

    #[test]
    fn task_success_includes_warnings() {
        let mut t: TaskStatus = serde_json::from_value(json!({
            "upid": "UPID:pve1:1:2:3:qmstart:100:root@pam:", "node": "pve1",
            "status": "stopped", "exitstatus": "WARNINGS: 2", "type": "qmstart"
        }))
        .unwrap();
        assert!(t.succeeded());
        t.exitstatus = Some("boom".into());
        assert!(!t.succeeded());
        t.status = "running".into();
        assert!(t.is_running() && !t.succeeded());
    }

    #[test]
    fn ipv4_filter_skips_loopback_and_v6() {
        let ifaces: Vec<NetworkInterface> = serde_json::from_value(json!([
            {"name": "lo", "ip-addresses": [{"ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8}]},
            {"name": "eth0", "hardware-address": "bc:24:11:00:00:01", "ip-addresses": [
                {"ip-address": "10.0.1.5", "ip-address-type": "ipv4", "prefix": 24},
                {"ip-address": "fe80::1", "ip-address-type": "ipv6", "prefix": 64}]}
        ]))
        .unwrap();
        assert_eq!(guest_ipv4_addresses(&ifaces), ["10.0.1.5"]);
    }
}
