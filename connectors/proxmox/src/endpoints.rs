//! The Proxmox VE API calls this client makes, as data.
//!
//! The client builds every request from these entries (path template and declared
//! parameters), and in debug builds refuses to send a parameter that is not declared
//! here with the same kind. The contract test checks this table against Proxmox's
//! published API schema, so the code and the check cannot drift apart.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    /// The upper-case name, as used by the schema's `info` keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    /// GET and DELETE carry parameters in the query string, POST and PUT in a form body.
    pub fn params_in_query(self) -> bool {
        matches!(self, Method::Get | Method::Delete)
    }
}

/// How a parameter value is written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    String,
    /// Decimal digits.
    Integer,
    /// `0` or `1`, as Proxmox expects.
    Boolean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub kind: ParamKind,
}

/// One API call: method, path template (placeholders like the schema's: `{node}`), and
/// the parameters the client may send besides the path placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    pub params: &'static [Param],
}

impl Endpoint {
    /// The declared kind of a parameter, if it is declared.
    pub fn param_kind(&self, name: &str) -> Option<ParamKind> {
        self.params.iter().find(|p| p.name == name).map(|p| p.kind)
    }

    /// The placeholder names in the path template, in order.
    pub fn placeholders(&self) -> impl Iterator<Item = &'static str> {
        self.path.split('/').filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method.as_str(), self.path)
    }
}

const fn s(name: &'static str) -> Param {
    Param { name, kind: ParamKind::String }
}
const fn i(name: &'static str) -> Param {
    Param { name, kind: ParamKind::Integer }
}
const fn b(name: &'static str) -> Param {
    Param { name, kind: ParamKind::Boolean }
}

const fn get(path: &'static str, params: &'static [Param]) -> Endpoint {
    Endpoint { method: Method::Get, path, params }
}
const fn post(path: &'static str, params: &'static [Param]) -> Endpoint {
    Endpoint { method: Method::Post, path, params }
}

pub const VERSION: Endpoint = get("/version", &[]);
pub const NODES: Endpoint = get("/nodes", &[]);
pub const NODE_STATUS: Endpoint = get("/nodes/{node}/status", &[]);
pub const CLUSTER_RESOURCES: Endpoint = get("/cluster/resources", &[s("type")]);
pub const CLUSTER_NEXTID: Endpoint = get("/cluster/nextid", &[]);
pub const NODE_STORAGE: Endpoint = get("/nodes/{node}/storage", &[s("content")]);
pub const POOLS: Endpoint = get("/pools", &[]);
pub const POOL: Endpoint = get("/pools/{poolid}", &[]);
pub const QEMU_LIST: Endpoint = get("/nodes/{node}/qemu", &[]);
pub const VM_CONFIG: Endpoint = get("/nodes/{node}/qemu/{vmid}/config", &[]);
pub const VM_CONFIG_UPDATE: Endpoint = Endpoint {
    method: Method::Put,
    path: "/nodes/{node}/qemu/{vmid}/config",
    params: &[s("name"), i("cores"), s("memory"), s("description"), s("tags"), s("net0")],
};
pub const VM_CLONE: Endpoint = post(
    "/nodes/{node}/qemu/{vmid}/clone",
    &[i("newid"), s("name"), s("target"), b("full"), s("storage"), s("pool"), s("description")],
);
pub const VM_TEMPLATE: Endpoint = post("/nodes/{node}/qemu/{vmid}/template", &[]);
pub const VM_STATUS: Endpoint = get("/nodes/{node}/qemu/{vmid}/status/current", &[]);
pub const VM_START: Endpoint = post("/nodes/{node}/qemu/{vmid}/status/start", &[]);
pub const VM_STOP: Endpoint = post("/nodes/{node}/qemu/{vmid}/status/stop", &[]);
pub const VM_SHUTDOWN: Endpoint = post("/nodes/{node}/qemu/{vmid}/status/shutdown", &[i("timeout"), b("forceStop")]);
pub const VM_REBOOT: Endpoint = post("/nodes/{node}/qemu/{vmid}/status/reboot", &[]);
pub const VM_RESET: Endpoint = post("/nodes/{node}/qemu/{vmid}/status/reset", &[]);
pub const VM_SUSPEND: Endpoint = post("/nodes/{node}/qemu/{vmid}/status/suspend", &[]);
pub const VM_RESUME: Endpoint = post("/nodes/{node}/qemu/{vmid}/status/resume", &[]);
pub const VM_DELETE: Endpoint = Endpoint {
    method: Method::Delete,
    path: "/nodes/{node}/qemu/{vmid}",
    params: &[b("purge"), b("destroy-unreferenced-disks")],
};
pub const SNAPSHOTS: Endpoint = get("/nodes/{node}/qemu/{vmid}/snapshot", &[]);
pub const SNAPSHOT_CREATE: Endpoint =
    post("/nodes/{node}/qemu/{vmid}/snapshot", &[s("snapname"), s("description"), b("vmstate")]);
pub const SNAPSHOT_ROLLBACK: Endpoint = post("/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback", &[]);
pub const SNAPSHOT_DELETE: Endpoint =
    Endpoint { method: Method::Delete, path: "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}", params: &[] };
pub const AGENT_NETWORK: Endpoint = get("/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces", &[]);
pub const TASK_STATUS: Endpoint = get("/nodes/{node}/tasks/{upid}/status", &[]);
pub const TASK_LOG: Endpoint = get("/nodes/{node}/tasks/{upid}/log", &[i("start"), i("limit")]);
pub const VNC_PROXY: Endpoint = post("/nodes/{node}/qemu/{vmid}/vncproxy", &[b("websocket")]);
/// Not requested by this client: the browser (or the remote-desktop gateway) opens it as a
/// websocket; the client only builds its URL.
pub const VNC_WEBSOCKET: Endpoint = get("/nodes/{node}/qemu/{vmid}/vncwebsocket", &[i("port"), s("vncticket")]);

/// Every endpoint the client uses; the contract test iterates this.
pub const ENDPOINTS: &[&Endpoint] = &[
    &VERSION,
    &NODES,
    &NODE_STATUS,
    &CLUSTER_RESOURCES,
    &CLUSTER_NEXTID,
    &NODE_STORAGE,
    &POOLS,
    &POOL,
    &QEMU_LIST,
    &VM_CONFIG,
    &VM_CONFIG_UPDATE,
    &VM_CLONE,
    &VM_TEMPLATE,
    &VM_STATUS,
    &VM_START,
    &VM_STOP,
    &VM_SHUTDOWN,
    &VM_REBOOT,
    &VM_RESET,
    &VM_SUSPEND,
    &VM_RESUME,
    &VM_DELETE,
    &SNAPSHOTS,
    &SNAPSHOT_CREATE,
    &SNAPSHOT_ROLLBACK,
    &SNAPSHOT_DELETE,
    &AGENT_NETWORK,
    &TASK_STATUS,
    &TASK_LOG,
    &VNC_PROXY,
    &VNC_WEBSOCKET,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_parsed_in_order() {
        let names: Vec<_> = SNAPSHOT_ROLLBACK.placeholders().collect();
        assert_eq!(names, ["node", "vmid", "snapname"]);
        assert_eq!(VM_CLONE.param_kind("full"), Some(ParamKind::Boolean));
        assert_eq!(VM_CLONE.param_kind("bogus"), None);
    }

    #[test]
    fn table_has_no_duplicates() {
        for (n, a) in ENDPOINTS.iter().enumerate() {
            for other in &ENDPOINTS[n + 1..] {
                assert!(!(a.method == other.method && a.path == other.path), "{a} listed twice");
            }
        }
    }
}
