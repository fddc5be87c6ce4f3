//! Deployment benchmark: 500 VMs (linked clones of two templates on shared
//! storage) over 4 simulated nodes with the simulator's realistic task
//! durations, time-scaled. Prints the wall time, the simulated cluster's
//! critical-path time (what its locks and per-node task limits allow at
//! best), their ratio (target ≤ 1.05) and this process's peak RSS.
//!
//! The simulator runs as its own process (`pve-sim`, built next to this
//! example), so the RSS is the engine's alone. Run through `scripts/bench`,
//! or: `cargo build --release -p sim --bin pve-sim && cargo run --release -p
//! proxmox-connector --example provisioning_bench -- [VMS] [NODES] [TIME_SCALE]`.

use std::collections::HashMap;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use proxmox_connector::adapter::PveCluster;
use proxmox_connector::{PveClient, PveConfig};
use services::StoreError;
use services::provisioning::{
    ClonePacer, Drift, PlannedVm, Provisioner, ProvisioningConfig, ProvisioningRecorder, RecordedVm, TemplateRef,
    VmProgress, VmStage,
};
use sim::proxmox::{DEMO_POOL, DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET, DEMO_USER, NodeSpec, SimConfig, Timings};

const TARGET_RATIO: f64 = 1.05;

/// Keeps the latest stage per VM, as a store would, and when each stage was
/// last entered (to show where the time went).
#[derive(Default)]
struct LatestStage {
    stages: Mutex<HashMap<String, VmStage>>,
    last_entered: Mutex<HashMap<VmStage, Instant>>,
}

