//! The `/api2/json` endpoints.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::Instant;

use axum::extract::{Extension, Path, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::auth::{Caller, authenticate};
use super::console::Redeem;
use super::error::ApiError;
use super::params::{Params, parse_vmid};
use super::state::{Cluster, GIB, NodeState, Power, SnapshotRec, Vm, ip_for, mac_for};
use super::tasks::{TaskCtx, storage_lock_path, unix_now, vm_lock_path};
use super::websocket::UpgradeRequest;
use super::{Simulator, StorageSpec, lock};

type ApiResult = Result<Response, ApiError>;

const PVE_VERSION: &str = "9.1.1";
const PVE_RELEASE: &str = "9.1";
const PVE_REPOID: &str = "8a3c1e9f";

fn ok(data: Value) -> ApiResult {
    Ok(Json(json!({ "data": data })).into_response())
}

pub(crate) fn router(sim: Simulator) -> Router {
    let api = Router::new()
        .route("/version", get(version))
        .route("/nodes", get(nodes))
        .route("/nodes/{node}/status", get(node_status))
        .route("/cluster/resources", get(cluster_resources))
        .route("/cluster/nextid", get(next_id))
        .route("/nodes/{node}/storage", get(node_storage))
        .route("/pools", get(pools))
        .route("/pools/{poolid}", get(pool))
        .route("/nodes/{node}/qemu", get(qemu_list))
        .route("/nodes/{node}/qemu/{vmid}", axum::routing::delete(delete_vm))
        .route("/nodes/{node}/qemu/{vmid}/config", get(vm_config).put(update_vm_config))
        .route("/nodes/{node}/qemu/{vmid}/clone", post(clone_vm))
        .route("/nodes/{node}/qemu/{vmid}/template", post(template))
        .route("/nodes/{node}/qemu/{vmid}/status/current", get(vm_status))
        .route("/nodes/{node}/qemu/{vmid}/status/{action}", post(vm_action))
        .route("/nodes/{node}/qemu/{vmid}/snapshot", get(snapshots).post(create_snapshot))
        .route("/nodes/{node}/qemu/{vmid}/snapshot/{snapname}", axum::routing::delete(delete_snapshot))
        .route("/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback", post(rollback))
        .route("/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces", get(agent_interfaces))
        .route("/nodes/{node}/qemu/{vmid}/vncproxy", post(vnc_proxy))
        .route("/nodes/{node}/qemu/{vmid}/vncwebsocket", get(vnc_websocket))
        .route("/nodes/{node}/tasks/{upid}/status", get(task_status))
        .route("/nodes/{node}/tasks/{upid}/log", get(task_log))
        .fallback(not_implemented)
        .layer(middleware::from_fn_with_state(sim.clone(), gate))
        .with_state(sim);
    Router::new().nest("/api2/json", api)
}

async fn not_implemented(req: Request) -> Response {
    let path = req.uri().path().strip_prefix("/api2/json").unwrap_or(req.uri().path()).to_owned();
    ApiError::not_implemented(req.method().as_str(), &path).into_response()
}

/// Runs before every handler: injected latency, hangs and errors, offline or unknown
/// nodes (as the proxying `pveproxy` reports them), then the token check.
async fn gate(State(sim): State<Simulator>, mut req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_owned();
    let full_path = req.uri().path();
    let path = full_path.strip_prefix("/api2/json").unwrap_or(full_path).to_owned();
    let decision = lock(&sim.inner.faults).decide(&method, &path);
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    if decision.hang {
        sim.wait_for_shutdown().await;
        return ApiError::internal("simulator shutting down").into_response();
    }
    if let Some(node) = path.strip_prefix("/nodes/").and_then(|rest| rest.split('/').next()) {
        let online = lock(&sim.inner.cluster).node(node).map(|n| n.online);
        match online {
            Some(true) => {}
            Some(false) => return ApiError::node_unreachable(node).into_response(),
            None => {
                return ApiError::internal(format!(
                    "hostname lookup '{node}' failed - failed to get address info for: {node}: Name or service not known"
                ))
                .into_response();
            }
        }
    }
    let header = req.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let caller = match authenticate(header, &sim.inner.config.tokens) {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    if let Some((status, message)) = decision.error {
        return ApiError::injected(status, &message).into_response();
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}

// ----- cluster, nodes, storage, pools --------------------------------------------------

async fn version(params: Params) -> ApiResult {
    params.allow(&[])?;
    ok(json!({ "version": PVE_VERSION, "release": PVE_RELEASE, "repoid": PVE_REPOID }))
}

fn node_uptime(sim: &Simulator) -> u64 {
    // Nodes "booted" a day before the simulator started.
    86_400 + sim.inner.epoch.elapsed().as_secs()
}

async fn nodes(State(sim): State<Simulator>, params: Params) -> ApiResult {
    params.allow(&[])?;
    let cluster = lock(&sim.inner.cluster);
    let list: Vec<Value> = cluster
        .nodes
        .iter()
        .map(|node| {
            if !node.online {
                return json!({ "node": node.name, "status": "offline" });
            }
            json!({
                "node": node.name,
                "status": "online",
                "cpu": cluster.node_cpu_load(node),
                "maxcpu": node.cpus,
                "mem": cluster.node_mem_used(&node.name),
                "maxmem": node.memory_bytes,
                "uptime": node_uptime(&sim),
                "level": "",
                "ssl_fingerprint": fake_fingerprint(&node.name),
            })
        })
        .collect();
    ok(Value::Array(list))
}

fn fake_fingerprint(seed: &str) -> String {
    let mut hasher = DefaultHasher::new();
    seed.hash(&mut hasher);
    let bytes = hasher.finish().to_be_bytes();
    (0..32).map(|i| format!("{:02X}", bytes[i % 8] ^ i as u8)).collect::<Vec<_>>().join(":")
}

async fn node_status(State(sim): State<Simulator>, Path(node): Path<String>, params: Params) -> ApiResult {
    params.allow(&[])?;
    let cluster = lock(&sim.inner.cluster);
    let state = cluster.node(&node).ok_or_else(|| ApiError::internal(format!("no such node '{node}'")))?;
    let used = cluster.node_mem_used(&node);
    let free = state.memory_bytes.saturating_sub(used);
    let root_total = 100 * GIB;
    let root_used = 12 * GIB;
    ok(json!({
        "boot-info": { "mode": "efi", "secureboot": 0 },
        "cpu": cluster.node_cpu_load(state),
        "cpuinfo": {
            "cores": state.cpus / 2, "cpus": state.cpus, "model": "Simulated CPU @ 3.00GHz",
            "sockets": 1
        },
        "current-kernel": {
            "machine": "x86_64", "release": "6.14.8-2-pve", "sysname": "Linux",
            "version": "#1 SMP PREEMPT_DYNAMIC PMX 6.14.8-2"
        },
        "kversion": "Linux 6.14.8-2-pve #1 SMP PREEMPT_DYNAMIC PMX 6.14.8-2",
        "loadavg": ["0.42", "0.37", "0.30"],
        "memory": { "total": state.memory_bytes, "used": used, "free": free, "available": free },
        "pveversion": format!("pve-manager/{PVE_VERSION}/{PVE_REPOID}"),
        "rootfs": { "total": root_total, "used": root_used, "free": root_total - root_used, "avail": root_total - root_used },
        "swap": { "total": 0, "used": 0, "free": 0 },
        "uptime": node_uptime(&sim),
        "wait": 0.0,
        "idle": 0,
    }))
}

fn vm_resource(vm: &Vm, node_online: bool, now: Instant) -> Value {
    let mut entry = json!({
        "id": format!("qemu/{}", vm.vmid),
        "type": "qemu",
        "vmid": vm.vmid,
        "name": vm.name,
        "node": vm.node,
        "status": if node_online { vm.status_str() } else { "unknown" },
        "template": u8::from(vm.template),
        "maxcpu": vm.cores,
        "cpu": if vm.is_running() { 0.02 } else { 0.0 },
        "maxmem": vm.maxmem(),
        "mem": vm.mem(),
        "maxdisk": vm.disk_bytes,
        "disk": 0,
        "uptime": vm.uptime(now),
        "netin": 0, "netout": 0, "diskread": 0, "diskwrite": 0,
    });
    if let Some(pool) = &vm.pool {
        entry["pool"] = json!(pool);
    }
    if !vm.tags.is_empty() {
        entry["tags"] = json!(vm.tags);
    }
    if let Some(lock) = &vm.lock {
        entry["lock"] = json!(lock);
    }
    entry
}

fn node_resource(sim: &Simulator, cluster: &Cluster, node: &NodeState) -> Value {
    if !node.online {
        return json!({ "id": format!("node/{}", node.name), "type": "node", "node": node.name, "status": "offline" });
    }
    json!({
        "id": format!("node/{}", node.name),
        "type": "node",
        "node": node.name,
        "status": "online",
        "cpu": cluster.node_cpu_load(node),
        "maxcpu": node.cpus,
        "mem": cluster.node_mem_used(&node.name),
        "maxmem": node.memory_bytes,
        "disk": 12 * GIB,
        "maxdisk": 100 * GIB,
        "uptime": node_uptime(sim),
        "level": "",
        "cgroup-mode": 2,
    })
}

fn storage_resource(cluster: &Cluster, node: &NodeState, storage: &StorageSpec) -> Value {
    json!({
        "id": format!("storage/{}/{}", node.name, storage.name),
        "type": "storage",
        "node": node.name,
        "storage": storage.name,
        "status": if node.online { "available" } else { "unknown" },
        "plugintype": storage.kind,
        "content": storage.content,
        "shared": u8::from(storage.shared),
        "maxdisk": storage.capacity_gib * GIB,
        "disk": cluster.storage_used(&node.name, storage),
    })
}

async fn cluster_resources(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> ApiResult {
    params.allow(&["type"])?;
    let kind = params.str("type");
    if let Some(kind) = kind
        && !["vm", "storage", "node", "sdn"].contains(&kind)
    {
        return Err(ApiError::param(
            "type",
            format!("value '{kind}' does not have a value in the enumeration 'vm, storage, node, sdn'"),
        ));
    }
    let wants = |k: &str| kind.is_none_or(|wanted| wanted == k);
    let cluster = lock(&sim.inner.cluster);
    let now = Instant::now();
    let mut out = Vec::new();
    if wants("vm") {
        for vm in cluster.vms.values().filter(|vm| caller.can_see(vm)) {
            let online = cluster.node(&vm.node).is_some_and(|n| n.online);
            out.push(vm_resource(vm, online, now));
        }
    }
    if wants("node") {
        out.extend(cluster.nodes.iter().map(|n| node_resource(&sim, &cluster, n)));
    }
    if wants("storage") {
        for node in &cluster.nodes {
            out.extend(cluster.storages.iter().map(|s| storage_resource(&cluster, node, s)));
        }
    }
    if kind.is_none() {
        for pool in cluster.pools.keys().filter(|p| caller.can_use_pool(p)) {
            out.push(json!({ "id": format!("/pool/{pool}"), "type": "pool", "pool": pool }));
        }
    }
    ok(Value::Array(out))
}

/// Like Proxmox, answers the lowest free VMID without reserving it, as a string.
async fn next_id(State(sim): State<Simulator>, params: Params) -> ApiResult {
    params.allow(&["vmid"])?;
    let cluster = lock(&sim.inner.cluster);
    if let Some(wanted) = params.int("vmid")? {
        let wanted = u32::try_from(wanted).map_err(|_| ApiError::param("vmid", "value out of range"))?;
        if cluster.vms.contains_key(&wanted) {
            return Err(ApiError::param("vmid", format!("VM {wanted} already exists")));
        }
        return ok(json!(wanted.to_string()));
    }
    ok(json!(cluster.next_free_vmid(sim.inner.config.first_vmid).to_string()))
}

async fn node_storage(State(sim): State<Simulator>, Path(node): Path<String>, params: Params) -> ApiResult {
    params.allow(&["content", "enabled", "storage", "target", "format"])?;
    let cluster = lock(&sim.inner.cluster);
    let content = params.str("content");
    let only = params.str("storage");
    let list: Vec<Value> = cluster
        .storages
        .iter()
        .filter(|s| content.is_none_or(|c| s.content.split(',').any(|have| have == c)))
        .filter(|s| only.is_none_or(|name| s.name == name))
        .map(|s| {
            let total = s.capacity_gib * GIB;
            let used = cluster.storage_used(&node, s).min(total);
            json!({
                "storage": s.name,
                "type": s.kind,
                "content": s.content,
                "active": 1,
                "enabled": 1,
                "shared": u8::from(s.shared),
                "total": total,
                "used": used,
                "avail": total - used,
                "used_fraction": used as f64 / total.max(1) as f64,
            })
        })
        .collect();
    ok(Value::Array(list))
}

async fn pools(State(sim): State<Simulator>, Extension(caller): Extension<Caller>, params: Params) -> ApiResult {
    params.allow(&["poolid", "type"])?;
    let cluster = lock(&sim.inner.cluster);
    let list: Vec<Value> = cluster
        .pools
        .iter()
        .filter(|(id, _)| caller.can_use_pool(id))
        .filter(|(id, _)| params.str("poolid").is_none_or(|wanted| wanted == id.as_str()))
        .map(|(id, comment)| json!({ "poolid": id, "comment": comment }))
        .collect();
    ok(Value::Array(list))
}

async fn pool(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    Path(poolid): Path<String>,
    params: Params,
) -> ApiResult {
    params.allow(&["type"])?;
    if !caller.can_use_pool(&poolid) {
        return Err(ApiError::forbidden(&format!("/pool/{poolid}"), "Pool.Audit"));
    }
    let cluster = lock(&sim.inner.cluster);
    let comment =
        cluster.pools.get(&poolid).ok_or_else(|| ApiError::internal(format!("pool '{poolid}' does not exist")))?;
    let now = Instant::now();
    let members: Vec<Value> = cluster
        .vms
        .values()
        .filter(|vm| vm.pool.as_deref() == Some(poolid.as_str()))
        .map(|vm| {
            let online = cluster.node(&vm.node).is_some_and(|n| n.online);
            vm_resource(vm, online, now)
        })
        .collect();
    ok(json!({ "comment": comment, "members": members }))
}

// ----- VMs -----------------------------------------------------------------------------

async fn qemu_list(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    Path(node): Path<String>,
    params: Params,
) -> ApiResult {
    params.allow(&["full"])?;
    let cluster = lock(&sim.inner.cluster);
    let now = Instant::now();
    let list: Vec<Value> = cluster
        .vms
        .values()
        .filter(|vm| vm.node == node && caller.can_see(vm))
        .map(|vm| {
            let mut entry = json!({
                "vmid": vm.vmid,
                "name": vm.name,
                "status": vm.status_str(),
                "cpus": vm.cores,
                "cpu": if vm.is_running() { 0.02 } else { 0.0 },
                "maxmem": vm.maxmem(),
                "mem": vm.mem(),
                "maxdisk": vm.disk_bytes,
                "uptime": vm.uptime(now),
                "netin": 0, "netout": 0, "diskread": 0, "diskwrite": 0,
            });
            if vm.template {
                entry["template"] = json!(1);
            }
            if vm.is_running() {
                entry["pid"] = json!(vm.pid);
            }
            if !vm.tags.is_empty() {
                entry["tags"] = json!(vm.tags);
            }
            if let Some(lock) = &vm.lock {
                entry["lock"] = json!(lock);
            }
            entry
        })
        .collect();
    ok(Value::Array(list))
}

/// Checks the caller's privilege on the VM, then that it exists on `node`.
fn visible_vm<'a>(
    cluster: &'a Cluster,
    caller: &Caller,
    node: &str,
    vmid: u32,
    privilege: &str,
) -> Result<&'a Vm, ApiError> {
    caller.check_vm(cluster.vms.get(&vmid), vmid, privilege)?;
    cluster.vm_on(node, vmid)
}

fn config_digest(config: &Map<String, Value>) -> String {
    let mut hasher = DefaultHasher::new();
    Value::Object(config.clone()).to_string().hash(&mut hasher);
    let a = hasher.finish();
    a.hash(&mut hasher);
    let b = hasher.finish();
    format!("{a:016x}{b:016x}{:08x}", (a ^ b) as u32)
}

fn vm_config_map(vm: &Vm) -> Map<String, Value> {
    let windows = vm.name.to_ascii_lowercase().contains("win");
    let mut config = Map::new();
    config.insert("name".into(), json!(vm.name));
    config.insert("cores".into(), json!(vm.cores));
    config.insert("sockets".into(), json!(1));
    // Proxmox prints memory as a property string since it gained sub-options.
    config.insert("memory".into(), json!(vm.memory_mib.to_string()));
    config.insert("net0".into(), json!(vm.net0));
    let size_gib = (vm.disk_bytes as f64 / GIB as f64).ceil() as u64;
    config.insert("scsi0".into(), json!(format!("{},size={size_gib}G", vm.disk_volume())));
    config.insert("scsihw".into(), json!("virtio-scsi-single"));
    config.insert("boot".into(), json!("order=scsi0;net0"));
    config.insert("ostype".into(), json!(if windows { "win11" } else { "l26" }));
    config.insert("agent".into(), json!(if vm.agent { "1" } else { "0" }));
    if !vm.description.is_empty() {
        config.insert("description".into(), json!(vm.description));
    }
    if !vm.tags.is_empty() {
        config.insert("tags".into(), json!(vm.tags));
    }
    if vm.template {
        config.insert("template".into(), json!(1));
    }
    if let Some(lock) = &vm.lock {
        config.insert("lock".into(), json!(lock));
    }
    if let Some(last) = vm.snapshots.last() {
        config.insert("parent".into(), json!(last.name));
    }
    config
}

async fn vm_config(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    Path((node, vmid)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    params.allow(&["current", "snapshot"])?;
    let vmid = parse_vmid(&vmid)?;
    let cluster = lock(&sim.inner.cluster);
    let vm = visible_vm(&cluster, &caller, &node, vmid, "VM.Audit")?;
    let mut config = vm_config_map(vm);
    let digest = config_digest(&config);
    config.insert("digest".into(), json!(digest));
    ok(Value::Object(config))
}

fn valid_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

async fn update_vm_config(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    Path((node, vmid)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    params.allow(&["name", "cores", "memory", "description", "tags", "net0", "digest", "delete"])?;
    let vmid = parse_vmid(&vmid)?;
    let name = params.str("name");
    if let Some(name) = name
        && !valid_dns_name(name)
    {
        return Err(ApiError::param("name", format!("value '{name}' does not look like a valid DNS name")));
    }
    let cores = params.int("cores")?;
    if cores == Some(0) {
        return Err(ApiError::param("cores", "value must have a minimum value of 1"));
    }
    let memory = params
        .str("memory")
        .map(|raw| {
            raw.strip_prefix("current=").unwrap_or(raw).parse::<u64>().ok().filter(|m| *m >= 16).ok_or_else(|| {
                ApiError::param(
                    "memory",
                    format!("invalid format - value '{raw}' is not a memory size of at least 16 MiB"),
                )
            })
        })
        .transpose()?;
    let mut cluster = lock(&sim.inner.cluster);
    caller.check_vm(cluster.vms.get(&vmid), vmid, "VM.Config.Options")?;
    let current_digest = {
        let vm = cluster.vm_on(&node, vmid)?;
        vm.require_unlocked()?;
        config_digest(&vm_config_map(vm))
    };
    if params.str("digest").is_some_and(|d| d != current_digest) {
        return Err(ApiError::internal("detected modified configuration - file changed by other user? Try again."));
    }
    let vm = cluster.vm_on_mut(&node, vmid)?;
    if let Some(name) = name {
        vm.name = name.to_owned();
    }
    if let Some(cores) = cores {
        vm.cores = u32::try_from(cores).unwrap_or(u32::MAX);
    }
    if let Some(memory) = memory {
        vm.memory_mib = memory;
    }
    if let Some(description) = params.str("description") {
        vm.description = description.to_owned();
    }
    if let Some(tags) = params.str("tags") {
        vm.tags = tags.to_owned();
    }
    if let Some(net0) = params.str("net0") {
        // Proxmox generates a MAC when only the model is given (`virtio,bridge=...`).
        let (model, rest) = net0.split_once(',').unwrap_or((net0, ""));
        vm.net0 = if model.contains('=') {
            net0.to_owned()
        } else {
            let mac = mac_for(vmid);
            if rest.is_empty() { format!("{model}={mac}") } else { format!("{model}={mac},{rest}") }
        };
    }
    for key in params.str("delete").unwrap_or("").split(',').map(str::trim).filter(|k| !k.is_empty()) {
        match key {
            "description" => vm.description.clear(),
            "tags" => vm.tags.clear(),
            other => {
                return Err(ApiError::param("delete", format!("cannot delete '{other}'")));
            }
        }
    }
    ok(Value::Null)
}

async fn clone_vm(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    Path((node, vmid)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    params.allow(&[
        "newid",
        "name",
        "target",
        "full",
        "storage",
        "pool",
        "description",
        "format",
        "snapname",
        "bwlimit",
    ])?;
    let vmid = parse_vmid(&vmid)?;
    let newid = parse_vmid(&params.require_int("newid")?.to_string())
        .map_err(|_| ApiError::param("newid", "value must have a minimum value of 100"))?;
    let name = params.str("name").map(str::to_owned);
    if let Some(name) = &name
        && !valid_dns_name(name)
    {
        return Err(ApiError::param("name", format!("value '{name}' does not look like a valid DNS name")));
    }
    let mut cluster = lock(&sim.inner.cluster);
    caller.check_vm(cluster.vms.get(&vmid), vmid, "VM.Clone")?;
    let pool = params.str("pool").map(str::to_owned);
    match &pool {
        Some(pool) if !caller.can_use_pool(pool) => {
            return Err(ApiError::forbidden(&format!("/pool/{pool}"), "VM.Allocate"));
        }
        None => return Err(ApiError::forbidden(&format!("/vms/{newid}"), "VM.Allocate")),
        Some(pool) if !cluster.pools.contains_key(pool) => {
            return Err(ApiError::internal(format!("pool '{pool}' does not exist")));
        }
        Some(_) => {}
    }
    let source = cluster.vm_on(&node, vmid)?.clone();
    let full = params.bool("full")?.unwrap_or(!source.template);
    if !full && !source.template {
        return Err(ApiError::internal("Linked clone feature is not supported for drive 'scsi0'"));
    }
    let storage_name = params.str("storage").map(str::to_owned);
    if storage_name.is_some() && !full {
        return Err(ApiError::param("storage", "option is only allowed for full clones"));
    }
    let storage_name = storage_name.unwrap_or_else(|| source.storage.clone());
    let storage = cluster
        .storage(&storage_name)
        .cloned()
        .ok_or_else(|| ApiError::internal(format!("storage '{storage_name}' does not exist")))?;
    let target = params.str("target").unwrap_or(&node).to_owned();
    match cluster.node(&target) {
        None => {
            return Err(ApiError::param("target", format!("no such cluster node '{target}'")));
        }
        Some(t) if !t.online => {
            return Err(ApiError::internal(format!("target node '{target}' is not online")));
        }
        Some(_) => {}
    }
    if target != node && !storage.shared {
        return Err(ApiError::internal(format!(
            "Can't clone to node '{target}': storage '{storage_name}' is not shared"
        )));
    }
    if !source.template {
        source.require_unlocked()?;
    }
    if let Some(existing) = cluster.vms.get(&newid) {
        return Err(ApiError::internal(format!("VM {newid} already exists on node '{}'", existing.node)));
    }
    // The new VM exists at once, locked, as on a real cluster; the task fills it in.
    let mut clone = source.clone();
    clone.vmid = newid;
    clone.node = target.clone();
    clone.name = name.unwrap_or_else(|| format!("Copy-of-VM-{}", source.name));
    clone.pool = pool;
    clone.template = false;
    clone.storage = storage_name.clone();
    clone.linked_base = if full { None } else { Some(vmid) };
    clone.net0 = super::state::net0_for(newid);
    clone.power = Power::Stopped;
    clone.lock = Some("clone".into());
    clone.snapshots.clear();
    clone.started_at = None;
    clone.agent_ready_at = None;
    if let Some(description) = params.str("description") {
        clone.description = description.to_owned();
    }
    let disk_gib = source.disk_bytes as f64 / GIB as f64;
    cluster.vms.insert(newid, clone);
    if !source.template
        && let Some(src) = cluster.vms.get_mut(&vmid)
    {
        src.lock = Some("clone".into());
    }
    cluster.dirty = true;
    drop(cluster);

    let timings = sim.inner.config.timings.clone();
    let task_node = node.clone();
    let upid =
        sim.spawn_task(&task_node, "qmclone", &vmid.to_string(), &caller.full_id, move |ctx: TaskCtx| async move {
            let result = run_clone(&ctx, &node, vmid, newid, full, &storage, disk_gib, &timings).await;
            let mut cluster = lock(&ctx.sim.inner.cluster);
            if let Some(src) = cluster.vms.get_mut(&vmid).filter(|src| src.lock.as_deref() == Some("clone")) {
                src.lock = None;
            }
            match &result {
                Ok(()) => {
                    if let Some(vm) = cluster.vms.get_mut(&newid) {
                        vm.lock = None;
                    }
                }
                // A failed clone is removed again, as Proxmox does.
                Err(_) => {
                    cluster.vms.remove(&newid);
                }
            }
            cluster.dirty = true;
            result
        });
    ok(json!(upid))
}

/// The slow part of a clone: waits for the storage lock and copies (full) or snapshots
/// (linked) the disk while holding it.
#[allow(clippy::too_many_arguments)]
async fn run_clone(
    ctx: &TaskCtx,
    node: &str,
    vmid: u32,
    newid: u32,
    full: bool,
    storage: &StorageSpec,
    disk_gib: f64,
    timings: &super::Timings,
) -> Result<(), String> {
    ctx.log(format!(
        "create {} clone of drive scsi0 ({}:base-{vmid}-disk-0)",
        if full { "full" } else { "linked" },
        storage.name
    ));
    let path = storage_lock_path(&storage.name);
    let _storage_lock = ctx.flock(node, &path, storage.shared).await.map_err(|e| format!("clone failed: {e}"))?;
    if full {
        // The new VM's disk is already counted, so the storage is overcommitted exactly
        // when the used space exceeds the capacity.
        let overcommitted = {
            let cluster = lock(&ctx.sim.inner.cluster);
            cluster.storage_used(node, storage) > storage.capacity_gib * GIB
        };
        if overcommitted {
            return Err(format!(
                "clone failed: error allocating volume {}:vm-{newid}-disk-0: insufficient free space",
                storage.name
            ));
        }
        ctx.log(format!("transferred {disk_gib:.1} GiB of {disk_gib:.1} GiB (100.00%)"));
        ctx.work(disk_gib * timings.full_clone_per_gib).await;
    } else {
        ctx.work(timings.linked_clone).await;
    }
    Ok(())
}

async fn template(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    Path((node, vmid)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    params.allow(&["disk"])?;
    let vmid = parse_vmid(&vmid)?;
    {
        let cluster = lock(&sim.inner.cluster);
        let vm = visible_vm(&cluster, &caller, &node, vmid, "VM.Allocate")?;
        vm.require_unlocked()?;
        if vm.template {
            return Err(ApiError::internal(format!("VM {vmid} is already a template")));
        }
        if vm.is_running() {
            return Err(ApiError::internal("you can't convert a VM to template if VM is running"));
        }
    }
    let secs = sim.inner.config.timings.template;
    let task_node = node.clone();
    let upid =
        sim.spawn_task(&node, "qmtemplate", &vmid.to_string(), &caller.full_id, move |ctx: TaskCtx| async move {
            let _guard = ctx.flock(&task_node, &vm_lock_path(vmid), false).await?;
            ctx.work(secs).await;
            let mut cluster = lock(&ctx.sim.inner.cluster);
            let vm = cluster.vm_on_mut(&task_node, vmid).map_err(|_| format!("VM {vmid} vanished"))?;
            vm.template = true;
            Ok(())
        });
    ok(json!(upid))
}

async fn vm_status(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    Path((node, vmid)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    params.allow(&[])?;
    let vmid = parse_vmid(&vmid)?;
    {
        let cluster = lock(&sim.inner.cluster);
        visible_vm(&cluster, &caller, &node, vmid, "VM.Audit")?;
    }
    // Per-VM status is slow on a busy real cluster (it queries QEMU over QMP).
    tokio::time::sleep(sim.scaled(sim.inner.config.timings.status_latency)).await;
    let cluster = lock(&sim.inner.cluster);
    let vm = cluster.vm_on(&node, vmid)?;
    let mut status = json!({
        "vmid": vm.vmid,
        "name": vm.name,
        "status": vm.status_str(),
        "qmpstatus": vm.qmpstatus(),
        "cpus": vm.cores,
        "cpu": if vm.is_running() { 0.02 } else { 0.0 },
        "maxmem": vm.maxmem(),
        "mem": vm.mem(),
        "maxdisk": vm.disk_bytes,
        "uptime": vm.uptime(Instant::now()),
        "netin": 0, "netout": 0, "diskread": 0, "diskwrite": 0,
        "agent": u8::from(vm.agent),
        "ha": { "managed": 0 },
    });
    if vm.template {
        status["template"] = json!(1);
    }
    if vm.is_running() {
        status["pid"] = json!(vm.pid);
        status["running-qemu"] = json!("10.0.2");
        status["running-machine"] = json!("pc-i440fx-10.0+pve0");
    }
    if !vm.tags.is_empty() {
        status["tags"] = json!(vm.tags);
    }
    if let Some(lock) = &vm.lock {
        status["lock"] = json!(lock);
    }
    ok(status)
}

/// Power actions. Synchronous checks (template, config lock, not running) answer at
/// once like Proxmox's API handlers; the rest happens in the task.
async fn vm_action(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    Path((node, vmid, action)): Path<(String, String, String)>,
    params: Params,
) -> ApiResult {
    let (kind, allowed): (&str, &[&str]) = match action.as_str() {
        "start" => ("qmstart", &["skiplock", "timeout", "machine"]),
        "stop" => ("qmstop", &["skiplock", "timeout", "keepActive", "overrule-shutdown"]),
        "shutdown" => ("qmshutdown", &["skiplock", "timeout", "forceStop", "keepActive"]),
        "reboot" => ("qmreboot", &["timeout"]),
        "reset" => ("qmreset", &["skiplock"]),
        "suspend" => ("qmsuspend", &["skiplock", "todisk", "statestorage"]),
        "resume" => ("qmresume", &["skiplock", "nocheck"]),
        _ => {
            return Err(ApiError::not_implemented("POST", &format!("/nodes/{node}/qemu/{vmid}/status/{action}")));
        }
    };
    params.allow(allowed)?;
    let force_stop = params.bool("forceStop")?.unwrap_or(false);
    let vmid = parse_vmid(&vmid)?;
    {
        let cluster = lock(&sim.inner.cluster);
        let vm = visible_vm(&cluster, &caller, &node, vmid, "VM.PowerMgmt")?;
        if vm.template && action == "start" {
            return Err(ApiError::internal("you can't start a vm if it's a template"));
        }
        vm.require_unlocked()?;
        match action.as_str() {
            "shutdown" | "reboot" | "reset" | "suspend" => vm.require_running()?,
            "resume" if vm.power != Power::Paused => {
                return Err(ApiError::internal(format!("VM {vmid} not paused")));
            }
            _ => {}
        }
    }
    let timings = sim.inner.config.timings.clone();
    let task_node = node.clone();
    let upid = sim.spawn_task(&node, kind, &vmid.to_string(), &caller.full_id, move |ctx: TaskCtx| async move {
        let _guard = ctx.flock(&task_node, &vm_lock_path(vmid), false).await?;
        let secs = match action.as_str() {
            "start" => timings.start,
            "stop" => timings.stop,
            "shutdown" => timings.shutdown,
            "reboot" => timings.reboot,
            "reset" => timings.reset,
            "suspend" => timings.suspend,
            _ => timings.resume,
        };
        if action == "start" {
            check_can_start(&ctx, &task_node, vmid)?;
        }
        ctx.work(secs).await;
        let agent_delay = ctx.sim.scaled(timings.agent_boot_delay);
        let mut cluster = lock(&ctx.sim.inner.cluster);
        let vm = cluster.vm_on_mut(&task_node, vmid).map_err(|_| format!("VM {vmid} vanished"))?;
        let now = Instant::now();
        match action.as_str() {
            "start" | "reboot" | "reset" => {
                if action == "start" {
                    vm.pid = 10_000 + vmid;
                    vm.started_at = Some(now);
                } else if !vm.is_running() {
                    return Err(format!("VM {vmid} not running"));
                }
                vm.power = Power::Running;
                vm.agent_ready_at = Some(now + agent_delay);
                if action == "start" && ctx.sim.inner.config.consoles_at_start {
                    // Without Xvnc the console's `vncwebsocket` reports it; the start still succeeds.
                    let (sim, name) = (ctx.sim.clone(), vm.name.clone());
                    tokio::spawn(async move { sim.inner.consoles.server_port(&sim, vmid, &name).await });
                }
            }
            "stop" => stop(vm),
            "shutdown" => {
                if vm.is_running() && !vm.agent && !force_stop {
                    return Err("VM quit/powerdown failed - got timeout".into());
                }
                stop(vm);
            }
            "suspend" => vm.power = Power::Paused,
            _ => {
                if vm.power == Power::Paused {
                    vm.power = Power::Running;
                }
            }
        }
        Ok(())
    });
    ok(json!(upid))
}

fn stop(vm: &mut Vm) {
    vm.power = Power::Stopped;
    vm.started_at = None;
    vm.agent_ready_at = None;
}

/// A start fails inside the task when the VM already runs or the node lacks memory.
fn check_can_start(ctx: &TaskCtx, node: &str, vmid: u32) -> Result<(), String> {
    let cluster = lock(&ctx.sim.inner.cluster);
    let vm = cluster.vm_on(node, vmid).map_err(|_| format!("VM {vmid} vanished"))?;
    if vm.is_running() {
        return Err(format!("VM {vmid} already running"));
    }
    let capacity = cluster.node(node).map_or(0, |n| n.memory_bytes);
    if cluster.node_mem_committed(node) + vm.maxmem() > capacity {
        return Err(format!(
            "start failed: QEMU exited with code 1 - kvm: cannot set up guest memory 'pc.ram': Cannot allocate memory (VM {vmid}, {} MiB)",
            vm.memory_mib
        ));
    }
    Ok(())
}

async fn delete_vm(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    Path((node, vmid)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    params.allow(&["purge", "destroy-unreferenced-disks", "skiplock"])?;
    params.bool("purge")?;
    params.bool("destroy-unreferenced-disks")?;
    let vmid = parse_vmid(&vmid)?;
    {
        let mut cluster = lock(&sim.inner.cluster);
        caller.check_vm(cluster.vms.get(&vmid), vmid, "VM.Allocate")?;
        let vm = cluster.vm_on_mut(&node, vmid)?;
        vm.require_unlocked()?;
        if vm.is_running() {
            return Err(ApiError::internal(format!("VM {vmid} is running - destroy failed")));
        }
        vm.lock = Some("destroyed".into());
    }
    let secs = sim.inner.config.timings.delete;
    let task_node = node.clone();
    let upid = sim.spawn_task(&node, "qmdestroy", &vmid.to_string(), &caller.full_id, move |ctx: TaskCtx| async move {
        let guard = ctx.flock(&task_node, &vm_lock_path(vmid), false).await;
        if let Err(e) = guard {
            clear_lock(&ctx, &task_node, vmid);
            return Err(e);
        }
        ctx.work(secs).await;
        let mut cluster = lock(&ctx.sim.inner.cluster);
        let in_use = cluster.vms.values().any(|vm| vm.linked_base == Some(vmid));
        if in_use {
            if let Ok(vm) = cluster.vm_on_mut(&task_node, vmid) {
                vm.lock = None;
            }
            return Err(format!("base volume 'base-{vmid}-disk-0' is still in use by linked clone"));
        }
        cluster.vms.remove(&vmid);
        cluster.dirty = true;
        drop(cluster);
        ctx.sim.drop_vm_lock(&task_node, vmid);
        ctx.log(format!("Removed VM {vmid} from pool and cluster"));
        Ok(())
    });
    ok(json!(upid))
}

fn clear_lock(ctx: &TaskCtx, node: &str, vmid: u32) {
    if let Ok(vm) = lock(&ctx.sim.inner.cluster).vm_on_mut(node, vmid) {
        vm.lock = None;
    }
}

// ----- snapshots -------------------------------------------------------------------------

async fn snapshots(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    Path((node, vmid)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    params.allow(&[])?;
    let vmid = parse_vmid(&vmid)?;
    let cluster = lock(&sim.inner.cluster);
    let vm = visible_vm(&cluster, &caller, &node, vmid, "VM.Audit")?;
    let mut list: Vec<Value> = vm
        .snapshots
        .iter()
        .map(|s| {
            let mut entry =
                json!({ "name": s.name, "description": s.description, "snaptime": s.snaptime, "vmstate": 0 });
            if let Some(parent) = &s.parent {
                entry["parent"] = json!(parent);
            }
            entry
        })
        .collect();
    let mut current = json!({ "name": "current", "description": "You are here!" });
    if let Some(last) = vm.snapshots.last() {
        current["parent"] = json!(last.name);
    }
    list.push(current);
    ok(Value::Array(list))
}

fn valid_snapname(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.len() <= 40
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Sets a config lock for the duration of a snapshot task, after the usual checks.
/// Proxmox answers a missing snapshot with a 500 and this message.
fn snapshot_exists(vm: &Vm, name: &str) -> Result<(), ApiError> {
    if vm.snapshots.iter().any(|s| s.name == name) {
        Ok(())
    } else {
        Err(ApiError::internal(format!("snapshot '{name}' does not exist")))
    }
}

fn lock_for_snapshot(
    sim: &Simulator,
    caller: &Caller,
    node: &str,
    vmid: u32,
    privilege: &str,
    lock_name: &str,
    check: impl FnOnce(&Vm) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let mut cluster = lock(&sim.inner.cluster);
    caller.check_vm(cluster.vms.get(&vmid), vmid, privilege)?;
    let vm = cluster.vm_on_mut(node, vmid)?;
    vm.require_unlocked()?;
    check(vm)?;
    vm.lock = Some(lock_name.to_owned());
    Ok(())
}

async fn create_snapshot(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    Path((node, vmid)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    params.allow(&["snapname", "description", "vmstate"])?;
    let vmid = parse_vmid(&vmid)?;
    let name = params.require_str("snapname")?.to_owned();
    if !valid_snapname(&name) || name == "current" {
        return Err(ApiError::param("snapname", format!("invalid format - invalid configuration ID '{name}'")));
    }
    params.bool("vmstate")?;
    let description = params.str("description").unwrap_or("").to_owned();
    lock_for_snapshot(&sim, &caller, &node, vmid, "VM.Snapshot", "snapshot", |vm| {
        if vm.snapshots.iter().any(|s| s.name == name) {
            Err(ApiError::internal(format!("snapshot name '{name}' already used")))
        } else {
            Ok(())
        }
    })?;
    let secs = sim.inner.config.timings.snapshot;
    let task_node = node.clone();
    let upid =
        sim.spawn_task(&node, "qmsnapshot", &vmid.to_string(), &caller.full_id, move |ctx: TaskCtx| async move {
            ctx.work(secs).await;
            let mut cluster = lock(&ctx.sim.inner.cluster);
            let vm = cluster.vm_on_mut(&task_node, vmid).map_err(|_| format!("VM {vmid} vanished"))?;
            let parent = vm.snapshots.last().map(|s| s.name.clone());
            vm.snapshots.push(SnapshotRec { name, description, snaptime: unix_now(), parent });
            vm.lock = None;
            Ok(())
        });
    ok(json!(upid))
}

async fn rollback(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    Path((node, vmid, snapname)): Path<(String, String, String)>,
    params: Params,
) -> ApiResult {
    params.allow(&["start"])?;
    let vmid = parse_vmid(&vmid)?;
    lock_for_snapshot(&sim, &caller, &node, vmid, "VM.Snapshot.Rollback", "rollback", |vm| {
        snapshot_exists(vm, &snapname)
    })?;
    let secs = sim.inner.config.timings.rollback;
    let task_node = node.clone();
    let upid =
        sim.spawn_task(&node, "qmrollback", &vmid.to_string(), &caller.full_id, move |ctx: TaskCtx| async move {
            ctx.work(secs).await;
            let mut cluster = lock(&ctx.sim.inner.cluster);
            let vm = cluster.vm_on_mut(&task_node, vmid).map_err(|_| format!("VM {vmid} vanished"))?;
            // A snapshot without RAM state rolls back to a powered-off machine.
            stop(vm);
            vm.lock = None;
            Ok(())
        });
    ok(json!(upid))
}

async fn delete_snapshot(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    Path((node, vmid, snapname)): Path<(String, String, String)>,
    params: Params,
) -> ApiResult {
    params.allow(&["force"])?;
    let vmid = parse_vmid(&vmid)?;
    lock_for_snapshot(&sim, &caller, &node, vmid, "VM.Snapshot", "snapshot-delete", |vm| {
        snapshot_exists(vm, &snapname)
    })?;
    let secs = sim.inner.config.timings.snapshot;
    let task_node = node.clone();
    let upid =
        sim.spawn_task(&node, "qmdelsnapshot", &vmid.to_string(), &caller.full_id, move |ctx: TaskCtx| async move {
            ctx.work(secs).await;
            let mut cluster = lock(&ctx.sim.inner.cluster);
            let vm = cluster.vm_on_mut(&task_node, vmid).map_err(|_| format!("VM {vmid} vanished"))?;
            let removed_parent =
                vm.snapshots.iter().position(|s| s.name == snapname).map(|i| vm.snapshots.remove(i).parent);
            if let Some(parent) = removed_parent {
                for child in vm.snapshots.iter_mut().filter(|s| s.parent.as_deref() == Some(snapname.as_str())) {
                    child.parent = parent.clone();
                }
            }
            vm.lock = None;
            Ok(())
        });
    ok(json!(upid))
}

// ----- guest agent, console, tasks ------------------------------------------------------------

async fn agent_interfaces(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    Path((node, vmid)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    params.allow(&[])?;
    let vmid = parse_vmid(&vmid)?;
    let cluster = lock(&sim.inner.cluster);
    let vm = visible_vm(&cluster, &caller, &node, vmid, "VM.GuestAgent.Audit")?;
    if !vm.agent {
        return Err(ApiError::internal("No QEMU guest agent configured"));
    }
    if !vm.is_running() {
        return Err(ApiError::internal(format!("VM {vmid} is not running")));
    }
    let ready = vm.power == Power::Running && vm.agent_ready_at.is_some_and(|t| Instant::now() >= t);
    if !ready {
        return Err(ApiError::internal("QEMU guest agent is not running"));
    }
    let mac = mac_for(vmid).to_ascii_lowercase();
    let ip = ip_for(vmid);
    let last = ip.octets()[3];
    ok(json!({ "result": [
        {
            "name": "lo",
            "hardware-address": "00:00:00:00:00:00",
            "ip-addresses": [
                { "ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8 },
                { "ip-address": "::1", "ip-address-type": "ipv6", "prefix": 128 }
            ],
            "statistics": { "rx-bytes": 0, "rx-packets": 0, "tx-bytes": 0, "tx-packets": 0 }
        },
        {
            "name": "ens18",
            "hardware-address": mac,
            "ip-addresses": [
                { "ip-address": ip.to_string(), "ip-address-type": "ipv4", "prefix": 24 },
                { "ip-address": format!("fe80::be24:11ff:fe00:{last:x}"), "ip-address-type": "ipv6", "prefix": 64 }
            ],
            "statistics": { "rx-bytes": 1_048_576, "rx-packets": 900, "tx-bytes": 524_288, "tx-packets": 700 }
        }
    ]}))
}

async fn vnc_proxy(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    Path((node, vmid)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    params.allow(&["websocket", "generate-password"])?;
    params.bool("websocket")?;
    let vmid = parse_vmid(&vmid)?;
    {
        let cluster = lock(&sim.inner.cluster);
        let vm = visible_vm(&cluster, &caller, &node, vmid, "VM.Console")?;
        vm.require_running()?;
    }
    let lifetime = sim.inner.config.timings.vnc_proxy_lifetime;
    let upid = sim.spawn_task(&node, "vncproxy", &vmid.to_string(), &caller.full_id, move |ctx: TaskCtx| async move {
        ctx.log("connection timed out");
        ctx.work(lifetime).await;
        Ok(())
    });
    let mut hasher = DefaultHasher::new();
    (&upid, Instant::now()).hash(&mut hasher);
    let port = 5900 + (hasher.finish() % 100) as u32;
    let ticket = format!("PVEVNC:{:08X}::{:016x}{:016x}", unix_now(), hasher.finish(), hasher.finish().rotate_left(17));
    // The ticket is good while the proxy task waits for its one connection.
    let expires = Instant::now() + sim.scaled(lifetime).max(std::time::Duration::from_secs(1));
    let details = super::console::Ticket { node: node.clone(), vmid, port, user: caller.full_id.clone(), expires };
    sim.inner.consoles.remember(ticket.clone(), details);
    ok(json!({
        "port": port,
        "ticket": ticket,
        "user": caller.full_id,
        "upid": upid,
        "cert": "-----BEGIN CERTIFICATE-----\nU0lNVUxBVEVE\n-----END CERTIFICATE-----\n",
    }))
}

/// The console's WebSocket: checks the ticket from `vncproxy` (same VM, port and
/// user, once, within the proxy's lifetime) and relays to the VM's VNC server.
async fn vnc_websocket(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    Path((node, vmid)): Path<(String, String)>,
    upgrade: UpgradeRequest,
    params: Params,
) -> ApiResult {
    params.allow(&["port", "vncticket"])?;
    let vmid = parse_vmid(&vmid)?;
    let port = params.require_int("port")?;
    let ticket = params.require_str("vncticket")?.to_owned();
    let name = {
        let cluster = lock(&sim.inner.cluster);
        let vm = visible_vm(&cluster, &caller, &node, vmid, "VM.Console")?;
        vm.require_running()?;
        vm.name.clone()
    };
    let accepted = upgrade.check()?;
    // Only a console opened uses the ticket up.
    let redeem = if accepted.is_some() { Redeem::Yes } else { Redeem::No };
    if !sim.inner.consoles.check_ticket(&ticket, &node, vmid, port as u32, &caller.full_id, redeem) {
        return Err(ApiError::unauthorized("permission denied - invalid PVEVNC ticket"));
    }
    // Without `Upgrade` this is an ordinary API call, answered with the port.
    let Some(accepted) = accepted else { return ok(json!({ "port": port.to_string() })) };
    let vnc_port = sim.inner.consoles.server_port(&sim, vmid, &name).await.map_err(ApiError::internal)?;
    Ok(accepted.switch(move |client| super::console::relay(client, vnc_port, ticket)))
}

fn find_task(sim: &Simulator, caller: &Caller, node: &str, upid: &str) -> Result<super::tasks::Task, ApiError> {
    let upid_node = upid.strip_prefix("UPID:").and_then(|rest| rest.split(':').next());
    if upid_node != Some(node) {
        return Err(ApiError::param("upid", format!("unable to parse worker upid '{upid}'")));
    }
    let task = lock(&sim.inner.tasks).get(upid).cloned().ok_or_else(|| ApiError::internal("no such task"))?;
    if task.user != caller.full_id {
        return Err(ApiError::forbidden(&format!("/nodes/{node}"), "Sys.Audit"));
    }
    Ok(task)
}

async fn task_status(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    Path((node, upid)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    params.allow(&[])?;
    let task = find_task(&sim, &caller, &node, &upid)?;
    let mut status = json!({
        "upid": task.upid,
        "node": task.node,
        "pid": task.pid,
        "pstart": task.pstart,
        "starttime": task.starttime,
        "type": task.kind,
        "id": task.id,
        "user": task.user,
        "status": if task.exitstatus.is_some() { "stopped" } else { "running" },
    });
    if let Some(exit) = task.exitstatus {
        status["exitstatus"] = json!(exit);
    }
    ok(status)
}

async fn task_log(
    State(sim): State<Simulator>,
    Extension(caller): Extension<Caller>,
    Path((node, upid)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    params.allow(&["start", "limit", "download"])?;
    let start = params.int("start")?.unwrap_or(0) as usize;
    let limit = params.int("limit")?.unwrap_or(50) as usize;
    let task = find_task(&sim, &caller, &node, &upid)?;
    let lines: Vec<Value> =
        task.log.iter().enumerate().skip(start).take(limit).map(|(i, line)| json!({ "n": i + 1, "t": line })).collect();
    Ok(Json(json!({ "data": lines, "total": task.log.len() })).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_dns_name("student-07.course"));
        assert!(!valid_dns_name("-bad") && !valid_dns_name("has space") && !valid_dns_name(""));
        assert!(valid_snapname("before_exam-1"));
        assert!(!valid_snapname("1st") && !valid_snapname("a b"));
    }

    #[test]
    fn config_reports_memory_as_string_and_lock() {
        let mut vm = Vm::from_spec(&crate::proxmox::SimConfig::demo().vms[0]);
        vm.lock = Some("clone".into());
        let config = vm_config_map(&vm);
        assert_eq!(config["memory"], json!("2048"));
        assert_eq!(config["lock"], json!("clone"));
        assert_eq!(config["template"], json!(1));
        assert_ne!(
            config_digest(&config),
            config_digest(&vm_config_map(&Vm::from_spec(&crate::proxmox::SimConfig::demo().vms[1])))
        );
    }
}
