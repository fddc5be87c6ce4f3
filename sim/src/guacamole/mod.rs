//! An Apache Guacamole simulator: the REST API subset OpenVLE uses (1.5's
//! `/api/tokens` and `/api/session/data/{dataSource}/...` for users, connection
//! groups, connections and permissions by JSON Patch), with Guacamole's JSON shapes,
//! status codes and error bodies `{"message", "translatableMessage", "statusCode",
//! "expected", "patches", "type"}`, admin tokens that expire when idle, and the
//! encrypted JSON authentication extension (`data=` at `/api/tokens`, single use).
//! Served under `/guacamole/` like the real web application.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use sim::guacamole::{GuacSimConfig, GuacamoleSim};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let running = GuacamoleSim::new(GuacSimConfig::demo()).start(listener)?;
//! println!("Guacamole at {}", running.base_url());
//! running.stop().await?;
//! # Ok(()) }
//! ```

pub mod cli;
mod error;
mod json_auth;
mod routes;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use state::State;

pub const DEMO_ADMIN: &str = "guacadmin";
pub const DEMO_ADMIN_PASSWORD: &str = "guacadmin";
pub const DEMO_DATA_SOURCE: &str = "mysql";
/// `json-secret-key` of the demo (the example key of Guacamole's documentation).
pub const DEMO_JSON_SECRET_KEY: &str = "4c0b569e4c96df157eee1b65dd0e4d41";

#[derive(Clone, Debug)]
pub struct GuacSimConfig {
    pub admin_username: String,
    pub admin_password: String,
    /// The database data source's name (`mysql`, `postgresql`, ...).
    pub data_source: String,
    /// 32 hex digits enabling encrypted JSON authentication; `None` = extension absent.
    pub json_secret_key: Option<String>,
    /// Guacamole's `api-session-timeout`: tokens idle this long are invalid.
    pub session_timeout: Duration,
}

impl GuacSimConfig {
    pub fn demo() -> GuacSimConfig {
        GuacSimConfig {
            admin_username: DEMO_ADMIN.into(),
            admin_password: DEMO_ADMIN_PASSWORD.into(),
            data_source: DEMO_DATA_SOURCE.into(),
            json_secret_key: Some(DEMO_JSON_SECRET_KEY.into()),
            session_timeout: Duration::from_secs(60 * 60),
        }
    }
}

/// Counts of what the simulated database holds, for tests and the CLI.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Inventory {
    pub users: usize,
    pub connection_groups: usize,
    pub connections: usize,
    /// Requests that changed something (POST, PUT, PATCH, DELETE answered 2xx).
    pub writes: usize,
}

/// The simulator; cheap to clone, clones share state.
#[derive(Clone)]
pub struct GuacamoleSim {
    inner: Arc<Inner>,
}

struct Inner {
    config: GuacSimConfig,
    state: Mutex<State>,
    shutdown: watch::Sender<bool>,
}

impl GuacamoleSim {
    pub fn new(config: GuacSimConfig) -> GuacamoleSim {
        let state = State::new(&config);
        GuacamoleSim { inner: Arc::new(Inner { config, state: Mutex::new(state), shutdown: watch::channel(false).0 }) }
    }

    pub fn config(&self) -> &GuacSimConfig {
        &self.inner.config
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The router serving `/guacamole/api/...`.
    pub fn router(&self) -> axum::Router {
        routes::router(self.clone())
    }

    pub fn inventory(&self) -> Inventory {
        self.state().inventory()
    }

    /// Ends every session, as Guacamole's idle timeout or a restart would.
    pub fn expire_all_tokens(&self) {
        self.state().sessions.clear();
    }

    pub async fn serve(&self, listener: TcpListener) -> std::io::Result<()> {
        let mut stop = self.inner.shutdown.subscribe();
        axum::serve(listener, self.router())
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            })
            .await
    }

    pub fn start(self, listener: TcpListener) -> std::io::Result<RunningGuacamole> {
        let addr = listener.local_addr()?;
        let sim = self.clone();
        let handle = tokio::spawn(async move { sim.serve(listener).await });
        Ok(RunningGuacamole { addr, sim: self, handle })
    }

    pub fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }
}

pub struct RunningGuacamole {
    addr: SocketAddr,
    sim: GuacamoleSim,
    handle: JoinHandle<std::io::Result<()>>,
}

impl RunningGuacamole {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/guacamole/`, what `GUACAMOLE_URL` should be.
    pub fn base_url(&self) -> String {
        format!("http://{}/guacamole/", self.addr)
    }

    pub fn sim(&self) -> &GuacamoleSim {
        &self.sim
    }

    pub async fn stop(self) -> std::io::Result<()> {
        self.sim.shutdown();
        match self.handle.await {
            Ok(result) => result,
            Err(join) => Err(std::io::Error::other(join)),
        }
    }
}
