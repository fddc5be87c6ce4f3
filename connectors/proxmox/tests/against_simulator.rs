//! The connector against the Proxmox VE simulator over real HTTP: happy paths, pool
//! confinement and every failure kind, each asserting the error variant and whether it
//! is retryable. Runs at a small time scale, so a 40 s full clone takes 0.4 s.

use std::time::Duration;

use proxmox_connector::{
    CloneOptions, PveClient, PveConfig, PveError, ResourceType, Upid, VmConfigUpdate, guest_ipv4_addresses,
};
use sim::proxmox::{
    DEMO_POOL, DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET, DEMO_USER, FaultRule, RunningSimulator, SimConfig, Simulator,
    TokenSpec, VmSpec,
};

const WAIT: Duration = Duration::from_secs(20);

fn fast_demo() -> SimConfig {
    SimConfig { time_scale: 0.01, ..SimConfig::demo() }
}

async fn start(config: SimConfig) -> RunningSimulator {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Simulator::new(config).unwrap().start(listener).unwrap()
}

fn client_with(running: &RunningSimulator, user: &str, token: &str, secret: &str, pool: &str) -> PveClient {
    let mut config = PveConfig::new(&running.base_url(), user, token, secret).unwrap();
    config.pool = pool.to_owned();
    config.request_timeout = Duration::from_secs(5);
    PveClient::new(config).unwrap()
}

fn demo_client(running: &RunningSimulator) -> PveClient {
    client_with(running, DEMO_USER, DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET, DEMO_POOL)
}

fn clone_opts(newid: u32, full: bool) -> CloneOptions {
    CloneOptions { newid, name: Some(format!("student-{newid}")), full: Some(full), ..CloneOptions::default() }
}

async fn wait(client: &PveClient, upid: Upid) {
    client.wait_task(&upid, WAIT).await.unwrap();
}

fn assert_retryable(err: &PveError, expected: bool) {
    assert_eq!(err.is_retryable(), expected, "is_retryable() for {err:?}");
}

/// A VM outside the demo pool, plus a token that may see both pools and one that may
/// see only the other pool.
fn shared_cluster() -> SimConfig {
    let mut config = fast_demo();
    config.pools.push(sim::proxmox::PoolSpec { id: "Other".into(), comment: "another installation".into() });
    config.vms.push(VmSpec {
        vmid: 500,
        name: "someone-elses-vm".into(),
        pool: Some("Other".into()),
        template: false,
        running: true,
        ..config.vms[0].clone()
    });
    config.tokens.push(TokenSpec {
        user: "admin@pve".into(),
        name: "both".into(),
        secret: "both-secret".into(),
        pools: vec![DEMO_POOL.into(), "Other".into()],
    });
    config.tokens.push(TokenSpec {
        user: "other@pve".into(),
        name: "vle".into(),
        secret: "other-secret".into(),
        pools: vec!["Other".into()],
    });
    config
}

