//! The engine behind [`Provisioner`]: per-VM pipelines (clone, configure,
//! start, wait for the address) that run side by side, fail alone, and are
//! paced so the cluster is kept busy without tripping its locks.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::names::{self, is_owner_tag, owner_tag};
use super::placement::{CapacityReport, Demand, place};
use super::{
    Drift, PlannedVm, ProvisionError, ProvisioningRecorder, ResetTarget, TemplateRef, VmAction, VmProgress, VmStage,
};
use crate::cluster::{CloneSpec, Cluster, GuestIp, GuestState, Inventory, PowerOp, VmError, VmSettings};

/// How hard the engine pushes and how patiently it retries.
#[derive(Clone, Debug)]
pub struct ProvisioningConfig {
    /// Linked clones in flight per storage. Proxmox holds the storage lock
    /// for every clone and fails one that waits longer than its lock timeout
    /// (10 s), so the ones queued behind the running one must finish within
    /// it (a linked clone takes a second or two); a few keep the lock from
    /// idling between clones. A full clone holds the lock for minutes and
    /// runs alone on its storage.
    pub linked_clones_per_storage: usize,
    /// VMs stopped and deleted at once per node while decommissioning (a
    /// class at once would queue hundreds of tasks and API calls on a node).
    pub teardowns_per_node: usize,
    /// Tries of one operation on one VM when the error is transient
    /// (locks, timeouts, an unreachable cluster).
    pub attempts: u32,
    /// Fresh VMIDs to try when another clone took the one `/cluster/nextid` gave.
    pub vmid_attempts: u32,
    /// How long a clone keeps trying while its storage is locked by clones
    /// this process does not pace (another worker's, a full clone of a big
    /// disk takes minutes).
    pub lock_patience: Duration,
    pub retry_first: Duration,
    pub retry_max: Duration,
    /// How long to wait for the guest agent to report an address.
    pub ip_timeout: Duration,
    /// Pauses between guest-agent and lock polls: doubling from the first to the max.
    pub poll_first: Duration,
    pub poll_max: Duration,
}

impl Default for ProvisioningConfig {
    fn default() -> ProvisioningConfig {
        ProvisioningConfig {
            linked_clones_per_storage: 4,
            teardowns_per_node: 8,
            attempts: 5,
            vmid_attempts: 20,
            lock_patience: Duration::from_secs(900),
            retry_first: Duration::from_secs(2),
            retry_max: Duration::from_secs(30),
            ip_timeout: Duration::from_secs(300),
            poll_first: Duration::from_millis(500),
            poll_max: Duration::from_secs(3),
        }
    }
}

/// What all runs in one process share: clone slots per storage, and the
/// highest VMID handed out (so concurrent clones here do not all ask for the
/// same `/cluster/nextid` answer).
#[derive(Default)]
pub struct ClonePacer {
    slots: Mutex<HashMap<String, Arc<Semaphore>>>,
    last_vmid: AtomicU32,
}

impl ClonePacer {
    async fn slot(&self, storage: &str, linked: bool, per_storage: usize) -> Option<OwnedSemaphorePermit> {
        let per_storage = per_storage.max(1);
        let semaphore = self
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(storage.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(per_storage)))
            .clone();
        let wanted = if linked { 1 } else { u32::try_from(per_storage).unwrap_or(u32::MAX) };
        semaphore.acquire_many_owned(wanted).await.ok()
    }

    /// `offered` unless this process already used it (or a higher one).
    fn vmid(&self, offered: u32) -> u32 {
        let previous = self.last_vmid.fetch_max(offered, Ordering::SeqCst);
        if previous < offered { offered } else { self.last_vmid.fetch_add(1, Ordering::SeqCst) + 1 }
    }
}

/// How one planned VM ended up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmOutcome {
    /// The last progress reported (stage `Ready`, `Failed` or `Unplaced`).
    pub last: VmProgress,
    /// Whether this run cloned it (false: it existed already).
    pub created: bool,
    /// For failures: whether a later run may succeed.
    pub retryable: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeploymentReport {
    /// One per planned VM, in plan order.
    pub vms: Vec<VmOutcome>,
    pub capacity: CapacityReport,
    /// What the cluster threw at the run, for the admin's (and the benchmark's) eyes.
    pub hiccups: Hiccups,
}

/// Trouble a deployment met and got over (or not).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hiccups {
    /// Clones refused because another clone took the VMID `/cluster/nextid` gave.
    pub vmid_collisions: u32,
    /// Clones tried again after a transient error (a storage lock timeout...).
    pub clone_retries: u32,
    /// VMs placed on another node because theirs went offline.
    pub moved: u32,
}

