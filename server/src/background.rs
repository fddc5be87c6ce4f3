//! The worker and scheduler, run inside `serve` or as processes of their
//! own, and the shutdown signal they share with the web server.

use std::sync::Arc;

use services::jobs::ProductSteps;
use services::jobs::scheduler::Scheduler;
use services::jobs::worker::{Worker, WorkerConfig};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::JobsConfig;
use crate::wiring::System;

/// Which background roles this process runs.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Roles {
    pub worker: bool,
    pub scheduler: bool,
}

/// A name no other process has: the queue recognises a crashed worker's
/// deliveries by it, and the scheduler lease its holder.
pub fn process_name(role: &str) -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
    let host = if host.is_empty() { "host".to_string() } else { host };
    format!("{role}-{host}-{}-{:06x}", std::process::id(), rand::random::<u32>() & 0xff_ffff)
}

/// Turns true on SIGTERM or Ctrl-C.
pub fn shutdown_on_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
        tracing::info!("shutting down");
        let _ = tx.send(true);
    });
    rx
}

pub fn worker_config(jobs: &JobsConfig) -> WorkerConfig {
    let mut config = WorkerConfig::new(process_name("worker"));
    config.concurrency = jobs.concurrency;
    config.per_node_limit = jobs.node_concurrency;
    config.visibility = jobs.visibility;
    config.grace = jobs.shutdown_grace;
    config
}

/// Starts the roles asked for; the handles end after `shutdown` turns true.
pub fn start(
    system: &System,
    jobs: &JobsConfig,
    roles: Roles,
    shutdown: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let mut handles = Vec::new();
    if roles.worker {
        let ports = system.services.ports();
        let worker = Worker::new(
            ports.tasks.clone(),
            ports.queue.clone(),
            Arc::new(ProductSteps::new(system.services.clone())),
            system.services.clock(),
            worker_config(jobs),
        );
        handles.push(tokio::spawn(worker.run(shutdown.clone())));
    }
    if roles.worker || roles.scheduler {
        // Activities: from the outbox to the activity log (one forwarder at a time, by lease).
        let forwarder = system.services.clone().run_activity_forwarder(
            process_name("activities"),
            std::time::Duration::from_secs(2),
            shutdown.clone(),
        );
        handles.push(tokio::spawn(forwarder));
    }
    if roles.scheduler {
        let scheduler = Scheduler::new(system.services.clone(), process_name("scheduler"), jobs.scheduler_tick);
        handles.push(tokio::spawn(scheduler.run(shutdown.clone())));
    }
    handles
}

/// Waits for the background roles to finish their shutdown.
pub async fn join(handles: Vec<JoinHandle<()>>) {
    for handle in handles {
        let _ = handle.await;
    }
}
