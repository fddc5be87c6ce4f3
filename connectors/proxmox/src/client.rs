//! The Proxmox VE API client.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::Url;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::config::PveConfig;
use crate::endpoints::{self as ep, Endpoint, Method, ParamKind};
use crate::error::PveError;
use crate::tls::{self, TlsSetupError};
use crate::types::*;

/// The client could not be created.
#[derive(Debug, thiserror::Error)]
pub enum ClientBuildError {
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    #[error("invalid PVE_TOKEN_* value for an HTTP header: it must be printable ASCII")]
    InvalidToken,
    #[error("cannot build HTTP client: {0}")]
    Http(#[source] reqwest::Error),
}

/// A client for one Proxmox VE cluster, confined to the configured pool.
///
/// Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct PveClient {
    http: reqwest::Client,
    config: PveConfig,
    auth: HeaderValue,
    /// The pool's VMIDs as last fetched, shared by clones of the client (see
    /// [`PveClient::ensure_in_pool`]).
    members: Arc<Mutex<Option<PoolMembers>>>,
}

/// When the pool's VMIDs were fetched, and what they were.
type PoolMembers = (Instant, HashSet<u32>);

/// How long a fetched pool membership vouches for a VMID. Every VM call checks
/// membership; without this, deploying N VMs would fetch the whole pool O(N)
/// times per VM. A VMID missing from the cached set always triggers a fresh fetch.
const POOL_MEMBERS_FRESH: Duration = Duration::from_secs(2);

impl std::fmt::Debug for PveClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PveClient").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Every answer is wrapped as `{"data": ...}`.
#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

/// One request under construction: an endpoint, its path arguments and parameters.
struct Call {
    endpoint: &'static Endpoint,
    path_args: Vec<String>,
    params: Vec<(&'static str, String)>,
}

impl Call {
    fn new(endpoint: &'static Endpoint, path_args: &[&str]) -> Call {
        debug_assert_eq!(
            endpoint.placeholders().count(),
            path_args.len(),
            "wrong number of path arguments for {endpoint}"
        );
        Call { endpoint, path_args: path_args.iter().map(|a| (*a).to_owned()).collect(), params: Vec::new() }
    }

    /// Refuses (in debug builds, i.e. in every test) a parameter the endpoint table does
    /// not declare with this kind, so the contract test's view of what we send is exact.
    fn push(mut self, name: &'static str, kind: ParamKind, value: String) -> Call {
        debug_assert_eq!(
            self.endpoint.param_kind(name),
            Some(kind),
            "parameter {name} is not declared as {kind:?} for {}",
            self.endpoint
        );
        self.params.push((name, value));
        self
    }

    fn string(self, name: &'static str, value: impl Into<String>) -> Call {
        self.push(name, ParamKind::String, value.into())
    }

    fn opt_string(self, name: &'static str, value: Option<&str>) -> Call {
        match value {
            Some(v) => self.string(name, v),
            None => self,
        }
    }

    fn int(self, name: &'static str, value: u64) -> Call {
        self.push(name, ParamKind::Integer, value.to_string())
    }

    fn bool(self, name: &'static str, value: bool) -> Call {
        self.push(name, ParamKind::Boolean, if value { "1" } else { "0" }.to_owned())
    }
}

/// Percent-encodes a path segment, keeping the characters RFC 3986 allows in one (so a
/// UPID's `:`, `@` and `!` stay readable in logs).
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' | b'@' | b'!' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The text of an error answer: the reason phrase (where Proxmox puts the message), the
/// body's `message`, and the per-parameter `errors`, whichever are present.
fn error_message(status: reqwest::StatusCode, reason: Option<String>, body: &[u8]) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(reason) = reason.filter(|r| !r.trim().is_empty()) {
        parts.push(reason.trim().to_owned());
    }
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(msg) = json.get("message").and_then(|m| m.as_str()) {
            let msg = msg.trim();
            if !msg.is_empty() && !parts.iter().any(|p| p == msg) {
                parts.push(msg.to_owned());
            }
        }
        if let Some(errors) = json.get("errors").and_then(|e| e.as_object()) {
            for (param, err) in errors {
                let err = err.as_str().map_or_else(|| err.to_string(), str::to_owned);
                parts.push(format!("{param}: {}", err.trim()));
            }
        }
    } else if let Ok(text) = std::str::from_utf8(body) {
        let text = text.trim();
        if !text.is_empty() && text.len() < 500 {
            parts.push(text.to_owned());
        }
    }
    if parts.is_empty() {
        parts.push(status.canonical_reason().unwrap_or("error").to_owned());
    }
    parts.join("; ")
}

