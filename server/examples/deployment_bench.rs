//! Deployment benchmark of the whole server: `openvle serve` (embedded SQLite,
//! in-process queue, worker and scheduler) deploys one event of 500 VMs (250
//! participants × two templates, linked clones on shared storage) to
//! `openvle sim proxmox` with 4 nodes and the simulator's realistic task
//! durations, time-scaled. Both run as their own processes; this program only
//! drives the server over HTTP, as a browser would.
//!
//! Prints the wall time from "Deploy now" until the event is running, the
//! simulated cluster's critical-path time (what its storage lock and per-node
//! task limits allow at best), their ratio (target ≤ 1.05), the server's peak
//! RSS, and how long "End now" takes to leave the cluster empty.
//!
//! Run through `scripts/bench`, or: `cargo build --release -p server --bin
//! openvle --example deployment_bench && target/release/examples/deployment_bench
//! [PARTICIPANTS] [NODES] [TIME_SCALE]`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sim::proxmox::{DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET, DEMO_USER, NodeSpec, SimConfig, Timings};

const TARGET_RATIO: f64 = 1.05;
/// The two simulator templates every participant gets one VM of.
const TEMPLATES: [u32; 2] = [9000, 9001];
const PASSWORD: &str = "Steady-Harbor-42";

type Failure = Box<dyn std::error::Error>;

/// The best the simulated cluster can do, in cluster seconds. Every linked
/// clone holds the shared storage's lock, so clones run one after another;
/// each node runs at most `max_tasks_per_node` tasks at once (clones run on
/// the templates' node, starts on the VM's node); the last VM cloned must
/// still start and boot until its guest agent answers.
fn critical_path(t: &Timings, vms: usize, nodes: usize) -> f64 {
    let n = vms as f64;
    let clones = n * t.linked_clone;
    let lock_bound = clones + t.start + t.agent_boot_delay;
    let slots = f64::from(t.max_tasks_per_node.max(1));
    let starts_per_node = (n / nodes.max(1) as f64).ceil();
    let template_node_bound = (clones + starts_per_node * t.start) / slots + t.agent_boot_delay;
    let other_node_bound = starts_per_node * t.start / slots + t.agent_boot_delay;
    lock_bound.max(template_node_bound).max(other_node_bound)
}

/// Peak resident set size of a process (Linux: `VmHWM` in `/proc/<pid>/status`).
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A child process killed when the benchmark ends, however it ends.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `openvle` binary next to this example (`target/release/openvle`).
fn openvle_binary() -> Result<PathBuf, Failure> {
    let exe = std::env::current_exe()?;
    let bin = exe.parent().and_then(Path::parent).map(|dir| dir.join("openvle")).ok_or("no target directory")?;
    if !bin.exists() {
        return Err(format!("{} is missing: cargo build --release -p server --bin openvle", bin.display()).into());
    }
    Ok(bin)
}

/// The server's environment: its own data directory, the simulator as cluster.
fn server_env(data_dir: &Path, site: &Path, listen: &str, sim_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("OPENVLE_DATA_DIR", data_dir.display().to_string()),
        ("OPENVLE_SITE_ROOT", site.display().to_string()),
        ("OPENVLE_LISTEN", listen.to_string()),
        ("AUTH_SECRET", hex::encode(rand::random::<[u8; 32]>())),
        ("OPENVLE_SECRET_KEY", hex::encode(rand::random::<[u8; 32]>())),
        ("PVE_HOSTNAME", sim_url.to_string()),
        ("PVE_USER", DEMO_USER.to_string()),
        ("PVE_TOKEN_NAME", DEMO_TOKEN_NAME.to_string()),
        ("PVE_TOKEN_VALUE", DEMO_TOKEN_SECRET.to_string()),
        ("RUST_LOG", "warn".to_string()),
    ]
}

/// Server functions by name, called like the hydrated app calls them.
struct Browser {
    http: reqwest::Client,
    base: String,
}

impl Browser {
    fn new(base: &str) -> Result<Browser, Failure> {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, base.parse()?);
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()?;
        Ok(Browser { http, base: base.to_string() })
    }

    async fn call(&self, name: &str, form: &[(&str, &str)]) -> Result<Value, Failure> {
        let path = server_fn_path(name).ok_or_else(|| format!("no server function {name}"))?;
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await?;
        let status = res.status();
        let body = res.text().await?;
        if !status.is_success() {
            return Err(format!("{name}: {status} {body}").into());
        }
        Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
    }
}

