//! Where new VMs go: each to the online node with the most free memory left
//! (so a class spreads evenly and big VMs land where there is room), and
//! what does not fit is reported per node.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::cluster::NodeState;

const GIB: f64 = (1u64 << 30) as f64;

/// One VM to place.
#[derive(Clone, Debug)]
pub(crate) struct Demand {
    pub bytes: u64,
    /// The only node it may go to (a template on storage that is not shared).
    pub only_on: Option<String>,
}

/// One node's side of a capacity check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeCapacity {
    pub node: String,
    pub online: bool,
    pub free_bytes: u64,
    /// Memory of the new VMs placed on this node.
    pub planned_bytes: u64,
    pub planned_vms: usize,
}

/// The outcome of a capacity check: every node, and what did not fit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityReport {
    pub nodes: Vec<NodeCapacity>,
    /// Names of the VMs that fit nowhere.
    pub unplaced: Vec<String>,
    pub needed_bytes: u64,
    pub unplaced_bytes: u64,
}

impl CapacityReport {
    pub fn fits(&self) -> bool {
        self.unplaced.is_empty()
    }
}

impl fmt::Display for CapacityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.unplaced.len() + self.nodes.iter().map(|n| n.planned_vms).sum::<usize>();
        write!(
            f,
            "not enough memory for {} of {} new VMs ({:.1} GiB more needed)",
            self.unplaced.len(),
            total,
            self.unplaced_bytes as f64 / GIB
        )?;
        for node in &self.nodes {
            if node.online {
                write!(
                    f,
                    "; {}: {:.1} GiB free, {} VMs with {:.1} GiB fit",
                    node.node,
                    node.free_bytes as f64 / GIB,
                    node.planned_vms,
                    node.planned_bytes as f64 / GIB
                )?;
            } else {
                write!(f, "; {}: offline", node.node)?;
            }
        }
        Ok(())
    }
}

/// Places `demands` (in their order of size, largest first) on `nodes`;
/// answers the node for each demand (`None`: fits nowhere) and the report.
pub(crate) fn place(
    nodes: &[NodeState],
    demands: &[Demand],
    names: &[String],
) -> (Vec<Option<String>>, CapacityReport) {
    let mut free: BTreeMap<&str, u64> =
        nodes.iter().filter(|n| n.online).map(|n| (n.name.as_str(), n.mem_free())).collect();
    let mut planned: BTreeMap<&str, (u64, usize)> = BTreeMap::new();
    let mut order: Vec<usize> = (0..demands.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(demands[i].bytes));
    let mut placed = vec![None; demands.len()];
    for i in order {
        let demand = &demands[i];
        // Most free memory wins; the name breaks ties so placement is stable.
        let best = free
            .iter()
            .filter(|(node, left)| {
                **left >= demand.bytes && demand.only_on.as_deref().is_none_or(|only| only == **node)
            })
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(node, _)| *node);
        if let Some(node) = best {
            if let Some(left) = free.get_mut(node) {
                *left -= demand.bytes;
            }
            let entry = planned.entry(node).or_default();
            entry.0 += demand.bytes;
            entry.1 += 1;
            placed[i] = Some(node.to_string());
        }
    }
    let unplaced: Vec<usize> = (0..demands.len()).filter(|&i| placed[i].is_none()).collect();
    let report = CapacityReport {
        nodes: nodes
            .iter()
            .map(|n| {
                let (bytes, vms) = planned.get(n.name.as_str()).copied().unwrap_or_default();
                NodeCapacity {
                    node: n.name.clone(),
                    online: n.online,
                    free_bytes: if n.online { n.mem_free() } else { 0 },
                    planned_bytes: bytes,
                    planned_vms: vms,
                }
            })
            .collect(),
        unplaced: unplaced.iter().map(|&i| names.get(i).cloned().unwrap_or_default()).collect(),
        needed_bytes: demands.iter().map(|d| d.bytes).sum(),
        unplaced_bytes: unplaced.iter().map(|&i| demands[i].bytes).sum(),
    };
    (placed, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: u64 = 1 << 30;

    fn node(name: &str, free_gib: u64, online: bool) -> NodeState {
        NodeState { name: name.into(), online, mem_used: 4 * G, mem_total: (free_gib + 4) * G }
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("vm{i}")).collect()
    }

    #[test]
    fn spreads_by_free_memory() {
        let nodes = [node("pve1", 10, true), node("pve2", 30, true), node("pve3", 20, true)];
        let demands = vec![Demand { bytes: 2 * G, only_on: None }; 12];
        let (placed, report) = place(&nodes, &demands, &names(12));
        assert!(report.fits());
        let count = |n: &str| placed.iter().filter(|p| p.as_deref() == Some(n)).count();
        // pve2 takes VMs until it is level with pve3, then they alternate;
        // pve1 (10 GiB) never has the most left.
        assert_eq!((count("pve1"), count("pve2"), count("pve3")), (0, 9, 3));
        assert_eq!(report.nodes[1].planned_bytes, 18 * G);
    }

    #[test]
    fn shortfall_names_every_node_and_offline_ones_take_nothing() {
        let nodes = [node("pve1", 5, true), node("pve2", 100, false), node("pve3", 3, true)];
        let demands = vec![Demand { bytes: 2 * G, only_on: None }; 5];
        let (placed, report) = place(&nodes, &demands, &names(5));
        assert_eq!(placed.iter().filter(|p| p.is_some()).count(), 3);
        assert_eq!(report.unplaced.len(), 2);
        assert_eq!(report.unplaced_bytes, 4 * G);
        assert_eq!(
            report.to_string(),
            "not enough memory for 2 of 5 new VMs (4.0 GiB more needed); pve1: 5.0 GiB free, 2 VMs with 4.0 GiB fit; \
             pve2: offline; pve3: 3.0 GiB free, 1 VMs with 2.0 GiB fit"
        );
    }

    #[test]
    fn pinned_demands_stay_on_their_node() {
        let nodes = [node("pve1", 4, true), node("pve2", 100, true)];
        let demands = vec![Demand { bytes: 2 * G, only_on: Some("pve1".into()) }; 3];
        let (placed, report) = place(&nodes, &demands, &names(3));
        assert_eq!(placed.iter().flatten().filter(|n| *n == "pve1").count(), 2);
        assert_eq!(report.unplaced, ["vm2"]);
    }
}