impl PveClient {
    pub fn new(config: PveConfig) -> Result<PveClient, ClientBuildError> {
        let tls = tls::client_config(&config.tls)?;
        let mut auth =
            HeaderValue::from_str(&config.authorization_header()).map_err(|_| ClientBuildError::InvalidToken)?;
        auth.set_sensitive(true);
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("openvle-proxmox-connector/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ClientBuildError::Http)?;
        Ok(PveClient { http, config, auth, members: Arc::default() })
    }

    pub fn config(&self) -> &PveConfig {
        &self.config
    }

    fn url(&self, endpoint: &Endpoint, args: &[String]) -> Result<Url, PveError> {
        let mut path = String::from("api2/json");
        let mut args = args.iter();
        for segment in endpoint.path.split('/').filter(|s| !s.is_empty()) {
            path.push('/');
            if segment.starts_with('{') {
                path.push_str(&encode_segment(args.next().map_or("", String::as_str)));
            } else {
                path.push_str(segment);
            }
        }
        self.config
            .base_url
            .join(&path)
            .map_err(|e| PveError::Decode { what: endpoint.to_string(), message: format!("cannot build URL: {e}") })
    }

    async fn send<T: DeserializeOwned>(&self, call: Call) -> Result<T, PveError> {
        let endpoint = call.endpoint;
        let url = self.url(endpoint, &call.path_args)?;
        let what = format!("{} {}", endpoint.method.as_str(), url.path());
        let method = match endpoint.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut request = self.http.request(method, url).header(AUTHORIZATION, self.auth.clone());
        request =
            if endpoint.method.params_in_query() { request.query(&call.params) } else { request.form(&call.params) };
        let response = request.send().await.map_err(|e| self.transport_error(e, &what))?;
        let status = response.status();
        tracing::debug!(target: "proxmox", %what, status = status.as_u16(), "Proxmox VE call");
        if status.is_success() {
            let body = response.bytes().await.map_err(|e| self.transport_error(e, &what))?;
            serde_json::from_slice::<Envelope<T>>(&body)
                .map(|envelope| envelope.data)
                .map_err(|e| PveError::Decode { what, message: e.to_string() })
        } else {
            let reason = response
                .extensions()
                .get::<hyper::ext::ReasonPhrase>()
                .and_then(|r| std::str::from_utf8(r.as_bytes()).ok())
                .map(str::to_owned);
            // The body only adds detail; an unreadable one must not hide the status.
            let body = response.bytes().await.unwrap_or_default();
            let message = error_message(status, reason, &body);
            tracing::debug!(target: "proxmox", %what, status = status.as_u16(), %message, "Proxmox VE error");
            Err(PveError::from_status(status.as_u16(), message))
        }
    }

    fn transport_error(&self, error: reqwest::Error, what: &str) -> PveError {
        if error.is_timeout() {
            PveError::Timeout { what: what.to_owned(), after: self.config.request_timeout }
        } else {
            PveError::Transport(error)
        }
    }

    // ----- cluster and nodes -------------------------------------------------------

    pub async fn version(&self) -> Result<VersionInfo, PveError> {
        self.send(Call::new(&ep::VERSION, &[])).await
    }

    pub async fn nodes(&self) -> Result<Vec<NodeSummary>, PveError> {
        self.send(Call::new(&ep::NODES, &[])).await
    }

    pub async fn node_status(&self, node: &str) -> Result<NodeStatus, PveError> {
        self.send(Call::new(&ep::NODE_STATUS, &[node])).await
    }

    /// `GET /cluster/resources`, with guests confined to the configured pool (nodes and
    /// storages are shared by every installation and are returned as they are). One call
    /// answers for every VM, so prefer it to per-VM status polling.
    pub async fn cluster_resources(&self, kind: Option<ResourceType>) -> Result<Vec<ClusterResource>, PveError> {
        let mut call = Call::new(&ep::CLUSTER_RESOURCES, &[]);
        if let Some(kind) = kind {
            call = call.string("type", kind.as_str());
        }
        let mut resources: Vec<ClusterResource> = self.send(call).await?;
        resources.retain(|r| !r.is_guest() || r.pool.as_deref() == Some(self.config.pool.as_str()));
        Ok(resources)
    }

    /// The VMs (and templates) of the configured pool, with live status.
    pub async fn pool_vms(&self) -> Result<Vec<ClusterResource>, PveError> {
        let mut vms = self.cluster_resources(Some(ResourceType::Vm)).await?;
        vms.retain(|r| r.kind == "qemu");
        Ok(vms)
    }

    /// A free VMID. It is not reserved: a concurrent clone may take it first, in which case
    /// the clone fails with [`PveError::AlreadyExists`] and should be retried with a new ID.
    pub async fn next_id(&self) -> Result<u32, PveError> {
        #[derive(Deserialize)]
        struct NextId(#[serde(deserialize_with = "crate::types::lenient::u32")] u32);
        let NextId(id) = self.send(Call::new(&ep::CLUSTER_NEXTID, &[])).await?;
        Ok(id)
    }

    /// Storages on a node that can hold VM disks.
    pub async fn storage(&self, node: &str) -> Result<Vec<StorageInfo>, PveError> {
        self.send(Call::new(&ep::NODE_STORAGE, &[node]).string("content", "images")).await
    }

    // ----- pools ------------------------------------------------------------------

    /// The pools the token can see (IDs only; their members are not confined).
    pub async fn pools(&self) -> Result<Vec<PoolSummary>, PveError> {
        self.send(Call::new(&ep::POOLS, &[])).await
    }

    /// Members of the configured pool.
    pub async fn pool_members(&self) -> Result<Vec<PoolMember>, PveError> {
        let pool: PoolContents = self.send(Call::new(&ep::POOL, &[&self.config.pool])).await?;
        Ok(pool.members)
    }

    async fn pool_vmids(&self) -> Result<HashSet<u32>, PveError> {
        Ok(self.pool_members().await?.iter().filter_map(|m| m.vmid).collect())
    }

    /// Fails with [`PveError::NotInPool`] unless `vmid` belongs to the configured pool,
    /// so an installation never touches another's VMs on a shared cluster. A membership
    /// seen within the last [`POOL_MEMBERS_FRESH`] counts; otherwise the pool is fetched.
    pub async fn ensure_in_pool(&self, vmid: u32) -> Result<(), PveError> {
        let cached = {
            let members = self.members.lock().unwrap_or_else(PoisonError::into_inner);
            members.as_ref().is_some_and(|(at, ids)| at.elapsed() < POOL_MEMBERS_FRESH && ids.contains(&vmid))
        };
        if cached {
            return Ok(());
        }
        let fetched_at = Instant::now();
        let ids = self.pool_vmids().await?;
        let member = ids.contains(&vmid);
        *self.members.lock().unwrap_or_else(PoisonError::into_inner) = Some((fetched_at, ids));
        if member { Ok(()) } else { Err(PveError::NotInPool { vmid, pool: self.config.pool.clone() }) }
    }

    /// A deleted VM's VMID may go to someone else: it no longer vouches for membership.
    fn forget_member(&self, vmid: u32) {
        if let Some((_, ids)) = self.members.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            ids.remove(&vmid);
        }
    }

    // ----- VMs --------------------------------------------------------------------

    /// The pool's VMs on one node.
    pub async fn qemu_list(&self, node: &str) -> Result<Vec<QemuVm>, PveError> {
        let mut vms: Vec<QemuVm> = self.send(Call::new(&ep::QEMU_LIST, &[node])).await?;
        let members = self.pool_vmids().await?;
        vms.retain(|vm| members.contains(&vm.vmid));
        Ok(vms)
    }

    /// Sends a call on one VM after checking it is in the pool.
    async fn vm_call<T: DeserializeOwned>(&self, vmid: u32, call: Call) -> Result<T, PveError> {
        self.ensure_in_pool(vmid).await?;
        self.send(call).await
    }

    fn vm(endpoint: &'static Endpoint, node: &str, vmid: u32) -> Call {
        Call::new(endpoint, &[node, &vmid.to_string()])
    }

    pub async fn vm_config(&self, node: &str, vmid: u32) -> Result<VmConfig, PveError> {
        self.vm_call(vmid, Self::vm(&ep::VM_CONFIG, node, vmid)).await
    }

    /// Changes settings synchronously (`PUT`, no task).
    pub async fn update_vm_config(&self, node: &str, vmid: u32, update: &VmConfigUpdate) -> Result<(), PveError> {
        let mut call = Self::vm(&ep::VM_CONFIG_UPDATE, node, vmid)
            .opt_string("name", update.name.as_deref())
            .opt_string("description", update.description.as_deref())
            .opt_string("tags", update.tags.as_deref())
            .opt_string("net0", update.net0.as_deref());
        if let Some(cores) = update.cores {
            call = call.int("cores", u64::from(cores));
        }
        if let Some(memory) = update.memory_mib {
            call = call.string("memory", memory.to_string());
        }
        let _: IgnoredAny = self.vm_call(vmid, call).await?;
        Ok(())
    }

    /// Clones `vmid` (usually a template) into the configured pool; returns the task.
    pub async fn clone_vm(&self, node: &str, vmid: u32, options: &CloneOptions) -> Result<Upid, PveError> {
        let full = options.full.unwrap_or(self.config.full_clone_default);
        let mut call = Self::vm(&ep::VM_CLONE, node, vmid)
            .int("newid", u64::from(options.newid))
            .string("pool", self.config.pool.as_str())
            .bool("full", full)
            .opt_string("name", options.name.as_deref())
            .opt_string("target", options.target.as_deref())
            .opt_string("description", options.description.as_deref());
        if full {
            call = call.opt_string("storage", options.storage.as_deref());
        }
        self.vm_call(vmid, call).await
    }

    pub async fn convert_to_template(&self, node: &str, vmid: u32) -> Result<Upid, PveError> {
        self.vm_call(vmid, Self::vm(&ep::VM_TEMPLATE, node, vmid)).await
    }

    /// Live status of one VM. Slow on a busy cluster; for many VMs use [`Self::pool_vms`].
    pub async fn vm_status(&self, node: &str, vmid: u32) -> Result<VmStatus, PveError> {
        self.vm_call(vmid, Self::vm(&ep::VM_STATUS, node, vmid)).await
    }

    pub async fn start_vm(&self, node: &str, vmid: u32) -> Result<Upid, PveError> {
        self.vm_call(vmid, Self::vm(&ep::VM_START, node, vmid)).await
    }

    /// Hard stop (like pulling the plug).
    pub async fn stop_vm(&self, node: &str, vmid: u32) -> Result<Upid, PveError> {
        self.vm_call(vmid, Self::vm(&ep::VM_STOP, node, vmid)).await
    }

    /// ACPI shutdown; after `timeout` Proxmox stops the VM hard when `force_stop`.
    pub async fn shutdown_vm(
        &self,
        node: &str,
        vmid: u32,
        timeout: Duration,
        force_stop: bool,
    ) -> Result<Upid, PveError> {
        let call =
            Self::vm(&ep::VM_SHUTDOWN, node, vmid).int("timeout", timeout.as_secs()).bool("forceStop", force_stop);
        self.vm_call(vmid, call).await
    }

    pub async fn reboot_vm(&self, node: &str, vmid: u32) -> Result<Upid, PveError> {
        self.vm_call(vmid, Self::vm(&ep::VM_REBOOT, node, vmid)).await
    }

    pub async fn reset_vm(&self, node: &str, vmid: u32) -> Result<Upid, PveError> {
        self.vm_call(vmid, Self::vm(&ep::VM_RESET, node, vmid)).await
    }

    pub async fn suspend_vm(&self, node: &str, vmid: u32) -> Result<Upid, PveError> {
        self.vm_call(vmid, Self::vm(&ep::VM_SUSPEND, node, vmid)).await
    }

    pub async fn resume_vm(&self, node: &str, vmid: u32) -> Result<Upid, PveError> {
        self.vm_call(vmid, Self::vm(&ep::VM_RESUME, node, vmid)).await
    }

    /// Destroys a stopped VM with its disks, and removes it from pools, ACLs and jobs.
    pub async fn delete_vm(&self, node: &str, vmid: u32) -> Result<Upid, PveError> {
        let call = Self::vm(&ep::VM_DELETE, node, vmid).bool("purge", true).bool("destroy-unreferenced-disks", true);
        let upid = self.vm_call(vmid, call).await;
        self.forget_member(vmid);
        upid
    }

    // ----- snapshots -----------------------------------------------------------------

    pub async fn snapshots(&self, node: &str, vmid: u32) -> Result<Vec<Snapshot>, PveError> {
        self.vm_call(vmid, Self::vm(&ep::SNAPSHOTS, node, vmid)).await
    }

    /// Disk-only snapshot (no RAM state), quick and what course resets need.
    pub async fn create_snapshot(
        &self,
        node: &str,
        vmid: u32,
        name: &str,
        description: Option<&str>,
    ) -> Result<Upid, PveError> {
        let call = Self::vm(&ep::SNAPSHOT_CREATE, node, vmid)
            .string("snapname", name)
            .opt_string("description", description)
            .bool("vmstate", false);
        self.vm_call(vmid, call).await
    }

    pub async fn rollback_snapshot(&self, node: &str, vmid: u32, name: &str) -> Result<Upid, PveError> {
        let call = Call::new(&ep::SNAPSHOT_ROLLBACK, &[node, &vmid.to_string(), name]);
        self.vm_call(vmid, call).await
    }

    pub async fn delete_snapshot(&self, node: &str, vmid: u32, name: &str) -> Result<Upid, PveError> {
        let call = Call::new(&ep::SNAPSHOT_DELETE, &[node, &vmid.to_string(), name]);
        self.vm_call(vmid, call).await
    }

    // ----- guest agent and console -----------------------------------------------------

    /// Network interfaces as the guest agent reports them. Fails while the VM boots
    /// ("QEMU guest agent is not running"), so callers poll it.
    pub async fn agent_network_interfaces(&self, node: &str, vmid: u32) -> Result<Vec<NetworkInterface>, PveError> {
        let result: AgentResult = self.vm_call(vmid, Self::vm(&ep::AGENT_NETWORK, node, vmid)).await?;
        Ok(result.result)
    }

    /// Opens a VNC proxy for a noVNC websocket; the ticket is valid for a short time.
    pub async fn vnc_proxy(&self, node: &str, vmid: u32) -> Result<VncProxy, PveError> {
        let call = Self::vm(&ep::VNC_PROXY, node, vmid).bool("websocket", true);
        self.vm_call(vmid, call).await
    }

    /// The `vncwebsocket` URL (wss, or ws for a plain-HTTP base URL) for a proxy opened
    /// with [`Self::vnc_proxy`]. The browser also needs the API token or a PVE ticket.
    pub fn vnc_websocket_url(&self, node: &str, vmid: u32, proxy: &VncProxy) -> Result<Url, PveError> {
        let mut url = self.url(&ep::VNC_WEBSOCKET, &[node.to_owned(), vmid.to_string()])?;
        let scheme = if url.scheme() == "http" { "ws" } else { "wss" };
        url.set_scheme(scheme).map_err(|()| PveError::Decode {
            what: ep::VNC_WEBSOCKET.to_string(),
            message: format!("cannot use scheme {scheme}"),
        })?;
        // Same declared parameters as a request would carry, so the contract test sees them.
        let call = Call::new(&ep::VNC_WEBSOCKET, &[node, &vmid.to_string()])
            .int("port", u64::from(proxy.port))
            .string("vncticket", proxy.ticket.as_str());
        url.query_pairs_mut().extend_pairs(call.params.iter().map(|(k, v)| (*k, v.as_str())));
        Ok(url)
    }

    // ----- tasks ------------------------------------------------------------------

    fn task_call(endpoint: &'static Endpoint, upid: &Upid) -> Result<Call, PveError> {
        let node = upid.node().ok_or_else(|| PveError::Decode {
            what: endpoint.to_string(),
            message: format!("malformed UPID {upid}"),
        })?;
        Ok(Call::new(endpoint, &[node, upid.as_str()]))
    }

    pub async fn task_status(&self, upid: &Upid) -> Result<TaskStatus, PveError> {
        self.send(Self::task_call(&ep::TASK_STATUS, upid)?).await
    }

    /// Lines `start..start+limit` of the task log.
    pub async fn task_log(&self, upid: &Upid, start: u64, limit: u64) -> Result<Vec<TaskLogLine>, PveError> {
        let call = Self::task_call(&ep::TASK_LOG, upid)?.int("start", start).int("limit", limit);
        self.send(call).await
    }

    /// Polls the task with exponential backoff until it stops. Errors with the task's
    /// exit status if it failed (classified like API errors, so a storage lock timeout is
    /// [`PveError::Locked`]), or with [`PveError::Timeout`] after `timeout`. A failed
    /// poll that is retryable (e.g. a slow answer) does not end the wait.
    pub async fn wait_task(&self, upid: &Upid, timeout: Duration) -> Result<TaskStatus, PveError> {
        let started = Instant::now();
        let mut pause = self.config.task_poll_first;
        loop {
            match self.task_status(upid).await {
                Ok(status) if !status.is_running() => {
                    return if status.succeeded() {
                        Ok(status)
                    } else {
                        let exitstatus = status.exitstatus.unwrap_or_else(|| "unknown error".into());
                        Err(PveError::from_task(upid.as_str(), exitstatus))
                    };
                }
                Ok(_) => {}
                Err(e) if e.is_retryable() => {
                    tracing::warn!(target: "proxmox", %upid, error = %e, "task status poll failed; retrying");
                }
                Err(e) => return Err(e),
            }
            let elapsed = started.elapsed();
            if elapsed >= timeout {
                return Err(PveError::Timeout { what: format!("task {upid}"), after: timeout });
            }
            tokio::time::sleep(pause.min(timeout - elapsed)).await;
            pause = (pause * 2).min(self.config.task_poll_max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_keep_upid_readable_and_escape_the_rest() {
        assert_eq!(
            encode_segment("UPID:pve1:0001:0002:0003:qmclone:100:u@pve!t:"),
            "UPID:pve1:0001:0002:0003:qmclone:100:u@pve!t:"
        );
        assert_eq!(encode_segment("a b/c%"), "a%20b%2Fc%25");
    }

    #[test]
    fn error_message_combines_reason_message_and_errors() {
        let status = reqwest::StatusCode::BAD_REQUEST;
        let body = br#"{"data":null,"errors":{"newid":"value must be at least 100"}}"#;
        assert_eq!(
            error_message(status, Some("Parameter verification failed.".into()), body),
            "Parameter verification failed.; newid: value must be at least 100"
        );
        assert_eq!(error_message(reqwest::StatusCode::INTERNAL_SERVER_ERROR, None, br#"{"message":"boom\n"}"#), "boom");
        assert_eq!(error_message(reqwest::StatusCode::NOT_FOUND, None, b""), "Not Found");
    }

    #[test]
    fn urls_fill_placeholders() {
        let cfg = PveConfig::new("http://127.0.0.1:9", "a@pve", "t", "s").unwrap();
        let client = PveClient::new(cfg).unwrap();
        let url = client.url(&ep::SNAPSHOT_ROLLBACK, &["pve1".into(), "100".into(), "before exam".into()]).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:9/api2/json/nodes/pve1/qemu/100/snapshot/before%20exam/rollback");
    }
}