impl DeploymentReport {
    pub fn count(&self, stage: VmStage) -> usize {
        self.vms.iter().filter(|v| v.last.stage == stage).count()
    }

    pub fn created(&self) -> usize {
        self.vms.iter().filter(|v| v.created).count()
    }

    /// Failures that a re-run may fix.
    pub fn retryable_failures(&self) -> Vec<&VmOutcome> {
        self.vms.iter().filter(|v| v.last.stage == VmStage::Failed && v.retryable).collect()
    }
}

/// The template a VM is cloned from, as found on the cluster.
#[derive(Clone, Debug)]
struct Source {
    vmid: u32,
    node: String,
    /// The lock a clone takes: the storage, per node unless shared.
    storage_key: String,
    shared: bool,
}

/// One VM's way through a run.
struct Item {
    vm: PlannedVm,
    name: String,
    existing: Option<GuestState>,
    source: Option<Source>,
    target: String,
}

/// State of one deployment or decommission.
struct Run {
    owner: String,
    tag: String,
    /// Memory left per online node, for placing a VM again when its node fails.
    free: Mutex<HashMap<String, u64>>,
    record_error: Mutex<Option<String>>,
    hiccups: Mutex<Hiccups>,
}

impl Run {
    fn new(owner: &str) -> Run {
        Run {
            owner: owner.to_string(),
            tag: owner_tag(owner),
            free: Mutex::new(HashMap::new()),
            record_error: Mutex::new(None),
            hiccups: Mutex::new(Hiccups::default()),
        }
    }