#[tokio::test]
async fn clone_start_use_and_delete() {
    let running = start(fast_demo()).await;
    let pve = demo_client(&running);

    assert_eq!(pve.version().await.unwrap().release, "9.1");
    let nodes = pve.nodes().await.unwrap();
    assert_eq!(nodes.len(), 2);
    assert!(nodes.iter().all(|n| n.is_online()));
    let status = pve.node_status("pve1").await.unwrap();
    assert!(status.memory.total > status.memory.used);
    assert!(pve.storage("pve1").await.unwrap().iter().any(|s| s.storage == "vmdata" && s.shared));
    assert_eq!(pve.pools().await.unwrap()[0].poolid, DEMO_POOL);
    let templates = pve.pool_vms().await.unwrap();
    assert_eq!(templates.len(), 3);
    assert!(templates.iter().all(|t| t.template));
    assert_eq!(pve.cluster_resources(Some(ResourceType::Node)).await.unwrap().len(), 2);

    // Linked clone on the template's node, full clone onto the other node.
    let linked = pve.next_id().await.unwrap();
    assert_eq!(linked, 100);
    wait(&pve, pve.clone_vm("pve1", 9000, &clone_opts(linked, false)).await.unwrap()).await;
    let full = pve.next_id().await.unwrap();
    let opts = CloneOptions { target: Some("pve2".into()), storage: Some("vmdata".into()), ..clone_opts(full, true) };
    let task = pve.clone_vm("pve1", 9000, &opts).await.unwrap();
    assert_eq!(task.node(), Some("pve1"));
    wait(&pve, task.clone()).await;
    let log = pve.task_log(&task, 0, 50).await.unwrap();
    assert!(log.last().is_some_and(|l| l.t == "TASK OK"), "{log:?}");
    assert!(pve.qemu_list("pve2").await.unwrap().iter().any(|vm| vm.vmid == full));
    let members = pve.pool_members().await.unwrap();
    assert!(members.iter().any(|m| m.vmid == Some(linked)) && members.iter().any(|m| m.vmid == Some(full)));

    let update = VmConfigUpdate {
        name: Some("exam-07".into()),
        cores: Some(4),
        memory_mib: Some(4096),
        description: Some("Course 42, student 7".into()),
        tags: Some("openvle;ssh".into()),
        net0: Some("virtio,bridge=vmbr1".into()),
    };
    pve.update_vm_config("pve1", linked, &update).await.unwrap();
    let config = pve.vm_config("pve1", linked).await.unwrap();
    assert_eq!(config.name.as_deref(), Some("exam-07"));
    assert_eq!((config.cores, config.memory_mib()), (Some(4), Some(4096)));
    assert!(config.net0.unwrap().contains("bridge=vmbr1"));

    // Boot: the guest agent answers only some (scaled) seconds later.
    wait(&pve, pve.start_vm("pve1", linked).await.unwrap()).await;
    assert!(pve.vm_status("pve1", linked).await.unwrap().is_running());
    let early = pve.agent_network_interfaces("pve1", linked).await.unwrap_err();
    assert!(
        matches!(&early, PveError::Api { status: 500, message } if message.contains("guest agent is not running")),
        "{early:?}"
    );
    let mut ips = Vec::new();
    for _ in 0..200 {
        if let Ok(ifaces) = pve.agent_network_interfaces("pve1", linked).await {
            ips = guest_ipv4_addresses(&ifaces);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(ips.len(), 1, "guest agent never reported an address");

    let vnc = pve.vnc_proxy("pve1", linked).await.unwrap();
    let url = pve.vnc_websocket_url("pve1", linked, &vnc).unwrap();
    assert_eq!(url.scheme(), "ws");
    assert!(url.as_str().contains(&format!("/qemu/{linked}/vncwebsocket?port={}&vncticket=PVEVNC", vnc.port)));

    // Snapshots.
    wait(&pve, pve.create_snapshot("pve1", linked, "clean", Some("fresh")).await.unwrap()).await;
    assert_eq!(pve.snapshots("pve1", linked).await.unwrap().len(), 2);
    wait(&pve, pve.rollback_snapshot("pve1", linked, "clean").await.unwrap()).await;
    assert!(!pve.vm_status("pve1", linked).await.unwrap().is_running(), "rollback without RAM stops the VM");
    wait(&pve, pve.delete_snapshot("pve1", linked, "clean").await.unwrap()).await;

    // Every power action on the full clone.
    wait(&pve, pve.start_vm("pve2", full).await.unwrap()).await;
    wait(&pve, pve.suspend_vm("pve2", full).await.unwrap()).await;
    assert_eq!(pve.vm_status("pve2", full).await.unwrap().qmpstatus.as_deref(), Some("paused"));
    wait(&pve, pve.resume_vm("pve2", full).await.unwrap()).await;
    wait(&pve, pve.reboot_vm("pve2", full).await.unwrap()).await;
    wait(&pve, pve.reset_vm("pve2", full).await.unwrap()).await;
    wait(&pve, pve.shutdown_vm("pve2", full, Duration::from_secs(60), true).await.unwrap()).await;
    assert!(!pve.vm_status("pve2", full).await.unwrap().is_running());
    wait(&pve, pve.convert_to_template("pve2", full).await.unwrap()).await;
    assert!(pve.vm_config("pve2", full).await.unwrap().template);

    wait(&pve, pve.delete_vm("pve2", full).await.unwrap()).await;
    let still_running = pve.delete_vm("pve1", linked).await;
    assert!(still_running.is_ok(), "rolled back VM is stopped: {still_running:?}");
    wait(&pve, still_running.unwrap()).await;
    assert_eq!(pve.pool_vms().await.unwrap().len(), 3);
    running.stop().await.unwrap();
}

#[tokio::test]
async fn foreign_vms_are_invisible_and_untouchable() {
    let running = start(shared_cluster()).await;
    // A token that may see both pools: the connector itself must keep out of "Other".
    let pve = client_with(&running, "admin@pve", "both", "both-secret", DEMO_POOL);
    assert!(pve.pool_vms().await.unwrap().iter().all(|vm| vm.vmid != Some(500)));
    assert!(pve.cluster_resources(None).await.unwrap().iter().all(|r| r.vmid != Some(500)));
    assert!(pve.qemu_list("pve1").await.unwrap().iter().all(|vm| vm.vmid != 500));
    for result in [
        pve.vm_status("pve1", 500).await.map(|_| ()),
        pve.stop_vm("pve1", 500).await.map(|_| ()),
        pve.delete_vm("pve1", 500).await.map(|_| ()),
        pve.clone_vm("pve1", 500, &clone_opts(600, true)).await.map(|_| ()),
    ] {
        let err = result.unwrap_err();
        assert!(matches!(err, PveError::NotInPool { vmid: 500, .. }), "{err:?}");
        assert!(err.to_string().contains("not in pool"));
        assert_retryable(&err, false);
    }

    // A token granted only the other pool sees nothing of ours.
    let other = client_with(&running, "other@pve", "vle", "other-secret", DEMO_POOL);
    let err = other.pool_members().await.unwrap_err();
    assert!(matches!(err, PveError::Forbidden { .. }), "{err:?}");
    assert_retryable(&err, false);
    assert!(other.pool_vms().await.unwrap().is_empty());
    let err = other.vm_config("pve1", 9000).await.unwrap_err();
    assert!(matches!(err, PveError::Forbidden { .. }), "{err:?}");
    // ...and its own installation sees only its VM.
    let theirs = client_with(&running, "other@pve", "vle", "other-secret", "Other");
    let vms = theirs.pool_vms().await.unwrap();
    assert_eq!(vms.iter().map(|v| v.vmid).collect::<Vec<_>>(), [Some(500)]);
    running.stop().await.unwrap();
}

#[tokio::test]
async fn bad_token_is_unauthorized() {
    let running = start(fast_demo()).await;
    let pve = client_with(&running, DEMO_USER, DEMO_TOKEN_NAME, "wrong-secret", DEMO_POOL);
    let err = pve.version().await.unwrap_err();
    assert!(matches!(err, PveError::Unauthorized { .. }), "{err:?}");
    assert_retryable(&err, false);
    running.stop().await.unwrap();
}

#[tokio::test]
async fn missing_things_are_not_found() {
    let running = start(fast_demo()).await;
    let pve = demo_client(&running);
    // In the pool, but asked on the wrong node: Proxmox says the config does not exist.
    let err = pve.vm_config("pve2", 9000).await.unwrap_err();
    assert!(matches!(err, PveError::NotFound { .. }), "{err:?}");
    let err = pve.delete_snapshot("pve1", 9000, "nope").await.unwrap_err();
    assert!(matches!(err, PveError::NotFound { .. }), "{err:?}");
    let err = pve
        .task_status(&Upid("UPID:pve1:00001234:00ABCDEF:65000000:qmstart:100:openvle@pve!demo:".into()))
        .await
        .unwrap_err();
    assert!(matches!(err, PveError::NotFound { .. }), "{err:?}");
    assert_retryable(&err, false);
    running.stop().await.unwrap();
}

#[tokio::test]
async fn operations_on_a_cloning_vm_are_locked() {
    let running = start(fast_demo()).await;
    let pve = demo_client(&running);
    let task = pve.clone_vm("pve1", 9000, &clone_opts(100, true)).await.unwrap();
    let err = pve.start_vm("pve1", 100).await.unwrap_err();
    assert!(matches!(&err, PveError::Locked { message } if message.contains("VM 100 is locked (clone)")), "{err:?}");
    assert_retryable(&err, true);
    wait(&pve, task).await;
    wait(&pve, pve.start_vm("pve1", 100).await.unwrap()).await;

    // A second start fails inside the task; wait_task reports the exit status.
    let err = pve.wait_task(&pve.start_vm("pve1", 100).await.unwrap(), WAIT).await.unwrap_err();
    assert!(
        matches!(&err, PveError::TaskFailed { exitstatus, .. } if exitstatus.contains("already running")),
        "{err:?}"
    );
    assert_retryable(&err, false);
    running.stop().await.unwrap();
}

#[tokio::test]
async fn third_parallel_full_clone_times_out_on_the_storage_lock() {
    let mut config = fast_demo();
    // 1.5 GiB: each full clone holds the storage lock 7.5 cluster seconds; a waiter gives
    // up after 10, so the second clone gets through and the third does not.
    config.time_scale = 0.05;
    config.vms.push(VmSpec { vmid: 9100, name: "small".into(), disk_gib: 1.5, ..config.vms[0].clone() });
    let running = start(config).await;
    let pve = demo_client(&running);
    let clone = |newid| {
        let pve = pve.clone();
        async move {
            let upid = pve.clone_vm("pve1", 9100, &clone_opts(newid, true)).await?;
            pve.wait_task(&upid, WAIT).await
        }
    };
    let (a, b, c) = tokio::join!(clone(200), clone(201), clone(202));
    let results = [a, b, c];
    let failures: Vec<&PveError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(failures.len(), 1, "{results:?}");
    let err = failures[0];
    assert!(
        matches!(err, PveError::Locked { message } if message.contains("can't lock file '/var/lock/qemu-server/lock-vmdata.conf' - got timeout")),
        "{err:?}"
    );
    assert_retryable(err, true);
    // Four templates and the two clones that got through; the failed one is removed.
    assert_eq!(pve.pool_vms().await.unwrap().len(), 6);
    running.stop().await.unwrap();
}

#[tokio::test]
async fn racing_next_id_gives_a_duplicate_vmid() {
    let running = start(fast_demo()).await;
    let pve = demo_client(&running);
    let provision = || {
        let pve = pve.clone();
        async move {
            let newid = pve.next_id().await?;
            let upid = pve.clone_vm("pve1", 9000, &clone_opts(newid, false)).await?;
            pve.wait_task(&upid, WAIT).await
        }
    };
    let (a, b) = tokio::join!(provision(), provision());
    let err = match (a, b) {
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => e,
        other => panic!("expected exactly one failure, got {other:?}"),
    };
    assert!(
        matches!(&err, PveError::AlreadyExists { message } if message.contains("VM 100 already exists")),
        "{err:?}"
    );
    assert_retryable(&err, true);
    // The retry with a fresh ID succeeds.
    let newid = pve.next_id().await.unwrap();
    assert_eq!(newid, 101);
    wait(&pve, pve.clone_vm("pve1", 9000, &clone_opts(newid, false)).await.unwrap()).await;
    running.stop().await.unwrap();
}

#[tokio::test]
async fn injected_errors_follow_the_rate() {
    let running = start(fast_demo()).await;
    let pve = demo_client(&running);
    let rule = |rate| FaultRule { path: "/cluster/resources".into(), error_rate: rate, ..FaultRule::default() };
    running.simulator().set_fault_rules(vec![rule(1.0)]);
    let err = pve.pool_vms().await.unwrap_err();
    assert!(matches!(&err, PveError::Api { status: 500, message } if message.contains("simulated failure")), "{err:?}");
    assert_retryable(&err, false);
    assert!(pve.version().await.is_ok(), "other paths are unaffected");

    running.simulator().set_fault_rules(vec![rule(0.5)]);
    let mut failed = 0;
    for _ in 0..40 {
        if pve.pool_vms().await.is_err() {
            failed += 1;
        }
    }
    assert!((5..=35).contains(&failed), "{failed} of 40 failed at rate 0.5");

    // An injected busy message is classified like the real one.
    running.simulator().set_fault_rules(vec![FaultRule {
        message: "can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout".into(),
        ..rule(1.0)
    }]);
    assert_retryable(&pve.pool_vms().await.unwrap_err(), true);
    running.stop().await.unwrap();
}

#[tokio::test]
async fn slow_or_hanging_answers_time_out() {
    let running = start(fast_demo()).await;
    let mut config = PveConfig::new(&running.base_url(), DEMO_USER, DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET).unwrap();
    config.request_timeout = Duration::from_millis(300);
    let pve = PveClient::new(config).unwrap();
    running.simulator().set_fault_rules(vec![
        FaultRule { path: "/version".into(), latency_ms: 2_000, ..FaultRule::default() },
        FaultRule { path: "/nodes".into(), hang: true, ..FaultRule::default() },
    ]);
    for err in [pve.version().await.unwrap_err(), pve.nodes().await.unwrap_err()] {
        assert!(matches!(err, PveError::Timeout { .. }), "{err:?}");
        assert_retryable(&err, true);
    }
    // A task that outlasts wait_task's limit is a timeout too.
    let slow = demo_client(&running);
    let upid = slow.clone_vm("pve1", 9002, &clone_opts(100, true)).await.unwrap();
    let err = slow.wait_task(&upid, Duration::from_millis(100)).await.unwrap_err();
    assert!(matches!(err, PveError::Timeout { .. }), "{err:?}");
    running.stop().await.unwrap();
}

#[tokio::test]
async fn offline_node_is_unreachable() {
    let running = start(fast_demo()).await;
    let pve = demo_client(&running);
    running.simulator().set_node_online("pve2", false).unwrap();
    let err = pve.node_status("pve2").await.unwrap_err();
    assert!(matches!(err, PveError::NodeUnreachable { status: 595, .. }), "{err:?}");
    assert_retryable(&err, false);
    let nodes = pve.nodes().await.unwrap();
    assert!(nodes.iter().any(|n| n.node == "pve2" && !n.is_online()));
    let opts = CloneOptions { target: Some("pve2".into()), ..clone_opts(100, true) };
    let err = pve.clone_vm("pve1", 9000, &opts).await.unwrap_err();
    assert!(matches!(&err, PveError::Api { status: 500, message } if message.contains("not online")), "{err:?}");
    running.simulator().set_node_online("pve2", true).unwrap();
    assert!(pve.node_status("pve2").await.is_ok());
    running.stop().await.unwrap();
}
