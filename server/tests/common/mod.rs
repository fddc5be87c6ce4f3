//! Boots the real application on a random loopback port, on SQLite or on a
//! throwaway MariaDB database, with Redis sessions when asked.

#![allow(dead_code)] // each test file uses part of the harness

use std::collections::HashMap;
use std::net::SocketAddr;

use server::config::{Config, SecretSource};
use server::wiring::System;

pub const PASSWORD: &str = "Correct-Horse-42";

#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    MariaDb,
    MariaDbWithRedis,
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub system: System,
    /// The environment the app was configured from (for child processes).
    pub env: HashMap<String, String>,
    cleanup: Option<(String, String)>,
    _data_dir: TempDir,
}

/// A directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// With `OPENVLE_TEST_LOG_DIR` (scripts/test sets it), this test binary's logs
/// go to a file there as JSON; `scripts/test` then checks them for the tests' secrets.
fn capture_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(dir) = std::env::var("OPENVLE_TEST_LOG_DIR") else { return };
        let exe = std::env::current_exe().ok().and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()));
        let path = std::path::Path::new(&dir).join(format!("{}-{}.log", exe.unwrap_or_default(), std::process::id()));
        if std::fs::create_dir_all(&dir).is_ok()
            && let Ok(file) = std::fs::File::create(&path)
        {
            server::logging::init_json_file(file);
        }
    });
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}_{:08x}", std::process::id(), rand::random::<u32>())
}

fn mariadb_server() -> (String, u16) {
    let url = std::env::var("OPENVLE_TEST_MARIADB_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
    let hostport = url.rsplit('@').next().unwrap_or("127.0.0.1:3306").trim_end_matches('/').to_string();
    let (host, port) = hostport.split_once(':').unwrap_or((&hostport, "3306"));
    (host.to_string(), port.parse().unwrap_or(3306))
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        TestApp::start_with(backend, &[]).await
    }

    pub async fn start_with(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        TestApp::start_on(listener, backend, extra).await
    }

    /// An app whose cluster is the Proxmox VE simulator at `base_url` (its
    /// demo token), with `extra` settings.
    pub async fn start_with_cluster(backend: Backend, base_url: &str, extra: &[(&str, &str)]) -> TestApp {
        let mut settings = vec![
            ("PVE_HOSTNAME", base_url),
            ("PVE_USER", sim::proxmox::DEMO_USER),
            ("PVE_TOKEN_NAME", sim::proxmox::DEMO_TOKEN_NAME),
            ("PVE_TOKEN_VALUE", sim::proxmox::DEMO_TOKEN_SECRET),
        ];
        settings.extend_from_slice(extra);
        TestApp::start_with(backend, &settings).await
    }

    /// Serves on a listener bound beforehand, for configuration that must name the app's
    /// own address (an OpenID provider's registered callback).
    pub async fn start_on(listener: tokio::net::TcpListener, backend: Backend, extra: &[(&str, &str)]) -> TestApp {
        server::install_crypto_provider();
        capture_logs();
        let data_dir = TempDir(std::env::temp_dir().join(unique("openvle_app")));
        let mut vars: HashMap<String, String> = HashMap::new();
        vars.insert("AUTH_SECRET".into(), "test-secret-0123456789abcdef0123456789".into());
        vars.insert("OPENVLE_DATA_DIR".into(), data_dir.0.display().to_string());
        vars.insert("OPENVLE_LISTEN".into(), "127.0.0.1:0".into());
        let mut cleanup = None;
        if backend != Backend::Sqlite {
            let (host, port) = mariadb_server();
            let name = unique("openvle_test");
            store::maintenance::create_database(&format!("mysql://root@{host}:{port}"), &name)
                .await
                .unwrap_or_else(|e| panic!("MariaDB must run at {host}:{port} (scripts/test starts it): {e}"));
            vars.insert("MARIADB_HOST".into(), host.clone());
            vars.insert("MARIADB_PORT".into(), port.to_string());
            vars.insert("MARIADB_USER".into(), "root".into());
            vars.insert("MARIADB_DATABASE".into(), name.clone());
            cleanup = Some((format!("mysql://root@{host}:{port}"), name));
        }
        if backend == Backend::MariaDbWithRedis {
            let redis = std::env::var("OPENVLE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
            let hostport = redis.trim_start_matches("redis://").trim_end_matches('/').to_string();
            let (host, port) = hostport.split_once(':').unwrap_or((&hostport, "6379"));
            vars.insert("REDIS_HOST".into(), host.into());
            vars.insert("REDIS_PORT".into(), port.into());
            vars.insert("REDIS_KEY_PREFIX".into(), unique("openvle-test"));
        }
        for (k, v) in extra {
            vars.insert(k.to_string(), v.to_string());
        }
        let config = Config::from_lookup(&|name| vars.get(name).cloned(), SecretSource::Required).expect("test config");
        let system = System::start(&config).await.expect("start system");
        for (username, role) in [("admin", "admin"), ("instructor", "instructor"), ("student", "participant")] {
            system
                .services
                .bootstrap_user(services::accounts::UserInput {
                    username: username.into(),
                    name: format!("Test {username}"),
                    email: format!("{username}@example.org"),
                    language: "en".into(),
                    password: PASSWORD.into(),
                    role_keys: vec![role.into()],
                })
                .await
                .expect("seed user");
        }
        let addr = listener.local_addr().expect("addr");
        let router = server::web::router(&config, system.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
        });
        TestApp { addr, system, env: vars, cleanup, _data_dir: data_dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A browser-like client: keeps cookies, sends this site's Origin.
    pub fn client(&self) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, self.url("").parse().expect("origin"));
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .expect("client");
        Client { http, base: self.url("") }
    }

    /// The activities recorded with `action`, oldest first (nothing forwards
    /// them in the test app: they wait in the outbox).
    pub async fn activities(&self, action: &str) -> Vec<domain::activity::Activity> {
        let waiting = self.system.services.ports().outbox.oldest(100_000).await.expect("outbox");
        waiting.into_iter().map(|(_, a)| a).filter(|a| a.action == action).collect()
    }

    /// Makes time pass for an event: the app runs on the system clock, so the
    /// stored start and end (milliseconds) move instead.
    pub async fn set_event_times(&self, event_id: i64, starts_at: i64, ends_at: Option<i64>) {
        sqlx::query("UPDATE events SET starts_at = ?, ends_at = ? WHERE id = ?")
            .bind(starts_at)
            .bind(ends_at)
            .bind(event_id)
            .execute(self.system.db.pool())
            .await
            .expect("event times");
    }

    pub async fn signed_in(&self, username: &str) -> Client {
        let client = self.client();
        let res = client.call("login", &[("username", username), ("password", PASSWORD)]).await;
        assert_eq!(res.status, 200, "login of {username} failed: {}", res.body);
        client
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((server, name)) = self.cleanup.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    let _ = rt.block_on(store::maintenance::drop_database(&server, &name));
                }
            })
            .join();
        }
    }
}

