//! The provisioning recorder on the classroom's VM records: progress, what
//! reconcile reads, and drift fixes, on SQLite and MariaDB alike.

mod common;

use domain::activity::ActorKind;
use domain::classroom::{Console, EventFields, EventRole, VmState};
use domain::reconcile::{DriftKind, DriftReport, RECONCILE_ACTION, UntrackedVm};
use domain::time::Timestamp;
use domain::{AuthBackend, Language, UserStatus};
use services::classroom::ports::{NewVm, TemplateRecord};
use services::ports::NewUser;
use services::provisioning::{Drift, ProvisioningRecorder, VmProgress, VmStage};
use store::Database;

async fn user(db: &Database, username: &str) -> i64 {
    let new = NewUser {
        username: username.into(),
        name: username.into(),
        email: format!("{username}@example.org"),
        language: Language::En,
        status: UserStatus::Active,
        auth_backend: AuthBackend::Internal,
        password_hash: None,
        created_at: Timestamp(1),
    };
    db.ports(None).users.insert(new, None).await.unwrap()
}

/// An event in deployment with one planned VM for `username`; answers (event id, VM id).
async fn event_with_vm(db: &Database, short: &str, username: &str) -> (i64, i64) {
    let ports = db.ports(None);
    let template = TemplateRecord {
        name: format!("Debian {short}"),
        description: String::new(),
        operating_system: "Debian".into(),
        proxmox_vmid: 9000,
        node: "pve1".into(),
        cores: 1,
        memory_mib: 1024,
        disk_gib: 8,
        linked_clone: true,
        console: Console::Builtin,
    };
    let template = ports.templates.insert(&template, Timestamp(1), None).await.unwrap();
    let env =
        ports.environments.insert(&format!("Env {short}"), "", &[(template, 1)], Timestamp(1), None).await.unwrap();
    let owner = user(db, username).await;
    let fields = EventFields {
        name: short.into(),
        short_name: short.into(),
        description: String::new(),
        environment_id: env,
        starts_at: Timestamp(1_000),
        ends_at: None,
    };
    let event = ports.events.insert(&fields, owner, Timestamp(1), None).await.unwrap();
    ports.events.put_participants(event, &[(owner, EventRole::Student)], None).await.unwrap();
    assert!(ports.events.begin_deployment(event, None).await.unwrap());
    let new =
        NewVm { event_id: event, owner_id: owner, template_id: template, ordinal: 1, name: format!("{short}-vm") };
    let vms = ports.vms.plan(event, &[new], Timestamp(2)).await.unwrap();
    (event, vms[0].id)
}

fn progress(key: i64, stage: VmStage) -> VmProgress {
    VmProgress { key: key.to_string(), name: "rec1-vm".into(), stage, vmid: None, node: None, ip: None, message: None }
}

