//! The provisioning engine's recorder: writes each VM's progress into the
//! classroom's VM records (state, VMID, node, address, last error) and fixes
//! them after a reconcile pass. Owners are `event-<id>` and keys are VM
//! record ids (see `services::classroom::deployment`); anything else is not
//! ours and is ignored.
//!
//! A VM becoming ready (`vm.deployed`) or failing (`vm.failed`) is an
//! activity of `system`, written in the transaction of the change and only
//! when the state really changes: a repeated report or a poll records nothing.

use std::sync::Arc;

use async_trait::async_trait;
use domain::activity::{Activity, ActivityTarget, ActorKind, Outcome};
use domain::classroom::VmState;
use domain::reconcile::{DriftKind, DriftReport, DriftedVm, RECONCILE_ACTION, UntrackedVm};
use domain::time::Timestamp;
use services::StoreError;
use services::clock::Clock;
use services::provisioning::{Drift, ProvisioningRecorder, RecordedVm, VmProgress, VmStage};
use sqlx::{AnyPool, Row};

use super::{Tx, activities, store_error};

pub struct VmRecorder {
    pool: AnyPool,
    clock: Arc<dyn Clock>,
}

impl VmRecorder {
    pub fn new(pool: AnyPool, clock: Arc<dyn Clock>) -> VmRecorder {
        VmRecorder { pool, clock }
    }

    /// Writes one record of the owner's event with the activity the change
    /// is; a record that is gone (the event was deleted meanwhile) is not an error.
    async fn write(&self, owner: &str, key: &str, change: Change) -> Result<(), StoreError> {
        let (Some(event_id), Ok(id)) = (services::classroom::deployment::event_of_owner(owner), key.parse::<i64>())
        else {
            return Ok(());
        };
        let now = self.clock.now();
        let mut tx = Tx::begin(&self.pool).await?;
        if let Some(applied) = apply(tx.conn()?, event_id, id, change, now).await? {
            let activity = applied.activity(id, event_id, now);
            activities::append(tx.conn()?, activity.as_ref(), None).await?;
        }
        tx.commit().await
    }
}

/// A change made to a record: its name and state before, and what it was.
struct Applied {
    name: String,
    previous: String,
    change: Change,
}

impl Applied {
    /// The activity of `system` this change is on its own (a VM becoming
    /// ready or failing), if any.
    fn activity(&self, id: i64, event_id: i64, now: Timestamp) -> Option<Activity> {
        let (action, message) = self.change.activity(&self.previous)?;
        Some(Activity {
            id: services::activities::new_activity_id(),
            at: now,
            actor_kind: ActorKind::System,
            actor_id: None,
            actor_name: ActorKind::System.key().to_string(),
            action: action.to_string(),
            target: ActivityTarget::new("vms", id, &self.name),
            event_id: Some(event_id),
            outcome: if message.is_some() { Outcome::Failed } else { Outcome::Ok },
            reason: message.as_ref().map(|_| "vm_failed".to_string()),
            request_id: services::activities::job_request_id(),
            client_ip: None,
            details: match message {
                Some(message) => serde_json::json!({ "from": self.previous, "message": message }),
                None => serde_json::json!({ "from": self.previous }),
            },
        })
    }
}

