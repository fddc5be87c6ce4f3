//! `/healthz`: the process answers. `/readyz`: it can do its work (database
//! reachable and migrated, Redis and MongoDB reachable when configured).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
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
}

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
        None => "not configured".to_string(),
        Some(r) => match r.ping().await {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("unreachable: {e}"),
        },
    };
    let ready = [&database, &migrations].iter().all(|s| *s == "ok") && (redis == "ok" || redis == "not configured");
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(Readiness { ready, database, migrations, redis }))
}