pub struct Client {
    pub http: reqwest::Client,
    base: String,
}

pub struct Reply {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
}

impl Reply {
    /// The `error` key of a JSON error body (`not_signed_in`, `invalid`...).
    pub fn error(&self) -> Option<String> {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
    }
}

/// Settings that send the app's mail to `server` (aiosmtpd, trusted through its
/// own CA file), with links in the mail to https://vle.example.org.
pub fn mail_settings(server: &smtp_connector::testing::SmtpServer) -> Vec<(&'static str, String)> {
    vec![
        ("SMTP_HOST", "localhost".into()),
        ("SMTP_PORT", server.port.to_string()),
        ("SMTP_CA_FILE", server.ca_file().display().to_string()),
        ("SMTP_FROM", "OpenVLE <noreply@openvle.test>".into()),
        ("OPENVLE_PUBLIC_URL", "https://vle.example.org".into()),
    ]
}

/// Settings as `TestApp::start_with` takes them.
pub fn pairs<'a>(settings: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    settings.iter().map(|(name, value)| (*name, value.as_str())).collect()
}

/// The registered URL of a server function, by its Rust name.
pub fn server_fn_path(name: &str) -> String {
    let wanted = name.replace('_', "");
    leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .find(|path| {
            let stem = path.trim_start_matches("/api/").trim_end_matches(|c: char| c.is_ascii_digit());
            stem == name || stem == wanted
        })
        .unwrap_or_else(|| panic!("no server function named {name}"))
}

/// Every registered server function, by its Rust-ish name (digits stripped).
pub fn all_server_fns() -> Vec<String> {
    let mut names: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").trim_end_matches(|c: char| c.is_ascii_digit()).to_string())
        .collect();
    names.sort();
    names.dedup();
    names
}

impl Client {
    /// Calls a server function the way the hydrated app does (urlencoded
    /// body, JSON answer).
    pub async fn call(&self, name: &str, form: &[(&str, &str)]) -> Reply {
        self.post(&server_fn_path(name), form, "application/json").await
    }

