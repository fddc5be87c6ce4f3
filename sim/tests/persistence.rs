//! The simulator's state file: what is saved at shutdown comes back at the next start.

use std::path::PathBuf;

use sim::proxmox::{SimConfig, SimError, Simulator, VmSpec};

fn temp_file(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    std::env::temp_dir().join(format!("pve-sim-{name}-{}-{nanos}.json", std::process::id()))
}

#[tokio::test]
async fn state_survives_a_restart() {
    let path = temp_file("state");
    let config = SimConfig { state_file: Some(path.clone()), time_scale: 0.01, ..SimConfig::demo() };
    let sim = Simulator::new(config.clone()).unwrap();
    sim.add_vm(VmSpec { vmid: 123, name: "kept".into(), template: false, running: true, ..config.vms[0].clone() })
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    sim.start(listener).unwrap().stop().await.unwrap();
    assert!(path.exists(), "state saved at shutdown");

    // The demo's VMs in the config are ignored once a state file exists: add another
    // to the config and check it does not appear.
    let mut changed = config.clone();
    changed.vms.push(VmSpec { vmid: 777, ..config.vms[0].clone() });
    let restored = Simulator::new(changed).unwrap();
    assert_eq!(restored.vm_count(), 4);
    assert!(matches!(restored.add_vm(VmSpec { vmid: 123, ..config.vms[0].clone() }), Err(SimError::VmExists(123))));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn corrupt_state_file_is_reported() {
    let path = temp_file("corrupt");
    std::fs::write(&path, b"{ not json").unwrap();
    let config = SimConfig { state_file: Some(path.clone()), ..SimConfig::demo() };
    let err = Simulator::new(config).err().expect("corrupt file must be rejected");
    assert!(matches!(err, SimError::StateFormat { .. }), "{err:?}");
    assert!(err.to_string().contains(&path.display().to_string()));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn invalid_configs_are_rejected() {
    let bad_scale = SimConfig { time_scale: -1.0, ..SimConfig::demo() };
    assert!(matches!(Simulator::new(bad_scale), Err(SimError::Config(_))));
    let mut bad_node = SimConfig::demo();
    bad_node.vms[0].node = "pve9".into();
    assert!(matches!(Simulator::new(bad_node), Err(SimError::UnknownNode(_))));
}