/// The registered URL of a server function, by its Rust name.
fn server_fn_path(name: &str) -> Option<String> {
    let wanted = name.replace('_', "");
    leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path.to_string()).find(|path| {
        let stem = path.trim_start_matches("/api/").trim_end_matches(|c: char| c.is_ascii_digit());
        stem == name || stem == wanted
    })
}

fn id_of(value: &Value) -> Result<String, Failure> {
    value["id"].as_i64().map(|id| id.to_string()).ok_or_else(|| format!("no id in {value}").into())
}

/// Polls the event until it has `status`; fails when it fails.
async fn wait_for(browser: &Browser, event: &str, status: &str, limit: Duration) -> Result<(), Failure> {
    let deadline = Instant::now() + limit;
    loop {
        let found = browser.call("get_event", &[("id", event)]).await?;
        if found["status"] == status {
            return Ok(());
        }
        if found["status"] == "failed" {
            return Err(format!("the event failed: {}", found["failure_reason"]).into());
        }
        if Instant::now() > deadline {
            return Err(format!("the event is still {} after {limit:?}", found["status"]).into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `url` answers with success (the server's `/readyz`).
async fn wait_until_ready(url: &str, what: &str) -> Result<(), Failure> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let http = reqwest::Client::new();
    while !http.get(url).send().await.is_ok_and(|r| r.status().is_success()) {
        if Instant::now() > deadline {
            return Err(format!("{what} did not answer at {url} within 60 s").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

async fn run(participants: usize, nodes: usize, time_scale: f64) -> Result<bool, Failure> {
    let openvle = openvle_binary()?;
    let dir = std::env::temp_dir().join(format!("openvle-deployment-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let vms = participants * TEMPLATES.len();

    // The cluster: memory for every VM (as if each had the largest
    // template's 8 GiB), so capacity is no limit.
    let mut sim_config = SimConfig::with_nodes(nodes);
    let per_node_gib = (vms as u64 * 8).div_ceil(nodes as u64) + 16;
    sim_config.nodes =
        (1..=nodes).map(|n| NodeSpec { name: format!("pve{n}"), cpus: 64, memory_gib: per_node_gib }).collect();
    sim_config.time_scale = time_scale;
    let timings = sim_config.timings.clone();
    let sim_file = dir.join("sim.json");
    std::fs::write(&sim_file, serde_json::to_vec(&sim_config)?)?;
    let sim_port = free_port()?;
    let sim = Process(
        Command::new(&openvle)
            .args(["sim", "proxmox", "--config", &sim_file.to_string_lossy()])
            .args(["--listen", &format!("127.0.0.1:{sim_port}"), "--time-scale", &time_scale.to_string()])
            .stdout(Stdio::null())
            .spawn()?,
    );
    let sim_url = format!("http://127.0.0.1:{sim_port}");
    let sim_ready = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", sim_port)).await.is_err() {
        if Instant::now() > sim_ready {
            return Err("the simulator did not listen within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The server, with an administrator created through its own CLI.
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    // Only server functions are called: an empty bundle satisfies the
    // server's start-up check without building the browser app.
    let site = dir.join("site");
    std::fs::create_dir_all(site.join("pkg"))?;
    std::fs::write(site.join("pkg").join("openvle.js"), "")?;
    let env = server_env(&dir.join("data"), &site, &format!("127.0.0.1:{port}"), &sim_url);
    let mut create = Command::new(&openvle)
        .args(["user", "create", "--username", "bench", "--role", "admin", "--password-stdin"])
        .envs(env.iter().cloned())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = create.stdin.take() {
        std::io::Write::write_all(&mut stdin, PASSWORD.as_bytes())?;
    }
    let created = create.wait_with_output()?;
    if !created.status.success() {
        return Err(format!("openvle user create: {}", String::from_utf8_lossy(&created.stderr)).into());
    }
    let server = Process(Command::new(&openvle).arg("serve").envs(env.iter().cloned()).stdout(Stdio::null()).spawn()?);
    wait_until_ready(&format!("{base}/readyz"), "openvle serve").await?;

    // What an instructor prepares: two templates, an environment, an event, its participants.
    let admin = Browser::new(&base)?;
    admin.call("login", &[("username", "bench"), ("password", PASSWORD)]).await?;
    for vmid in TEMPLATES {
        admin.call("import_cluster_template", &[("vmid", &vmid.to_string())]).await?;
    }
    let templates = admin.call("list_templates", &[]).await?;
    let template_ids: Vec<String> =
        templates.as_array().ok_or("no template list")?.iter().map(id_of).collect::<Result<_, _>>()?;
    let mut form: Vec<(&str, &str)> = vec![("name", "Bench lab")];
    for id in &template_ids {
        form.push(("template_ids[]", id));
        form.push(("counts[]", "1"));
    }
    admin.call("create_environment", &form).await?;
    let environment = id_of(&admin.call("list_environments", &[]).await?[0])?;
    let event_form = [
        ("name", "Benchmark class"),
        ("short_name", "bench"),
        ("environment_id", environment.as_str()),
        ("starts_at", "2030-01-01T09:00"),
    ];
    admin.call("create_event", &event_form).await?;
    let event = id_of(&admin.call("list_events", &[("tab", "planned")]).await?["items"][0])?;
    // The creator takes part as instructor: one VM set of the class is theirs.
    let setup_started = Instant::now();
    for n in 1..participants {
        let username = format!("s{n:04}");
        let email = format!("{username}@bench.invalid");
        let form = [
            ("event_id", event.as_str()),
            ("username", username.as_str()),
            ("name", username.as_str()),
            ("email", email.as_str()),
            ("password", PASSWORD),
            ("role", "student"),
        ];
        admin.call("create_participant", &form).await?;
    }
    println!("participants:         {participants} ({:.1} s to create)", setup_started.elapsed().as_secs_f64());

    // "Deploy now", until the event runs.
    let critical = critical_path(&timings, vms, nodes) * time_scale;
    let started = Instant::now();
    admin.call("deploy_event", &[("id", &event)]).await?;
    wait_for(&admin, &event, "running", Duration::from_secs_f64(critical * 3.0 + 120.0)).await?;
    let wall = started.elapsed().as_secs_f64();
    let server_rss = peak_rss_mib(server.0.id());
    let deployed = admin.call("event_vms", &[("event_id", &event)]).await?;
    let deployed = deployed.as_array().ok_or("no VM list")?;
    let running_with_ip = deployed
        .iter()
        .filter(|v| v["state"] == "running" && v["ip"].as_str().is_some_and(|ip| !ip.is_empty()))
        .count();
    let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
    for vm in deployed {
        *per_node.entry(vm["node"].as_str().unwrap_or("-").to_string()).or_default() += 1;
    }
    let ratio = wall / critical;
    println!(
        "VMs:                  {} recorded, {running_with_ip} running with an address (planned {vms})",
        deployed.len()
    );
    println!("per node:             {per_node:?}");
    println!("time scale:           {time_scale} (cluster seconds × scale = wall seconds)");
    println!("wall time:            {wall:.2} s");
    println!("critical path:        {critical:.2} s ({:.0} cluster s)", critical / time_scale);
    let verdict = if ratio <= TARGET_RATIO { "PASS" } else { "MISS" };
    println!("ratio:                {ratio:.3} (target ≤ {TARGET_RATIO}: {verdict})");
    match server_rss {
        Some(rss) => println!("peak RSS (server):    {rss:.1} MiB"),
        None => println!("peak RSS (server):    unknown (no /proc)"),
    }
    if let Some(rss) = peak_rss_mib(sim.0.id()) {
        println!("peak RSS (simulator): {rss:.1} MiB");
    }

    // Not part of the target: "End now" and nothing left on the cluster.
    let started = Instant::now();
    admin.call("end_event", &[("id", &event), ("confirm", "on")]).await?;
    wait_for(&admin, &event, "finished", Duration::from_secs_f64(critical * 3.0 + 120.0)).await?;
    let left = admin.call("list_vms", &[("event", &event)]).await?;
    let left = left["items"].as_array().map_or(0, Vec::len);
    println!("end now:              {:.2} s, {left} VMs of the event left", started.elapsed().as_secs_f64());

    drop(server);
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(running_with_ip == vms && ratio <= TARGET_RATIO && left == 0)
}

#[tokio::main]
async fn main() -> ExitCode {
    server::install_crypto_provider();
    let mut args = std::env::args().skip(1);
    let participants = args.next().and_then(|a| a.parse().ok()).unwrap_or(250);
    let nodes = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let time_scale = args.next().and_then(|a| a.parse().ok()).unwrap_or(0.2);
    match run(participants, nodes, time_scale).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("deployment_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