/// Writes one record of event `event_id` in the open transaction; `None`
/// when there is no such record or nothing was to change.
async fn apply(
    conn: &mut sqlx::AnyConnection,
    event_id: i64,
    id: i64,
    change: Change,
    now: Timestamp,
) -> Result<Option<Applied>, StoreError> {
    // Write first: it takes the write lock (SQLite) or the row lock
    // (MariaDB) before the state is read, so parallel VM pipelines wait
    // for each other instead of failing to upgrade a read lock, and two
    // reports of one VM cannot both see the old state.
    sqlx::query("UPDATE vms SET updated_at = ? WHERE id = ? AND event_id = ?")
        .bind(now.millis())
        .bind(id)
        .bind(event_id)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    let before = sqlx::query("SELECT state, name FROM vms WHERE id = ? AND event_id = ?")
        .bind(id)
        .bind(event_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(store_error)?;
    let Some(before) = before else {
        return Ok(None);
    };
    let previous: String = before.try_get("state").map_err(store_error)?;
    let name: String = before.try_get("name").map_err(store_error)?;
    if matches!(change, Change::Progress { waiting_for_ip: true, .. }) && previous == VmState::Running.key() {
        // A re-run reading the address of a VM that runs already: it stays running.
        return Ok(None);
    }
    let at = now.millis();
    let query = match &change {
        Change::Gone => sqlx::query(
            "UPDATE vms SET vmid = NULL, node = NULL, ip = NULL, state = 'pending', last_error = NULL, \
             updated_at = ? WHERE id = ? AND event_id = ?",
        )
        .bind(at),
        Change::Progress { vmid, node, state, ip, keep_ip, last_error, .. } => sqlx::query(if *keep_ip {
            "UPDATE vms SET vmid = COALESCE(?, vmid), node = COALESCE(?, node), state = ?, \
             ip = COALESCE(?, ip), last_error = ?, updated_at = ? WHERE id = ? AND event_id = ?"
        } else {
            "UPDATE vms SET vmid = COALESCE(?, vmid), node = COALESCE(?, node), state = ?, \
             ip = ?, last_error = ?, updated_at = ? WHERE id = ? AND event_id = ?"
        })
        .bind(vmid.map(i64::from))
        .bind(node.clone())
        .bind(state.key())
        .bind(ip.clone())
        .bind(last_error.clone())
        .bind(at),
        Change::Missing { message } => sqlx::query(
            "UPDATE vms SET vmid = NULL, node = NULL, ip = NULL, state = 'failed', last_error = ?, \
             updated_at = ? WHERE id = ? AND event_id = ?",
        )
        .bind(message.clone())
        .bind(at),
        Change::Node { node } => sqlx::query("UPDATE vms SET node = ?, updated_at = ? WHERE id = ? AND event_id = ?")
            .bind(node.clone())
            .bind(at),
        Change::State { state } => {
            sqlx::query("UPDATE vms SET state = ?, updated_at = ? WHERE id = ? AND event_id = ?")
                .bind(state.key())
                .bind(at)
        }
        Change::Address { ip } => {
            sqlx::query("UPDATE vms SET ip = ?, updated_at = ? WHERE id = ? AND event_id = ?").bind(ip.clone()).bind(at)
        }
        Change::Found { vmid, node, state } => {
            sqlx::query("UPDATE vms SET vmid = ?, node = ?, state = ?, updated_at = ? WHERE id = ? AND event_id = ?")
                .bind(i64::from(*vmid))
                .bind(node.clone())
                .bind(state.key())
                .bind(at)
        }
    };
    query.bind(id).bind(event_id).execute(&mut *conn).await.map_err(store_error)?;
    Ok(Some(Applied { name, previous, change }))
}

impl Change {
    /// The activity this change is, coming from state `previous`: (action,
    /// failure message). Only a VM becoming ready or failing is one.
    fn activity(&self, previous: &str) -> Option<(&'static str, Option<String>)> {
        let failed = VmState::Failed.key();
        match self {
            Change::Progress { state: VmState::Running, .. } if previous != VmState::Running.key() => {
                Some(("vm.deployed", None))
            }
            Change::Progress { state: VmState::Failed, last_error, .. } if previous != failed => {
                Some(("vm.failed", Some(last_error.clone().unwrap_or_default())))
            }
            Change::Missing { message } if previous != failed => Some(("vm.failed", Some(message.clone()))),
            _ => None,
        }
    }
}

enum Change {
    /// Deleted on the cluster: the record stays planned (a reset clones it
    /// again; a decommission removes the records when it has finished).
    Gone,
    Progress {
        vmid: Option<u32>,
        node: Option<String>,
        state: VmState,
        ip: Option<String>,
        keep_ip: bool,
        last_error: Option<String>,
        /// The engine waits for the VM's address (after starting it, or to check a running one).
        waiting_for_ip: bool,
    },
    Missing {
        message: String,
    },
    Node {
        node: String,
    },
    State {
        state: VmState,
    },
    Address {
        ip: String,
    },
    Found {
        vmid: u32,
        node: String,
        state: VmState,
    },
}

/// The record's state for an engine stage (the engine's finer steps fold
/// into the states the pages show).
pub fn state_of(stage: VmStage) -> VmState {
    match stage {
        VmStage::Cloning | VmStage::Configuring => VmState::Cloning,
        VmStage::Starting | VmStage::WaitingForIp => VmState::Starting,
        VmStage::Ready => VmState::Running,
        VmStage::Failed | VmStage::Unplaced => VmState::Failed,
        VmStage::Stopping | VmStage::Deleting => VmState::Deleting,
        VmStage::Deleted => VmState::Pending,
    }
}

/// Proxmox's power state as a record state (`unknown` while a node is offline: no change).
fn state_of_status(status: &str) -> Option<VmState> {
    match status {
        "running" => Some(VmState::Running),
        "stopped" => Some(VmState::Stopped),
        "paused" | "suspended" => Some(VmState::Paused),
        _ => None,
    }
}

#[async_trait]
impl ProvisioningRecorder for VmRecorder {
    async fn progress(&self, owner: &str, update: &VmProgress) -> Result<(), StoreError> {
        let change = if update.stage == VmStage::Deleted {
            Change::Gone
        } else {
            let failed = matches!(update.stage, VmStage::Failed | VmStage::Unplaced);
            Change::Progress {
                vmid: update.vmid,
                node: update.node.clone(),
                state: state_of(update.stage),
                ip: update.ip.clone(),
                // A new clone has no address yet; a failed or stopping VM keeps its last one.
                keep_ip: failed || matches!(update.stage, VmStage::Stopping | VmStage::Deleting),
                last_error: if failed { update.message.clone() } else { None },
                waiting_for_ip: update.stage == VmStage::WaitingForIp,
            }
        };
        self.write(owner, &update.key, change).await
    }

    async fn recorded(&self, owner: &str) -> Result<Vec<RecordedVm>, StoreError> {
        let Some(event_id) = services::classroom::deployment::event_of_owner(owner) else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query("SELECT id, name, vmid, node, state, ip FROM vms WHERE event_id = ? ORDER BY id")
            .bind(event_id)
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id: i64 = row.try_get("id").map_err(store_error)?;
            let vmid: Option<i64> = row.try_get("vmid").map_err(store_error)?;
            let state: String = row.try_get("state").map_err(store_error)?;
            let status = match VmState::from_key(&state) {
                Some(VmState::Running) => Some("running".to_string()),
                Some(VmState::Stopped) => Some("stopped".to_string()),
                Some(VmState::Paused) => Some("paused".to_string()),
                _ => None,
            };
            out.push(RecordedVm {
                key: id.to_string(),
                name: row.try_get("name").map_err(store_error)?,
                vmid: vmid.and_then(|v| u32::try_from(v).ok()),
                node: row.try_get("node").map_err(store_error)?,
                status,
                ip: row.try_get("ip").map_err(store_error)?,
            });
        }
        Ok(out)
    }

    /// Fixes the records in one transaction with one `event.reconcile`
    /// activity (the scheduler's periodic work) listing what differed;
    /// nothing to fix and nothing untracked records nothing.
    async fn drift(&self, owner: &str, drift: &[Drift]) -> Result<(), StoreError> {
        let Some(event_id) = services::classroom::deployment::event_of_owner(owner) else {
            return Ok(());
        };
        let now = self.clock.now();
        let mut tx = Tx::begin(&self.pool).await?;
        let mut report = DriftReport::default();
        for item in drift {
            let (key, vmid, change, kind, recorded, cluster, node) = match item {
                Drift::Missing { key, vmid } => {
                    let message = format!("VM {vmid} is no longer on the cluster (deleted outside OpenVLE)");
                    (key, *vmid, Change::Missing { message }, DriftKind::Missing, None, None, None)
                }
                Drift::Moved { key, vmid, recorded, actual } => {
                    let change = Change::Node { node: actual.clone() };
                    (key, *vmid, change, DriftKind::Moved, recorded.clone(), Some(actual.clone()), Some(actual.clone()))
                }
                Drift::Status { key, vmid, recorded, actual } => {
                    // `unknown` while a node is offline: nothing to correct yet.
                    let Some(state) = state_of_status(actual) else { continue };
                    (
                        key,
                        *vmid,
                        Change::State { state },
                        DriftKind::Status,
                        recorded.clone(),
                        Some(actual.clone()),
                        None,
                    )
                }
                // The reconcile job then queues the connection sync, which
                // points Guacamole's connections at the new address.
                Drift::Address { key, vmid, recorded, actual } => {
                    let change = Change::Address { ip: actual.clone() };
                    (key, *vmid, change, DriftKind::Address, recorded.clone(), Some(actual.clone()), None)
                }
                Drift::Found { key, vmid, node, status } => {
                    let state = state_of_status(status).unwrap_or(VmState::Stopped);
                    let change = Change::Found { vmid: *vmid, node: node.clone(), state };
                    (key, *vmid, change, DriftKind::Found, None, Some(status.clone()), Some(node.clone()))
                }
                // No record to fix: decommissioning removes it by its tag.
                Drift::Unrecorded { vmid, name, node } => {
                    tracing::warn!(owner, vmid, name, node, "a VM carries the owner's tag but no record names it");
                    report.untracked.push(UntrackedVm { vmid: *vmid, name: name.clone(), node: node.clone() });
                    continue;
                }
            };
            let Ok(id) = key.parse::<i64>() else { continue };
            let Some(applied) = apply(tx.conn()?, event_id, id, change, now).await? else { continue };
            // A VM gone from the cluster was recorded in some state: say which.
            let recorded = recorded.or_else(|| (kind == DriftKind::Missing).then(|| applied.previous.clone()));
            report.vms.push(DriftedVm {
                vm_id: id,
                name: applied.name,
                vmid: Some(vmid),
                kind,
                recorded,
                cluster,
                node,
            });
        }
        if !report.is_empty() {
            let name: Option<String> = sqlx::query_scalar("SELECT name FROM events WHERE id = ?")
                .bind(event_id)
                .fetch_optional(tx.conn()?)
                .await
                .map_err(store_error)?;
            let Some(name) = name else {
                // The event was deleted meanwhile: nothing is left to report on.
                return Ok(());
            };
            let activity = Activity {
                id: services::activities::new_activity_id(),
                at: now,
                actor_kind: ActorKind::Scheduler,
                actor_id: None,
                actor_name: ActorKind::Scheduler.key().to_string(),
                action: RECONCILE_ACTION.to_string(),
                target: ActivityTarget::new("events", event_id, &name),
                event_id: Some(event_id),
                outcome: Outcome::Ok,
                reason: None,
                request_id: services::activities::job_request_id(),
                client_ip: None,
                details: serde_json::to_value(&report).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            };
            activities::append(tx.conn()?, Some(&activity), None).await?;
        }
        tx.commit().await
    }
}
