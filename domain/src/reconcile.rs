//! What a reconcile pass found: the differences between an event's VM
//! records and the cluster (which the pass fixed in the records) and VMs
//! carrying the event's tag that no record names. Recorded as the details
//! of one `event.reconcile` activity and shown on the event's page.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// The action of the activity a reconcile pass that found drift records.
pub const RECONCILE_ACTION: &str = "event.reconcile";

/// How a VM's record differed from the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// Recorded with a VMID the cluster does not have (deleted outside OpenVLE).
    Missing,
    /// On another node than recorded.
    Moved,
    /// In another power state than recorded.
    Status,
    /// Recorded without a VMID, but a VM of its name is on the cluster.
    Found,
    /// Running with another address than recorded (its guest agent says).
    Address,
}

impl DriftKind {
    pub fn key(self) -> &'static str {
        match self {
            DriftKind::Missing => "missing",
            DriftKind::Moved => "moved",
            DriftKind::Status => "status",
            DriftKind::Found => "found",
            DriftKind::Address => "address",
        }
    }
}

/// One VM record the pass corrected: what was recorded, what the cluster said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftedVm {
    /// The VM record's id and name.
    pub vm_id: i64,
    pub name: String,
    pub vmid: Option<u32>,
    pub kind: DriftKind,
    /// The node, power state or address recorded (`None`: nothing was).
    pub recorded: Option<String>,
    /// The node, power state or address on the cluster (`None`: the VM is gone).
    pub cluster: Option<String>,
    /// The node the cluster has the VM on (`None`: gone).
    pub node: Option<String>,
}

/// A VM carrying the event's tag that no record names (decommissioning
/// removes it by the tag; until then a person may want to look at it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UntrackedVm {
    pub vmid: u32,
    pub name: String,
    pub node: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftReport {
    pub vms: Vec<DriftedVm>,
    pub untracked: Vec<UntrackedVm>,
}

impl DriftReport {
    pub fn is_empty(&self) -> bool {
        self.vms.is_empty() && self.untracked.is_empty()
    }
}

/// The latest drift found for an event, for its page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDrift {
    pub at: Timestamp,
    pub report: DriftReport,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_travel_as_json_details() {
        let report = DriftReport {
            vms: vec![DriftedVm {
                vm_id: 7,
                name: "lab-alice-debian".into(),
                vmid: Some(120),
                kind: DriftKind::Status,
                recorded: Some("running".into()),
                cluster: Some("stopped".into()),
                node: Some("pve1".into()),
            }],
            untracked: vec![UntrackedVm { vmid: 130, name: "stray".into(), node: "pve1".into() }],
        };
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["vms"][0]["kind"], "status");
        assert_eq!(serde_json::from_value::<DriftReport>(json).unwrap(), report);
        assert!(DriftReport::default().is_empty() && !report.is_empty());
    }
}