    /// Posts like a plain HTML form without JavaScript.
    pub async fn form(&self, name: &str, form: &[(&str, &str)], referer: &str) -> Reply {
        let res = self
            .http
            .post(format!("{}{}", self.base, server_fn_path(name)))
            .header("Accept", "text/html")
            .header("Referer", format!("{}{referer}", self.base))
            .form(form)
            .send()
            .await
            .expect("request");
        reply(res).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)], accept: &str) -> Reply {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Accept", accept)
            .form(form)
            .send()
            .await
            .expect("request");
        reply(res).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        let res = self.http.get(format!("{}{path}", self.base)).send().await.expect("request");
        reply(res).await
    }
}

async fn reply(res: reqwest::Response) -> Reply {
    let status = res.status().as_u16();
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = res.text().await.unwrap_or_default();
    Reply { status, body, location }
}

/// A server function's JSON answer; the call must succeed.
pub async fn json(client: &Client, name: &str, form: &[(&str, &str)]) -> serde_json::Value {
    let reply = client.call(name, form).await;
    assert_eq!(reply.status, 200, "{name}: {}", reply.body);
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{name}: {e}: {}", reply.body))
}

/// A server function call that must succeed.
pub async fn ok(client: &Client, name: &str, form: &[(&str, &str)]) {
    let reply = client.call(name, form).await;
    assert!(reply.error().is_none() && reply.status < 400, "{name}: {} {}", reply.status, reply.body);
}

/// The error of a call that must fail: (error kind, field or reason).
pub async fn refused(client: &Client, name: &str, form: &[(&str, &str)]) -> (String, String) {
    let reply = client.call(name, form).await;
    let body: serde_json::Value =
        serde_json::from_str(&reply.body).unwrap_or_else(|_| panic!("{name}: {}", reply.body));
    let kind = body["error"].as_str().unwrap_or_else(|| panic!("{name} did not fail: {}", reply.body)).to_string();
    let detail = body.get("field").or_else(|| body.get("reason")).and_then(|v| v.as_str()).unwrap_or("").to_string();
    (kind, detail)
}

/// An environment `environment` of one VM of `template`, and a planned event
/// in it (1 January 2030, 09:00) named `name` / `short_name`, as the tests
/// that deploy begin: the environment's and the event's ids.
pub async fn planned_event(
    admin: &Client,
    instructor: &Client,
    template: &str,
    environment: &str,
    name: &str,
    short_name: &str,
) -> (String, String) {
    ok(admin, "create_environment", &[("name", environment), ("template_ids[]", template), ("counts[]", "1")]).await;
    let environment = json(admin, "list_environments", &[]).await[0]["id"].as_i64().unwrap().to_string();
    let form = [
        ("name", name),
        ("short_name", short_name),
        ("environment_id", environment.as_str()),
        ("starts_at", "2030-01-01T09:00"),
    ];
    ok(instructor, "create_event", &form).await;
    let event = json(instructor, "list_events", &[("tab", "planned")]).await["items"][0]["id"].as_i64().unwrap();
    (environment, event.to_string())
}

/// Waits (60 s at most) until the event has `status`; fails at once on
/// `failed` unless that is awaited, showing why.
pub async fn wait_for_status(client: &Client, event: &str, status: &str) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let found = json(client, "get_event", &[("id", event)]).await;
        if found["status"] == status {
            return found;
        }
        assert!(found["status"] != "failed" || status == "failed", "event failed: {found}");
        assert!(tokio::time::Instant::now() < deadline, "event still {}: {found}", found["status"]);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A worker running the product's jobs for a test app (retries 100× sooner).
pub struct RunningWorker {
    stop: tokio::sync::watch::Sender<bool>,
    running: tokio::task::JoinHandle<()>,
}

impl RunningWorker {
    pub fn start(app: &TestApp, name: &str) -> RunningWorker {
        use services::jobs::worker::{Worker, WorkerConfig};
        let services = &app.system.services;
        let mut config = WorkerConfig::new(name.into());
        config.retry_scale = 0.01;
        let ports = services.ports();
        let worker = Worker::new(
            ports.tasks.clone(),
            ports.queue.clone(),
            std::sync::Arc::new(services::jobs::ProductSteps::new(services.clone())),
            services.clock(),
            config,
        );
        let (stop, stopped) = tokio::sync::watch::channel(false);
        RunningWorker { stop, running: tokio::spawn(worker.run(stopped)) }
    }

    /// Stops taking jobs and waits until the worker has finished.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        self.running.await.expect("the worker ends without panicking");
    }
}

/// The system clock's now, in milliseconds (the app's clock).
pub fn now_ms() -> i64 {
    use services::clock::Clock;
    services::clock::SystemClock.now().millis()
}