    fn note(&self, count: impl FnOnce(&mut Hiccups)) {
        count(&mut self.hiccups.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Another node for a VM whose target went offline, with room for it.
    fn replace(&self, offline: &str, bytes: u64) -> Option<String> {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        free.remove(offline);
        let best = free.iter().filter(|(_, left)| **left >= bytes).max_by_key(|(_, left)| **left)?.0.clone();
        if let Some(left) = free.get_mut(&best) {
            *left -= bytes;
        }
        Some(best)
    }
}

enum Cloned {
    New {
        vmid: u32,
        node: String,
    },
    /// A retry found the VM the previous attempt created after all.
    Found(GuestState),
}

/// Provisions VMs on one cluster. Cheap to clone.
#[derive(Clone)]
pub struct Provisioner {
    cluster: Arc<dyn Cluster>,
    recorder: Arc<dyn ProvisioningRecorder>,
    config: ProvisioningConfig,
    pacer: Arc<ClonePacer>,
}

fn is_foreign(guest: &GuestState, tag: &str) -> bool {
    guest.tags.iter().any(|t| is_owner_tag(t) && t != tag)
}

fn cluster_error(e: VmError) -> ProvisionError {
    ProvisionError::Cluster(e)
}

fn progress(key: &str, name: &str, stage: VmStage) -> VmProgress {
    VmProgress { key: key.into(), name: name.into(), stage, vmid: None, node: None, ip: None, message: None }
}

fn is_running(guest: &GuestState) -> bool {
    guest.status == "running"
}

impl Provisioner {
    /// `pacer` should be shared by every provisioner of the process.
    pub fn new(
        cluster: Arc<dyn Cluster>,
        recorder: Arc<dyn ProvisioningRecorder>,
        config: ProvisioningConfig,
        pacer: Arc<ClonePacer>,
    ) -> Provisioner {
        Provisioner { cluster, recorder, config, pacer }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
        self.config.retry_first.saturating_mul(factor).min(self.config.retry_max)
    }

    /// Runs `op` until it succeeds, fails for good, or runs out of attempts.
    async fn retrying<T, F, Fut>(&self, mut op: F) -> Result<T, VmError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, VmError>>,
    {
        let mut attempt = 1;
        loop {
            match op().await {
                Err(e) if e.is_retryable() && attempt < self.config.attempts => {
                    tracing::debug!(error = %e, attempt, "transient Proxmox error; retrying");
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn inventory(&self) -> Result<Inventory, ProvisionError> {
        self.retrying(|| self.cluster.inventory()).await.map_err(cluster_error)
    }

    async fn record(&self, run: &Run, update: &VmProgress) {
        if let Err(e) = self.recorder.progress(&run.owner, update).await {
            tracing::warn!(owner = %run.owner, vm = %update.name, error = %e, "recording VM progress failed");
            run.record_error.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert_with(|| e.to_string());
        }
    }

    fn recording_result(run: &Run) -> Result<(), ProvisionError> {
        match run.record_error.lock().unwrap_or_else(PoisonError::into_inner).take() {
            Some(message) => Err(ProvisionError::Recording { message }),
            None => Ok(()),
        }
    }

    async fn resolve_source(&self, inventory: &Inventory, template: &TemplateRef) -> Result<Source, String> {
        let Some(found) = inventory.guest(template.vmid).filter(|g| g.template) else {
            return Err(format!("template VM {} is not on the cluster (or not in the OpenVLE pool)", template.vmid));
        };
        if !inventory.node(&found.node).is_some_and(|n| n.online) {
            return Err(format!("node {} holding template VM {} is offline", found.node, template.vmid));
        }
        let storage = self
            .retrying(|| self.cluster.disk_storage(&found.node, found.vmid))
            .await
            .map_err(|e| format!("cannot read template VM {}: {e}", template.vmid))?;
        let shared = inventory.storage_shared(&storage);
        let storage_key = if shared { storage } else { format!("{}/{storage}", found.node) };
        Ok(Source { vmid: found.vmid, node: found.node.clone(), storage_key, shared })
    }

    /// Checks capacity, clones what is missing, configures, starts and waits
    /// for addresses. Refuses with a per-node shortfall unless
    /// `allow_partial`, in which case what does not fit is reported
    /// `Unplaced`. Single VMs fail alone (see the report); the error is for
    /// the run as a whole.
    pub async fn deploy(
        &self,
        owner: &str,
        plan: &[PlannedVm],
        allow_partial: bool,
    ) -> Result<DeploymentReport, ProvisionError> {
        let names = names::assign(plan)?;
        validate(plan)?;
        let run = Arc::new(Run::new(owner));
        let inventory = self.inventory().await?;
        let templates: HashMap<u32, &TemplateRef> = plan.iter().map(|vm| (vm.source.vmid, &vm.source)).collect();
        let mut sources: HashMap<u32, Result<Source, String>> = HashMap::new();
        for (vmid, template) in templates {
            sources.insert(vmid, self.resolve_source(&inventory, template).await);
        }
        let mut outcomes: Vec<Option<VmOutcome>> = vec![None; plan.len()];
        let mut items: Vec<Option<Item>> = (0..plan.len()).map(|_| None).collect();
        let (mut demands, mut demand_of, mut demand_names) = (Vec::new(), Vec::new(), Vec::new());
        for (i, (vm, name)) in plan.iter().zip(&names).enumerate() {
            let fail = |message: String, retryable| VmOutcome {
                last: VmProgress { message: Some(message), ..progress(&vm.key, name, VmStage::Failed) },
                created: false,
                retryable,
            };
            let existing = inventory.guests.iter().find(|g| &g.name == name && !g.template);
            let source = sources.get(&vm.source.vmid).cloned().unwrap_or_else(|| Err("template unknown".into()));
            match (existing, source) {
                (Some(guest), _) if is_foreign(guest, &run.tag) => {
                    outcomes[i] = Some(fail(
                        format!("a VM named {name} (VMID {}) already exists and belongs to someone else", guest.vmid),
                        false,
                    ));
                }
                (Some(guest), source) => {
                    items[i] = Some(Item {
                        vm: vm.clone(),
                        name: name.clone(),
                        existing: Some(guest.clone()),
                        source: source.ok(),
                        target: guest.node.clone(),
                    });
                }
                (None, Err(message)) => outcomes[i] = Some(fail(message, true)),
                (None, Ok(source)) => {
                    demands.push(Demand {
                        bytes: vm.memory_mib.saturating_mul(1 << 20),
                        only_on: (!source.shared).then(|| source.node.clone()),
                    });
                    demand_of.push((i, source));
                    demand_names.push(name.clone());
                }
            }
        }
        let (placed, capacity) = place(&inventory.nodes, &demands, &demand_names);
        if !capacity.fits() && !allow_partial {
            return Err(ProvisionError::InsufficientCapacity { report: capacity });
        }
        {
            let mut free = run.free.lock().unwrap_or_else(PoisonError::into_inner);
            for node in capacity.nodes.iter().filter(|n| n.online) {
                free.insert(node.node.clone(), node.free_bytes.saturating_sub(node.planned_bytes));
            }
        }
        for ((i, source), target) in demand_of.into_iter().zip(placed) {
            let vm = &plan[i];
            match target {
                Some(target) => {
                    items[i] = Some(Item {
                        vm: vm.clone(),
                        name: names[i].clone(),
                        existing: None,
                        source: Some(source),
                        target,
                    })
                }
                None => {
                    outcomes[i] = Some(VmOutcome {
                        last: VmProgress {
                            message: Some("no node has enough free memory".into()),
                            ..progress(&vm.key, &names[i], VmStage::Unplaced)
                        },
                        created: false,
                        retryable: true,
                    })
                }
            }
        }
        for outcome in outcomes.iter().flatten() {
            self.record(&run, &outcome.last).await;
        }
        let mut running = JoinSet::new();
        for (i, item) in items.into_iter().enumerate() {
            let Some(item) = item else { continue };
            let engine = self.clone();
            let run = run.clone();
            running.spawn(crate::activities::within_job(async move { (i, engine.bring_up(&run, item).await) }));
        }
        while let Some(joined) = running.join_next().await {
            match joined {
                Ok((i, outcome)) => outcomes[i] = Some(outcome),
                Err(e) => tracing::error!(error = %e, "a VM pipeline panicked"),
            }
        }
        let vms: Vec<VmOutcome> = outcomes
            .into_iter()
            .zip(plan.iter().zip(&names))
            .map(|(outcome, (vm, name))| {
                outcome.unwrap_or_else(|| VmOutcome {
                    last: VmProgress {
                        message: Some("internal error".into()),
                        ..progress(&vm.key, name, VmStage::Failed)
                    },
                    created: false,
                    retryable: true,
                })
            })
            .collect();
        Self::recording_result(&run)?;
        let hiccups = *run.hiccups.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(DeploymentReport { vms, capacity, hiccups })
    }

    async fn fail(&self, run: &Run, mut p: VmProgress, step: &str, error: VmError, created: bool) -> VmOutcome {
        let retryable = error.is_retryable() || matches!(error, VmError::NodeOffline { .. });
        p.stage = VmStage::Failed;
        p.message = Some(format!("{step} failed: {error}"));
        self.record(run, &p).await;
        VmOutcome { last: p, created, retryable }
    }

    /// Clone (unless it exists), configure, start, wait for the address.
    async fn bring_up(&self, run: &Run, item: Item) -> VmOutcome {
        let mut p = progress(&item.vm.key, &item.name, VmStage::Cloning);
        let (guest, created) = match &item.existing {
            Some(guest) => match self.until_unlocked(guest.clone()).await {
                Ok(guest) => (Some(guest), false),
                Err(e) => return self.fail(run, p, "waiting for the VM's lock", e, false).await,
            },
            None => {
                self.record(run, &p).await;
                match self.clone_one(run, &item, &mut p).await {
                    Ok(Cloned::New { vmid, node }) => {
                        p.vmid = Some(vmid);
                        p.node = Some(node);
                        (None, true)
                    }
                    Ok(Cloned::Found(guest)) => (Some(guest), true),
                    Err(e) => return self.fail(run, p, "clone", e, false).await,
                }
            }
        };
        if let Some(guest) = &guest {
            p.vmid = Some(guest.vmid);
            p.node = Some(guest.node.clone());
        }
        let (Some(vmid), Some(node)) = (p.vmid, p.node.clone()) else {
            return self.fail(run, p, "clone", VmError::Failed { message: "no VMID".into() }, created).await;
        };
        let tagged = guest.as_ref().is_some_and(|g| g.tags.contains(&run.tag));
        if !tagged {
            p.stage = VmStage::Configuring;
            self.record(run, &p).await;
            let mut tags = vec![run.tag.clone()];
            tags.extend(item.vm.tags.iter().filter_map(|t| names::tag(t)));
            tags.dedup();
            let settings = VmSettings {
                cores: Some(item.vm.cores),
                memory_mib: Some(item.vm.memory_mib),
                tags,
                description: Some(item.vm.description.clone()),
            };
            if let Err(e) = self.retrying(|| self.cluster.configure_vm(&node, vmid, &settings)).await {
                return self.fail(run, p, "configuration", e, created).await;
            }
        }
        if !guest.as_ref().is_some_and(is_running) {
            p.stage = VmStage::Starting;
            self.record(run, &p).await;
            if let Err(e) = self.start(&node, vmid).await {
                return self.fail(run, p, "start", e, created).await;
            }
        }
        p.stage = VmStage::WaitingForIp;
        self.record(run, &p).await;
        match self.wait_ip(&node, vmid).await {
            Ok((ip, note)) => {
                p.stage = VmStage::Ready;
                p.ip = ip;
                p.message = note;
                self.record(run, &p).await;
                VmOutcome { last: p, created, retryable: false }
            }
            Err(e) => self.fail(run, p, "waiting for the address", e, created).await,
        }
    }

    /// Starts a VM; one that already runs counts as started.
    async fn start(&self, node: &str, vmid: u32) -> Result<(), VmError> {
        match self.retrying(|| self.cluster.power(node, vmid, PowerOp::Start)).await {
            Err(VmError::Failed { message }) if message.contains("already running") => Ok(()),
            other => other,
        }
    }

    async fn next_vmid(&self) -> Result<u32, VmError> {
        let offered = self.retrying(|| self.cluster.next_vmid()).await?;
        Ok(self.pacer.vmid(offered))
    }

    async fn find_by_name(&self, name: &str) -> Result<Option<GuestState>, VmError> {
        let inventory = self.retrying(|| self.cluster.inventory()).await?;
        Ok(inventory.guests.into_iter().find(|g| g.name == name && !g.template))
    }

    async fn clone_one(&self, run: &Run, item: &Item, p: &mut VmProgress) -> Result<Cloned, VmError> {
        let Some(source) = &item.source else {
            return Err(VmError::Missing { message: format!("template VM {} not found", item.vm.source.vmid) });
        };
        let linked = item.vm.linked_clone;
        let mut target = item.target.clone();
        let (mut attempt, mut vmid_tries, mut busy_tries) = (1, 0, 1);
        let patient_until = Instant::now() + self.config.lock_patience;
        loop {
            let result = {
                let _slot = self.pacer.slot(&source.storage_key, linked, self.config.linked_clones_per_storage).await;
                let newid = self.next_vmid().await?;
                p.vmid = Some(newid);
                p.node = Some(target.clone());
                let spec = CloneSpec {
                    source_node: source.node.clone(),
                    source_vmid: source.vmid,
                    newid,
                    name: item.name.clone(),
                    target_node: target.clone(),
                    linked,
                    description: item.vm.description.clone(),
                };
                self.cluster.clone_vm(&spec).await.map(|()| newid)
            };
            match result {
                Ok(vmid) => return Ok(Cloned::New { vmid, node: target }),
                Err(VmError::VmidTaken { .. }) if vmid_tries < self.config.vmid_attempts => {
                    vmid_tries += 1;
                    run.note(|h| h.vmid_collisions += 1);
                }
                Err(VmError::NodeOffline { node, message })
                    if node == target && node != source.node && attempt < self.config.attempts =>
                {
                    attempt += 1;
                    let bytes = item.vm.memory_mib.saturating_mul(1 << 20);
                    target = run.replace(&node, bytes).ok_or(VmError::NodeOffline {
                        node: node.clone(),
                        message: format!("{message}; no other node has room for the VM"),
                    })?;
                    run.note(|h| h.moved += 1);
                    tracing::info!(vm = %item.name, from = %node, to = %target, "target node offline; placed elsewhere");
                }
                Err(e) if e.is_retryable() && (attempt < self.config.attempts || busy_until(&e, patient_until)) => {
                    run.note(|h| h.clone_retries += 1);
                    tracing::info!(vm = %item.name, error = %e, attempt, "clone failed; retrying");
                    if matches!(e, VmError::Busy { .. }) {
                        tokio::time::sleep(self.backoff(busy_tries)).await;
                        busy_tries += 1;
                    } else {
                        tokio::time::sleep(self.backoff(attempt)).await;
                        attempt += 1;
                    }
                    // A clone that timed out on our side may have finished
                    // (or still run) on the cluster: never make a second one.
                    if let Some(found) = self.find_by_name(&item.name).await? {
                        return Ok(Cloned::Found(self.until_unlocked(found).await?));
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits (polling the bulk state) until no task holds the VM.
    async fn until_unlocked(&self, mut guest: GuestState) -> Result<GuestState, VmError> {
        let deadline = Instant::now() + self.config.ip_timeout;
        let mut pause = self.config.poll_first;
        while let Some(lock) = guest.lock.clone() {
            if Instant::now() >= deadline {
                return Err(VmError::Busy { message: format!("VM {} stays locked ({lock})", guest.vmid) });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(self.config.poll_max);
            let inventory = self.retrying(|| self.cluster.inventory()).await?;
            guest = inventory
                .guest(guest.vmid)
                .cloned()
                .ok_or_else(|| VmError::Missing { message: format!("VM {} disappeared", guest.vmid) })?;
        }
        Ok(guest)
    }

    /// The guest agent's address, or why there is none. Only the agent can
    /// tell; a VM without one is ready without an address.
    async fn wait_ip(&self, node: &str, vmid: u32) -> Result<(Option<String>, Option<String>), VmError> {
        let deadline = Instant::now() + self.config.ip_timeout;
        let mut pause = self.config.poll_first;
        loop {
            match self.cluster.guest_ip(node, vmid).await {
                Ok(GuestIp::Address(ip)) => return Ok((Some(ip), None)),
                Ok(GuestIp::NoAgent) => return Ok((None, Some("no QEMU guest agent configured".into()))),
                Ok(GuestIp::NotYet) => {}
                Err(e) if e.is_retryable() => tracing::debug!(vmid, error = %e, "guest agent poll failed"),
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            if now >= deadline {
                let secs = self.config.ip_timeout.as_secs();
                return Ok((None, Some(format!("the guest agent reported no address within {secs} s"))));
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(self.config.poll_max);
        }
    }

    /// Stops and deletes every VM of the plan and every VM carrying the
    /// owner's tag; reports each, then checks that none is left.
    pub async fn decommission(&self, owner: &str, plan: &[PlannedVm]) -> Result<Vec<VmProgress>, ProvisionError> {
        let names = names::assign(plan)?;
        let run = Arc::new(Run::new(owner));
        let ours = |inventory: &Inventory| -> Vec<GuestState> {
            inventory
                .guests
                .iter()
                .filter(|g| !g.template)
                .filter(|g| g.tags.contains(&run.tag) || (names.contains(&g.name) && !is_foreign(g, &run.tag)))
                .cloned()
                .collect()
        };
        let inventory = self.inventory().await?;
        let targets = ours(&inventory);
        let key_of: HashMap<&str, &str> =
            plan.iter().zip(&names).map(|(vm, n)| (n.as_str(), vm.key.as_str())).collect();
        let mut results = Vec::new();
        let present: HashSet<&str> = targets.iter().map(|g| g.name.as_str()).collect();
        for (vm, name) in plan.iter().zip(&names).filter(|(_, n)| !present.contains(n.as_str())) {
            let gone = progress(&vm.key, name, VmStage::Deleted);
            self.record(&run, &gone).await;
            results.push(gone);
        }
        let mut running = JoinSet::new();
        let mut per_node: HashMap<String, Arc<Semaphore>> = HashMap::new();
        for guest in targets {
            let key = key_of.get(guest.name.as_str()).map(|k| k.to_string()).unwrap_or_default();
            let engine = self.clone();
            let run = run.clone();
            let slots = per_node
                .entry(guest.node.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(self.config.teardowns_per_node.max(1))))
                .clone();
            running.spawn(crate::activities::within_job(async move {
                let _slot = slots.acquire_owned().await.ok();
                engine.tear_down(&run, &key, guest).await
            }));
        }
        while let Some(joined) = running.join_next().await {
            match joined {
                Ok(p) => results.push(p),
                Err(e) => tracing::error!(error = %e, "a VM teardown panicked"),
            }
        }
        let left = ours(&self.inventory().await?);
        if !left.is_empty() {
            let remaining = left
                .iter()
                .map(|g| {
                    let why = results
                        .iter()
                        .find(|p| p.vmid == Some(g.vmid))
                        .and_then(|p| p.message.clone())
                        .unwrap_or_else(|| "still present".into());
                    format!("{} (VMID {} on {}): {why}", g.name, g.vmid, g.node)
                })
                .collect();
            return Err(ProvisionError::Leftover { remaining });
        }
        Self::recording_result(&run)?;
        Ok(results)
    }

    async fn stop(&self, node: &str, vmid: u32) -> Result<(), VmError> {
        match self.retrying(|| self.cluster.power(node, vmid, PowerOp::Stop)).await {
            Err(VmError::Failed { message }) if message.contains("not running") => Ok(()),
            other => other,
        }
    }

    /// Stops (hard: the VM is about to go) and deletes one VM.
    async fn tear_down(&self, run: &Run, key: &str, guest: GuestState) -> VmProgress {
        let mut p = VmProgress {
            vmid: Some(guest.vmid),
            node: Some(guest.node.clone()),
            ..progress(key, &guest.name, VmStage::Stopping)
        };
        let result = async {
            if guest.status != "stopped" {
                self.record(run, &p).await;
                self.stop(&guest.node, guest.vmid).await?;
            }
            p.stage = VmStage::Deleting;
            self.record(run, &p).await;
            let mut stopped_again = false;
            loop {
                match self.retrying(|| self.cluster.delete_vm(&guest.node, guest.vmid)).await {
                    Ok(()) | Err(VmError::Missing { .. }) => return Ok(()),
                    // Started meanwhile (a deployment still running): stop again, once.
                    Err(VmError::Failed { message }) if message.contains("running") && !stopped_again => {
                        stopped_again = true;
                        self.stop(&guest.node, guest.vmid).await?;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        .await;
        match result {
            Ok(()) => {
                p.stage = VmStage::Deleted;
                p.message = None;
            }
            Err(e) => {
                p.message =
                    Some(format!("{} failed: {e}", if p.stage == VmStage::Deleting { "delete" } else { "stop" }));
                p.stage = VmStage::Failed;
            }
        }
        self.record(run, &p).await;
        p
    }

    /// The owner's VM `vmid` from the bulk state, if its node is up.
    async fn owned_guest(&self, owner: &str, vmid: u32) -> Result<GuestState, ProvisionError> {
        let inventory = self.inventory().await?;
        let guest = inventory.guest(vmid).filter(|g| !g.template).ok_or(ProvisionError::VmNotFound { vmid })?;
        if !guest.tags.contains(&owner_tag(owner)) {
            return Err(ProvisionError::NotOwned { vmid, owner: owner.to_string() });
        }
        if !inventory.node(&guest.node).is_some_and(|n| n.online) {
            return Err(ProvisionError::NodeOffline { vmid, node: guest.node.clone() });
        }
        Ok(guest.clone())
    }

    /// One power action on one of the owner's VMs; a VM locked by another
    /// task is tried again a few times, then refused with a specific error.
    /// Answers the VM's state afterwards. For [`VmAction::ResetToTemplate`]
    /// use [`Provisioner::reset_to_template`].
    pub async fn power(&self, owner: &str, vmid: u32, action: VmAction) -> Result<GuestState, ProvisionError> {
        let failed = |message: String| ProvisionError::ActionFailed { vmid, action: action.key().into(), message };
        let op = action.power_op().ok_or_else(|| failed("needs the VM's plan (reset_to_template)".into()))?;
        let guest = self.owned_guest(owner, vmid).await?;
        let mut attempt = 1;
        loop {
            match self.cluster.power(&guest.node, vmid, op).await {
                Ok(()) => break,
                Err(e) if e.is_retryable() && attempt < self.config.attempts => {
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
                Err(VmError::Busy { message }) => return Err(ProvisionError::VmLocked { vmid, message }),
                Err(VmError::NodeOffline { node, .. }) => return Err(ProvisionError::NodeOffline { vmid, node }),
                Err(VmError::Missing { .. }) => return Err(ProvisionError::VmNotFound { vmid }),
                Err(e) => return Err(failed(e.to_string())),
            }
        }
        let inventory = self.inventory().await?;
        inventory.guest(vmid).cloned().ok_or(ProvisionError::VmNotFound { vmid })
    }

    /// Throws the owner's VM `vmid` away and clones its plan entry afresh
    /// under the same name, on the same node when it can; progress is
    /// recorded as in a deployment. Idempotent: when `vmid` is gone already
    /// (an earlier attempt deleted it) it only makes sure the new clone exists.
    pub async fn reset_to_template(
        &self,
        owner: &str,
        vmid: u32,
        target: &ResetTarget,
    ) -> Result<VmOutcome, ProvisionError> {
        let failed = |message: String| ProvisionError::ActionFailed {
            vmid,
            action: VmAction::ResetToTemplate.key().into(),
            message,
        };
        let run = Run::new(owner);
        let old = match self.owned_guest(owner, vmid).await {
            Ok(guest) if guest.name != target.name => {
                return Err(failed(format!("VM {vmid} is named {}, not {}", guest.name, target.name)));
            }
            Ok(guest) => {
                let gone = self.tear_down(&run, &target.vm.key, guest.clone()).await;
                if gone.stage != VmStage::Deleted {
                    Self::recording_result(&run)?;
                    return Err(failed(gone.message.unwrap_or_default()));
                }
                Some(guest)
            }
            Err(ProvisionError::VmNotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let inventory = self.inventory().await?;
        let existing = inventory.guests.iter().find(|g| g.name == target.name && !g.template).cloned();
        let source = self.resolve_source(&inventory, &target.vm.source).await.map_err(failed)?;
        let online = |node: &str| inventory.node(node).is_some_and(|n| n.online);
        let node = match (&old, source.shared) {
            (_, false) => source.node.clone(),
            (Some(old), true) if online(&old.node) => old.node.clone(),
            _ => inventory
                .nodes
                .iter()
                .filter(|n| n.online)
                .max_by_key(|n| n.mem_free())
                .map(|n| n.name.clone())
                .ok_or_else(|| failed("no node is online".into()))?,
        };
        let item =
            Item { vm: target.vm.clone(), name: target.name.clone(), existing, source: Some(source), target: node };
        let outcome = self.bring_up(&run, item).await;
        Self::recording_result(&run)?;
        Ok(outcome)
    }

    /// Compares the recorded VMs of `owner` with the cluster, hands the
    /// differences to the recorder (which fixes its records) and answers them.
    pub async fn reconcile(&self, owner: &str) -> Result<Vec<Drift>, ProvisionError> {
        let recorded =
            self.recorder.recorded(owner).await.map_err(|e| ProvisionError::Recording { message: e.to_string() })?;
        let inventory = self.inventory().await?;
        let tag = owner_tag(owner);
        let mut drift = Vec::new();
        // Proxmox's bulk state shows a paused VM as running.
        let same_status =
            |recorded: &str, actual: &str| recorded == actual || (recorded == "paused" && actual == "running");
        for record in &recorded {
            let key = record.key.clone();
            match record.vmid {
                Some(vmid) => match inventory.guest(vmid) {
                    None => drift.push(Drift::Missing { key, vmid }),
                    Some(guest) => {
                        if record.node.as_deref() != Some(guest.node.as_str()) {
                            drift.push(Drift::Moved {
                                key: key.clone(),
                                vmid,
                                recorded: record.node.clone(),
                                actual: guest.node.clone(),
                            });
                        }
                        if !record.status.as_deref().is_some_and(|s| same_status(s, &guest.status)) {
                            drift.push(Drift::Status {
                                key: key.clone(),
                                vmid,
                                recorded: record.status.clone(),
                                actual: guest.status.clone(),
                            });
                        }
                        // Only the guest agent knows the address, one call per
                        // running VM; an agent that does not answer changes nothing.
                        if guest.status == "running"
                            && let Ok(GuestIp::Address(actual)) = self.cluster.guest_ip(&guest.node, vmid).await
                            && record.ip.as_deref() != Some(actual.as_str())
                        {
                            drift.push(Drift::Address { key, vmid, recorded: record.ip.clone(), actual });
                        }
                    }
                },
                None => {
                    if let Some(guest) = inventory.guests.iter().find(|g| g.name == record.name && !g.template) {
                        drift.push(Drift::Found {
                            key,
                            vmid: guest.vmid,
                            node: guest.node.clone(),
                            status: guest.status.clone(),
                        });
                    }
                }
            }
        }
        let known_ids: HashSet<u32> = recorded.iter().filter_map(|r| r.vmid).collect();
        let known_names: HashSet<&str> = recorded.iter().map(|r| r.name.as_str()).collect();
        for guest in inventory.guests.iter().filter(|g| g.tags.contains(&tag)) {
            if !known_ids.contains(&guest.vmid) && !known_names.contains(guest.name.as_str()) {
                drift.push(Drift::Unrecorded { vmid: guest.vmid, name: guest.name.clone(), node: guest.node.clone() });
            }
        }
        if !drift.is_empty() {
            tracing::warn!(owner, differences = drift.len(), "recorded VMs differ from the cluster");
            self.recorder
                .drift(owner, &drift)
                .await
                .map_err(|e| ProvisionError::Recording { message: e.to_string() })?;
        }
        Ok(drift)
    }
}

/// A lock timeout while there is patience left.
fn busy_until(error: &VmError, deadline: Instant) -> bool {
    matches!(error, VmError::Busy { .. }) && Instant::now() < deadline
}

fn validate(plan: &[PlannedVm]) -> Result<(), ProvisionError> {
    let mut keys = HashSet::new();
    for vm in plan {
        let invalid = |message: String| Err(ProvisionError::InvalidPlan { message });
        if !keys.insert(vm.key.as_str()) {
            return invalid(format!("key {:?} appears twice", vm.key));
        }
        if vm.memory_mib < 16 {
            return invalid(format!("{}: memory must be at least 16 MiB", vm.key));
        }
        if vm.cores == 0 {
            return invalid(format!("{}: at least one core is needed", vm.key));
        }
    }
    Ok(())
}