async fn progress_drift_and_foreign_keys(db: Database) {
    let clock = common::TestClock::new();
    let recorder = db.vm_recorder(clock.clone());
    let vms = db.ports(None).vms;
    let (event, vm) = event_with_vm(&db, "rec1", "alice").await;
    let (other_event, other_vm) = event_with_vm(&db, "rec2", "bob").await;
    let owner = format!("event-{event}");
    let state = |id: i64| {
        let vms = vms.clone();
        async move {
            let v = vms.by_id(id).await.unwrap().unwrap();
            (v.state, v.vmid, v.node, v.ip, v.last_error)
        }
    };

    let cloning = VmProgress { vmid: Some(120), node: Some("pve1".into()), ..progress(vm, VmStage::Cloning) };
    recorder.progress(&owner, &cloning).await.unwrap();
    assert_eq!(state(vm).await, (VmState::Cloning, Some(120), Some("pve1".into()), None, None));
    // Later stages may leave VMID and node out: the known ones stay.
    recorder.progress(&owner, &progress(vm, VmStage::WaitingForIp)).await.unwrap();
    assert_eq!(state(vm).await.0, VmState::Starting);
    let ready = VmProgress { ip: Some("10.0.0.5".into()), ..progress(vm, VmStage::Ready) };
    recorder.progress(&owner, &ready).await.unwrap();
    recorder.progress(&owner, &ready).await.unwrap();
    assert_eq!(state(vm).await, (VmState::Running, Some(120), Some("pve1".into()), Some("10.0.0.5".into()), None));
    assert_eq!(vms.by_id(vm).await.unwrap().unwrap().updated_at, services::clock::Clock::now(clock.as_ref()));

    let recorded = recorder.recorded(&owner).await.unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        (recorded[0].key.clone(), recorded[0].vmid, recorded[0].status.as_deref(), recorded[0].ip.as_deref()),
        (vm.to_string(), Some(120), Some("running"), Some("10.0.0.5"))
    );
    // Reconcile: the guest agent reports another address.
    let address = Drift::Address { key: vm.to_string(), vmid: 120, recorded: None, actual: "10.0.0.9".into() };
    recorder.drift(&owner, &[address]).await.unwrap();
    assert_eq!(state(vm).await.3.as_deref(), Some("10.0.0.9"));

    // Reconcile: another power state, another node, then gone.
    let status = Drift::Status { key: vm.to_string(), vmid: 120, recorded: None, actual: "stopped".into() };
    let moved = Drift::Moved { key: vm.to_string(), vmid: 120, recorded: None, actual: "pve2".into() };
    let unrecorded = Drift::Unrecorded { vmid: 999, name: "stray".into(), node: "pve1".into() };
    recorder.drift(&owner, &[status, moved, unrecorded]).await.unwrap();
    assert_eq!(state(vm).await.0, VmState::Stopped);
    assert_eq!(state(vm).await.2.as_deref(), Some("pve2"));
    recorder.drift(&owner, &[Drift::Missing { key: vm.to_string(), vmid: 120 }]).await.unwrap();
    let (s, vmid, node, _, error) = state(vm).await;
    assert_eq!((s, vmid, node), (VmState::Failed, None, None));
    assert!(error.unwrap().contains("120"), "the message names the VMID");
    let found = Drift::Found { key: vm.to_string(), vmid: 130, node: "pve3".into(), status: "running".into() };
    recorder.drift(&owner, &[found]).await.unwrap();
    assert_eq!((state(vm).await.0, state(vm).await.1), (VmState::Running, Some(130)));
    // A pass that finds nothing records nothing; `unknown` (a node offline) corrects nothing.
    recorder.drift(&owner, &[]).await.unwrap();
    let offline = Drift::Status { key: vm.to_string(), vmid: 130, recorded: None, actual: "unknown".into() };
    recorder.drift(&owner, &[offline]).await.unwrap();

    // Each pass that corrected something is one activity listing what it corrected.
    let outbox = db.ports(None).outbox.oldest(1000).await.unwrap();
    let passes: Vec<_> = outbox.into_iter().map(|(_, a)| a).filter(|a| a.action == RECONCILE_ACTION).collect();
    assert_eq!(passes.len(), 4, "{passes:?}");
    assert!(passes.iter().all(|a| a.actor_kind == ActorKind::Scheduler && a.event_id == Some(event)));
    assert_eq!((passes[0].target.kind.as_str(), passes[0].target.name.as_str()), ("events", "rec1"));
    let address: DriftReport = serde_json::from_value(passes[0].details.clone()).unwrap();
    assert_eq!(
        (address.vms[0].kind, address.vms[0].cluster.as_deref()),
        (DriftKind::Address, Some("10.0.0.9")),
        "the guest agent's new address"
    );
    let first: DriftReport = serde_json::from_value(passes[1].details.clone()).unwrap();
    let kinds: Vec<_> = first.vms.iter().map(|v| (v.vm_id, v.kind, v.recorded.clone(), v.cluster.clone())).collect();
    assert_eq!(
        kinds,
        vec![
            (vm, DriftKind::Status, None, Some("stopped".to_string())),
            (vm, DriftKind::Moved, None, Some("pve2".to_string())),
        ]
    );
    assert_eq!(first.untracked, vec![UntrackedVm { vmid: 999, name: "stray".into(), node: "pve1".into() }]);
    let missing: DriftReport = serde_json::from_value(passes[2].details.clone()).unwrap();
    assert_eq!(
        (
            missing.vms[0].kind,
            missing.vms[0].vmid,
            missing.vms[0].recorded.as_deref(),
            missing.vms[0].cluster.as_deref()
        ),
        (DriftKind::Missing, Some(120), Some("stopped"), None),
        "recorded as stopped, gone from the cluster"
    );
    let found: DriftReport = serde_json::from_value(passes[3].details.clone()).unwrap();
    assert_eq!((found.vms[0].kind, found.vms[0].node.as_deref()), (DriftKind::Found, Some("pve3")));

    // A failure keeps the address and shows Proxmox's message; deletion forgets the VMID.
    let failed = VmProgress { message: Some("lock timeout".into()), ..progress(vm, VmStage::Failed) };
    recorder.progress(&owner, &failed).await.unwrap();
    assert_eq!(state(vm).await.4.as_deref(), Some("lock timeout"));
    recorder.progress(&owner, &progress(vm, VmStage::Deleted)).await.unwrap();
    assert_eq!(state(vm).await, (VmState::Pending, None, None, None, None));

    // Keys of another event, other owners and VMs no record names change nothing.
    let before = state(other_vm).await;
    recorder.progress(&owner, &progress(other_vm, VmStage::Failed)).await.unwrap();
    recorder.progress("course-1", &progress(other_vm, VmStage::Failed)).await.unwrap();
    recorder
        .progress(&format!("event-{other_event}"), &VmProgress { key: String::new(), ..progress(0, VmStage::Deleted) })
        .await
        .unwrap();
    assert_eq!(state(other_vm).await, before);
    assert!(recorder.recorded("course-1").await.unwrap().is_empty());
}
on_both_dialects!(progress_drift_and_foreign_keys);