#[async_trait]
impl ProvisioningRecorder for LatestStage {
    async fn progress(&self, _owner: &str, update: &VmProgress) -> Result<(), StoreError> {
        self.stages.lock().unwrap_or_else(|p| p.into_inner()).insert(update.name.clone(), update.stage);
        self.last_entered.lock().unwrap_or_else(|p| p.into_inner()).insert(update.stage, Instant::now());
        Ok(())
    }
    async fn recorded(&self, _owner: &str) -> Result<Vec<RecordedVm>, StoreError> {
        Ok(Vec::new())
    }
    async fn drift(&self, _owner: &str, _drift: &[Drift]) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The best the simulated cluster can do, in cluster seconds. Every clone
/// holds the (shared) storage's lock, so clones run one after another; each
/// node runs at most `max_tasks_per_node` tasks at once (clone tasks run on
/// the templates' node, starts on the VM's node); the last VM cloned must
/// still start and boot until its guest agent answers.
fn critical_path(t: &Timings, vms: usize, nodes: usize) -> f64 {
    let n = vms as f64;
    let lock_bound = n_clone_secs(t, vms) + t.start + t.agent_boot_delay;
    let slots = f64::from(t.max_tasks_per_node.max(1));
    let starts_per_node = (n / nodes.max(1) as f64).ceil();
    let template_node_bound = (n * t.linked_clone + starts_per_node * t.start) / slots + t.agent_boot_delay;
    let other_node_bound = starts_per_node * t.start / slots + t.agent_boot_delay;
    lock_bound.max(template_node_bound).max(other_node_bound)
}

/// Cluster seconds the clones hold the storage lock, one after another.
fn n_clone_secs(t: &Timings, vms: usize) -> f64 {
    vms as f64 * t.linked_clone
}

/// Peak resident set size of a process from `/proc/<pid>/status` (Linux only).
fn peak_rss_bytes(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Kills the simulator when the benchmark ends, however it ends.
struct SimProcess(Child);

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn plan(vms: usize) -> Vec<PlannedVm> {
    let templates = [("debian-12-server", 9000), ("ubuntu-24-desktop", 9001)];
    (0..vms)
        .map(|i| {
            let (template, vmid) = templates[i % 2];
            let user = format!("student{:03}", i / 2);
            PlannedVm {
                key: format!("{user}/{template}"),
                shortname: "bench".into(),
                username: user,
                template_name: template.into(),
                copy: 1,
                source: TemplateRef { vmid, node: "pve1".into() },
                linked_clone: true,
                memory_mib: 1024,
                cores: 2,
                tags: vec!["bench".into()],
                description: "OpenVLE benchmark VM".into(),
            }
        })
        .collect()
}

async fn run(vms: usize, nodes: usize, time_scale: f64) -> Result<bool, Box<dyn std::error::Error>> {
    let mut config = SimConfig::with_nodes(nodes);
    // Enough memory that capacity is no limit: 1 GiB per VM plus the host's.
    let per_node_gib = (vms as u64).div_ceil(nodes as u64) + 16;
    config.nodes =
        (1..=nodes).map(|n| NodeSpec { name: format!("pve{n}"), cpus: 64, memory_gib: per_node_gib }).collect();
    config.time_scale = time_scale;
    let timings = config.timings.clone();
    let dir = std::env::temp_dir().join(format!("openvle-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let config_file = dir.join("sim.json");
    std::fs::write(&config_file, serde_json::to_vec(&config)?)?;
    let port = free_port()?;
    let exe = std::env::current_exe()?;
    let sim_bin =
        exe.parent().and_then(|examples| examples.parent()).map(|dir| dir.join("pve-sim")).ok_or("no exe dir")?;
    let child = Command::new(&sim_bin)
        .args(["--config", &config_file.to_string_lossy(), "--listen", &format!("127.0.0.1:{port}")])
        .args(["--time-scale", &time_scale.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {} (build it with cargo build --release -p sim): {e}", sim_bin.display()))?;
    let sim = SimProcess(child);

    let mut pve = PveConfig::new(&format!("http://127.0.0.1:{port}"), DEMO_USER, DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET)?;
    pve.pool = DEMO_POOL.into();
    pve.request_timeout = Duration::from_secs(30);
    // Task polls scaled like the cluster (50 ms doubling to 2 s at time scale 1).
    pve.task_poll_first = Duration::from_millis(10);
    pve.task_poll_max = Duration::from_secs_f64(2.0 * time_scale).max(Duration::from_millis(20));
    let client = PveClient::new(pve)?;
    let ready_by = Instant::now() + Duration::from_secs(10);
    while client.version().await.is_err() {
        if Instant::now() > ready_by {
            return Err("the simulator did not answer within 10 s".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Polls scaled like the cluster: at time scale 1 these are the defaults.
    let scaled = |secs: f64| Duration::from_secs_f64(secs * time_scale);
    let engine_config = ProvisioningConfig {
        retry_first: scaled(2.0),
        retry_max: scaled(30.0),
        poll_first: scaled(0.5).max(Duration::from_millis(10)),
        poll_max: scaled(3.0).max(Duration::from_millis(20)),
        ..ProvisioningConfig::default()
    };
    let recorder = Arc::new(LatestStage::default());
    let engine = Provisioner::new(
        Arc::new(PveCluster::new(client)),
        recorder.clone(),
        engine_config,
        Arc::new(ClonePacer::default()),
    );
    let plan = plan(vms);
    let started_at = Instant::now();
    let report = engine.deploy("bench", &plan, false).await?;
    let wall = started_at.elapsed().as_secs_f64();
    let ready = report.count(VmStage::Ready);
    let with_ip = report.vms.iter().filter(|v| v.last.ip.is_some()).count();
    let critical = critical_path(&timings, vms, nodes) * time_scale;
    let ratio = wall / critical;
    let mut per_node: HashMap<String, usize> = HashMap::new();
    for vm in &report.vms {
        *per_node.entry(vm.last.node.clone().unwrap_or_default()).or_default() += 1;
    }
    let mut spread: Vec<_> = per_node.into_iter().collect();
    spread.sort();
    println!("VMs planned:          {vms} over {nodes} nodes (linked clones, shared storage)");
    println!("time scale:           {time_scale} (cluster seconds × scale = wall seconds)");
    println!("ready / with IP:      {ready} / {with_ip}");
    println!("per node:             {spread:?}");
    let entered = recorder.last_entered.lock().unwrap_or_else(|p| p.into_inner()).clone();
    if let (Some(cloned), Some(started)) = (entered.get(&VmStage::Configuring), entered.get(&VmStage::WaitingForIp)) {
        let clones = (n_clone_secs(&timings, vms)) * time_scale;
        println!(
            "last clone done:      {:.2} s (clones alone need {clones:.2} s); last start done: {:.2} s",
            cloned.duration_since(started_at).as_secs_f64(),
            started.duration_since(started_at).as_secs_f64()
        );
    }
    println!("hiccups:              {:?}", report.hiccups);
    println!("wall time:            {wall:.2} s");
    println!("critical path:        {critical:.2} s ({:.0} cluster s)", critical / time_scale);
    println!("ratio:                {ratio:.3} (target ≤ {TARGET_RATIO})");
    for (what, pid) in [("engine", "self".to_string()), ("simulator", sim.0.id().to_string())] {
        let label = format!("peak RSS ({what}):");
        match peak_rss_bytes(&pid) {
            Some(rss) => println!("{label:<22}{:.1} MiB", rss as f64 / 1048576.0),
            None => println!("{label:<22}unknown (no /proc/{pid}/status)"),
        }
    }
    // Not part of the target: how long removing the class takes, and that nothing stays.
    let started_at = Instant::now();
    let removed = engine.decommission("bench", &plan).await?;
    let left = removed.iter().filter(|p| p.stage != VmStage::Deleted).count();
    println!("decommission:         {:.2} s, {left} VMs left", started_at.elapsed().as_secs_f64());
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ready == vms && ratio <= TARGET_RATIO && left == 0)
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let vms = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let nodes = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let time_scale = args.next().and_then(|a| a.parse().ok()).unwrap_or(0.05);
    match run(vms, nodes, time_scale).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("provisioning_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
