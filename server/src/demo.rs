//! `openvle demo`: the whole product on one machine with nothing else
//! installed: SQLite in the data directory, a generated secret kept there,
//! a simulated two-node Proxmox VE cluster with three templates, three demo
//! accounts, and mails written to files in the data directory.

use proxmox_connector::PveConfig;
use services::secrets::SecretKey;
use sim::proxmox::{DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET, DEMO_USER, RunningSimulator, SimConfig, Simulator};
use smtp_connector::MailDropConfig;

use crate::config::Config;
use crate::web;
use crate::wiring::{StartError, System};

/// The demo accounts and their passwords (printed at start; change them for anything but a demo).
pub const DEMO_ACCOUNTS: &[(&str, &str, &str, &str)] = &[
    ("admin", "Ada Admin", "admin", "Sunny-Meadow-42"),
    ("instructor", "Ivan Instructor", "instructor", "Quiet-River-42"),
    ("student", "Stella Student", "participant", "Bright-Forest-42"),
];

/// The demo's secret lives next to its database, so sessions survive restarts.
fn demo_secret(config: &Config) -> Result<String, StartError> {
    let path = config.data_dir.join("auth_secret");
    if let Ok(existing) = std::fs::read_to_string(&path)
        && existing.trim().len() >= 32
    {
        return Ok(existing.trim().to_string());
    }
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|source| StartError::DataDir { path: config.data_dir.display().to_string(), source })?;
    let secret = hex::encode(rand::random::<[u8; 32]>());
    std::fs::write(&path, &secret)
        .map_err(|source| StartError::DataDir { path: path.display().to_string(), source })?;
    Ok(secret)
}

/// The demo's key for secrets stored in the database (the Proxmox token saved
/// in the UI), kept in the data directory like the auth secret.
fn demo_secret_key(config: &Config) -> Result<SecretKey, StartError> {
    let path = config.data_dir.join("secret_key");
    if let Ok(existing) = std::fs::read_to_string(&path)
        && let Ok(key) = SecretKey::from_hex(&existing)
    {
        return Ok(key);
    }
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|source| StartError::DataDir { path: config.data_dir.display().to_string(), source })?;
    let bytes = rand::random::<[u8; 32]>();
    std::fs::write(&path, hex::encode(bytes))
        .map_err(|source| StartError::DataDir { path: path.display().to_string(), source })?;
    Ok(SecretKey::from_bytes(bytes))
}

/// Starts the simulator on a free loopback port; its VMs are kept in the data
/// directory so a restarted demo finds what it cloned before.
async fn start_cluster(config: &Config) -> Result<(RunningSimulator, PveConfig), StartError> {
    let mut sim_config = SimConfig::demo();
    sim_config.state_file = Some(config.data_dir.join("proxmox-simulator.json"));
    // A few VMs: each gets its VNC server when it starts, like a real cluster's.
    sim_config.consoles_at_start = true;
    let simulator = Simulator::new(sim_config).map_err(|e| StartError::Simulator(e.to_string()))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|source| StartError::Listen { addr: "127.0.0.1:0".into(), source })?;
    let running = simulator.start(listener).map_err(|e| StartError::Simulator(e.to_string()))?;
    let pve = PveConfig::new(&running.base_url(), DEMO_USER, DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET)
        .map_err(|e| StartError::Simulator(e.to_string()))?;
    Ok((running, pve))
}

pub async fn run(mut config: Config) -> Result<(), StartError> {
    let listener = web::bind(&config).await?;
    if config.auth_secret.is_empty() {
        config.auth_secret = demo_secret(&config)?;
    }
    if config.secret_key.is_none() {
        config.secret_key = Some(demo_secret_key(&config)?);
    }
    // Without a mail server, mails go to files the user can open.
    if config.smtp.is_none() && config.mail_drop.is_none() {
        config.mail_drop = Some(MailDropConfig {
            dir: config.data_dir.join("mail"),
            from: "OpenVLE demo <noreply@demo.openvle.invalid>".into(),
            reply_to: String::new(),
        });
    }
    // A cluster configured in the environment wins over the simulator.
    let simulator = if config.proxmox.is_none() {
        let (running, pve) = start_cluster(&config).await?;
        config.proxmox = Some(pve);
        Some(running)
    } else {
        None
    };
    let system = System::start(&config).await?;
    for (username, name, role, password) in DEMO_ACCOUNTS {
        let input = services::accounts::UserInput {
            username: username.to_string(),
            name: name.to_string(),
            email: format!("{username}@demo.openvle.invalid"),
            language: "en".into(),
            password: password.to_string(),
            role_keys: vec![role.to_string()],
        };
        system
            .services
            .bootstrap_user(input)
            .await
            .map_err(|e| StartError::Input(format!("seeding demo account {username}: {e}")))?;
    }
    // Classroom (issue 5): the simulator's templates and one environment, so
    // an instructor can create an event right away. Not fatal: the demo also
    // runs against a real cluster that may be unreachable.
    if let Err(e) = system.services.seed_demo_classroom().await {
        tracing::warn!(error = %e, "demo templates and environment not seeded");
    }
    println!();
    println!("  OpenVLE demo is running at {}", config.public_url);
    println!();
    println!("  Sign in as:");
    for (username, _, role, password) in DEMO_ACCOUNTS {
        println!("    {username:<11} password {password:<17} ({role})");
    }
    println!();
    if let Some(running) = &simulator {
        println!("  Simulated Proxmox VE cluster (2 nodes, 3 templates) at {}", running.base_url());
    }
    if let Some(drop) = &config.mail_drop {
        println!("  E-mails are not sent: they are written to {} (.eml files).", drop.dir.display());
    }
    println!("  Data is kept in {}. Press Ctrl-C to stop.", config.data_dir.display());
    println!();
    let shutdown = crate::background::shutdown_on_signal();
    let roles = crate::background::Roles { worker: true, scheduler: true };
    let handles = crate::background::start(&system, &config.jobs, roles, &shutdown);
    let served = web::serve(listener, &config, system, shutdown).await;
    crate::background::join(handles).await;
    if let Some(running) = simulator {
        // Saves the cluster's state for the next start.
        let _ = running.stop().await;
    }
    served
}
