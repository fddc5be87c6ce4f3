//! `/healthz`: the process answers. `/readyz`: it can do its work (database
//! reachable and migrated, Redis, MongoDB and Proxmox VE reachable when
//! configured). Only the database and Redis decide readiness: without them no
//! page works, while a cluster outage must not take the web UI down.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::AppError;
use domain::cluster::ClusterProblem;
use serde::Serialize;

use crate::web::WebState;

pub async fn healthz() -> &'static str {
    "ok"
}

#[derive(Serialize)]
pub struct Readiness {
    ready: bool,
    database: String,
    migrations: String,
    redis: String,
    mongodb: String,
    /// Activities waiting in the outbox for the activity log (MongoDB down, or the forwarder behind).
    activity_backlog: String,
    proxmox: String,
}

const NOT_CONFIGURED: &str = "not configured";

pub async fn readyz(State(state): State<WebState>) -> (StatusCode, Json<Readiness>) {
    let system = &state.system;
    let database = match system.db.ping().await {
        Ok(()) => "ok".to_string(),
        Err(e) => format!("unreachable: {e}"),
    };
    let migrations = match system.db.migrations_applied().await {
        Ok(true) => "ok".to_string(),
        Ok(false) => "pending".to_string(),
        Err(e) => format!("unknown: {e}"),
    };
    let redis = match &system.redis {
        None => NOT_CONFIGURED.to_string(),
        Some(r) => match r.ping().await {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("unreachable: {e}"),
        },
    };
    let mongodb = match &system.mongodb {
        None => NOT_CONFIGURED.to_string(),
        Some(log) => match tokio::time::timeout(std::time::Duration::from_secs(2), log.ping()).await {
            Ok(Ok(())) => "ok".to_string(),
            Ok(Err(e)) => format!("unreachable: {e}"),
            Err(_) => "unreachable: timeout".to_string(),
        },
    };
    let activity_backlog = match system.services.ports().outbox.backlog().await {
        Ok(backlog) => backlog.waiting.to_string(),
        Err(e) => format!("unknown: {e}"),
    };
    // The same client the pages use: the saved connection, else the environment's.
    let proxmox = match system.services.current_cluster().await {
        Err(AppError::Cluster { problem: ClusterProblem::NotConfigured }) => NOT_CONFIGURED.to_string(),
        Err(AppError::Cluster { problem }) => format!("unusable: {problem}"),
        Err(e) => format!("unknown: {e}"),
        Ok(cluster) => match cluster.version().await {
            Ok(v) => format!("ok (Proxmox VE {})", v.version),
            Err(problem) => format!("unreachable: {problem}"),
        },
    };
    let ready = [&database, &migrations].iter().all(|s| *s == "ok") && (redis == "ok" || redis == NOT_CONFIGURED);
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(Readiness { ready, database, migrations, redis, mongodb, activity_backlog, proxmox }))
}
