//! `/healthz`: the process answers. `/readyz`: it can do its work (database
//! reachable and migrated, Redis, MongoDB and Proxmox VE reachable when
//! configured). Only the database and Redis decide readiness: without them no
//! page works, while a cluster outage must not take the web UI down.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::health::Dependency;
use serde::Serialize;
use services::health::DependencyProbe;
use store::mongo::MongoActivityLog;
use store::{Database, RedisStore};

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

/// Checks this process's connections: for `/readyz` and the admin Health page.
#[derive(Clone)]
pub struct SystemProbe {
    pub db: Database,
    pub redis: Option<RedisStore>,
    pub mongodb: Option<Arc<MongoActivityLog>>,
}

#[async_trait]
impl DependencyProbe for SystemProbe {
    async fn check(&self) -> Vec<Dependency> {
        let database = match self.db.ping().await {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("unreachable: {e}"),
        };
        let migrations = match self.db.migrations_applied().await {
            Ok(true) => "ok".to_string(),
            Ok(false) => "pending".to_string(),
            Err(e) => format!("unknown: {e}"),
        };
        let redis = match &self.redis {
            None => NOT_CONFIGURED.to_string(),
            Some(r) => match r.ping().await {
                Ok(()) => "ok".to_string(),
                Err(e) => format!("unreachable: {e}"),
            },
        };
        let mongodb = match &self.mongodb {
            None => NOT_CONFIGURED.to_string(),
            Some(log) => match tokio::time::timeout(std::time::Duration::from_secs(2), log.ping()).await {
                Ok(Ok(())) => "ok".to_string(),
                Ok(Err(e)) => format!("unreachable: {e}"),
                Err(_) => "unreachable: timeout".to_string(),
            },
        };
        [("database", database), ("migrations", migrations), ("redis", redis), ("mongodb", mongodb)]
            .into_iter()
            .map(|(name, status)| Dependency { name: name.to_string(), status })
            .collect()
    }
}

pub async fn readyz(State(state): State<WebState>) -> (StatusCode, Json<Readiness>) {
    let system = &state.system;
    let probe = SystemProbe { db: system.db.clone(), redis: system.redis.clone(), mongodb: system.mongodb.clone() };
    let mut checked = probe.check().await.into_iter().map(|d| (d.name, d.status)).collect::<HashMap<_, _>>();
    let mut take = |name: &str| checked.remove(name).unwrap_or_default();
    let (database, migrations, redis, mongodb) = (take("database"), take("migrations"), take("redis"), take("mongodb"));
    let activity_backlog = match system.services.ports().outbox.backlog().await {
        Ok(backlog) => backlog.waiting.to_string(),
        Err(e) => format!("unknown: {e}"),
    };
    let proxmox = system.services.cluster_status().await.status;
    let ready = [&database, &migrations].iter().all(|s| *s == "ok") && (redis == "ok" || redis == NOT_CONFIGURED);
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(Readiness { ready, database, migrations, redis, mongodb, activity_backlog, proxmox }))
}
