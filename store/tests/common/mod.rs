//! Real databases for the repository tests: a fresh SQLite file and a fresh
//! MariaDB database per test (on the server `scripts/test` starts; override
//! with OPENVLE_TEST_MARIADB_URL), and Redis with a per-test key prefix.

#![allow(dead_code)] // each test file uses a different part of the harness

use std::sync::Arc;

use services::clock::Clock;
use services::{Ports, Services};
use store::{Database, RedisStore};

pub fn mariadb_server_url() -> String {
    std::env::var("OPENVLE_TEST_MARIADB_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

pub fn redis_url() -> String {
    std::env::var("OPENVLE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// With `OPENVLE_TEST_LOG_DIR` (scripts/test sets it), this test binary's
/// logs go to a file there as JSON, as the server tests' do; `scripts/test`
/// then checks them for the tests' secrets.
fn capture_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(dir) = std::env::var("OPENVLE_TEST_LOG_DIR") else { return };
        let exe = std::env::current_exe().ok().and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()));
        let path = std::path::Path::new(&dir).join(format!("{}-{}.log", exe.unwrap_or_default(), std::process::id()));
        if std::fs::create_dir_all(&dir).is_ok()
            && let Ok(file) = std::fs::File::create(&path)
        {
            let filter = tracing_subscriber::EnvFilter::new("info,sqlx=warn");
            let writer = std::sync::Mutex::new(file);
            let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).json().try_init();
        }
    });
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}_{:08x}", std::process::id(), rand::random::<u32>())
}

/// A migrated, empty database that is removed when dropped.
pub struct TestDb {
    pub db: Database,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    MariaDb { server: String, name: String },
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let t = TestDb::sqlite_unmigrated().await;
        t.db.migrate().await.expect("migrate sqlite");
        t
    }

    pub async fn mariadb() -> TestDb {
        let t = TestDb::mariadb_unmigrated().await;
        t.db.migrate().await.expect("migrate mariadb");
        t
    }

    /// An empty database without any migration (tests of a data migration).
    pub async fn sqlite_unmigrated() -> TestDb {
        capture_logs();
        let path = std::env::temp_dir().join(format!("{}.db", unique("openvle_test")));
        let db = Database::connect(&format!("sqlite://{}?mode=rwc", path.display()), 4).await.expect("open sqlite");
        TestDb { db, cleanup: Cleanup::File(path) }
    }

    pub async fn mariadb_unmigrated() -> TestDb {
        capture_logs();
        let server = mariadb_server_url();
        let name = unique("openvle_test");
        store::maintenance::create_database(&server, &name).await.unwrap_or_else(|e| {
            panic!("MariaDB must be running at {server} for the repository tests (scripts/test starts it): {e}")
        });
        let db = Database::connect(&format!("{server}/{name}"), 4).await.expect("connect test database");
        TestDb { db, cleanup: Cleanup::MariaDb { server, name } }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::MariaDb { server, name } => {
                // Drop runs outside the test's runtime; use a small one of our own.
                let (server, name) = (server.clone(), name.clone());
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
                    if let Ok(rt) = rt {
                        let _ = rt.block_on(store::maintenance::drop_database(&server, &name));
                    }
                })
                .join();
            }
        }
    }
}

pub async fn redis() -> RedisStore {
    let url = redis_url();
    RedisStore::connect(&url, &unique("openvle-test"))
        .await
        .unwrap_or_else(|e| panic!("Redis must be running at {url} (scripts/test starts it): {e}"))
}

/// A clock the test moves by hand.
pub struct TestClock(pub std::sync::atomic::AtomicI64);

impl TestClock {
    pub fn new() -> Arc<TestClock> {
        Arc::new(TestClock(std::sync::atomic::AtomicI64::new(1_800_000_000_000)))
    }

    pub fn advance_secs(&self, secs: i64) {
        self.0.fetch_add(secs * 1000, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> domain::time::Timestamp {
        domain::time::Timestamp(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}

pub fn services(ports: Ports, clock: Arc<TestClock>) -> Services {
    Services::new(ports, clock, "store-test-secret-0123456789abcdef")
}

/// Runs one async test body against SQLite and MariaDB, as two tests.
#[macro_export]
macro_rules! on_both_dialects {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let t = $crate::common::TestDb::sqlite().await;
                super::$name(t.db.clone()).await;
            }

            #[tokio::test]
            async fn mariadb() {
                let t = $crate::common::TestDb::mariadb().await;
                super::$name(t.db.clone()).await;
            }
        }
    };
}

/// A Redis server of the test's own, with persistence on, that can be
/// restarted (the shared one on 6379 must not be).
pub struct PrivateRedis {
    child: std::process::Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl PrivateRedis {
    pub async fn start_with_appendonly() -> PrivateRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(unique("openvle_redis"));
        std::fs::create_dir_all(&dir).unwrap();
        PrivateRedis::spawn(port, dir).await
    }

    async fn spawn(port: u16, dir: std::path::PathBuf) -> PrivateRedis {
        let child = std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--appendonly", "yes", "--save", ""])
            .arg("--dir")
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed (scripts/test installs it)");
        let redis = PrivateRedis { child, port, dir };
        for _ in 0..100 {
            if let Ok(client) = redis::Client::open(redis.url())
                && let Ok(mut conn) = client.get_multiplexed_async_connection().await
                && redis::cmd("PING").query_async::<String>(&mut conn).await.is_ok()
            {
                return redis;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("private redis-server did not start on port {}", redis.port);
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops the server the way an administrator would (SIGTERM: it writes
    /// its append-only file) and starts it again on the same files.
    pub async fn restart(mut self) -> PrivateRedis {
        let pid = self.child.id().to_string();
        let _ = std::process::Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
        let dir = std::mem::take(&mut self.dir);
        let port = self.port;
        std::mem::forget(self);
        PrivateRedis::spawn(port, dir).await
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A MongoDB wire-protocol server of the test's own (nx-27017 from PyPI, which
/// `scripts/setup --test` installs), on a free loopback port and a database
/// file that survives a restart.
pub struct PrivateMongo {
    child: std::process::Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl PrivateMongo {
    fn binary() -> String {
        std::env::var("OPENVLE_TEST_NX_27017").unwrap_or_else(|_| {
            let cache = std::env::var("HOME").map(|h| format!("{h}/.cache/openvle")).unwrap_or_default();
            format!("{cache}/nx-27017/bin/nx-27017")
        })
    }

    pub async fn start() -> PrivateMongo {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(unique("openvle_mongo"));
        std::fs::create_dir_all(&dir).unwrap();
        PrivateMongo::spawn(port, dir).await
    }

    async fn spawn(port: u16, dir: std::path::PathBuf) -> PrivateMongo {
        let binary = PrivateMongo::binary();
        let child = std::process::Command::new(&binary)
            .args(["--host", "127.0.0.1", "-p", &port.to_string(), "--db"])
            .arg(dir.join("data.db"))
            .arg("--log-file")
            .arg(dir.join("nx.log"))
            // Its own pid file: the default one in /tmp makes a second server refuse to start.
            .arg("--pid-file")
            .arg(dir.join("nx.pid"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("nx-27017 must be installed at {binary} (scripts/setup --test): {e}"));
        let mongo = PrivateMongo { child, port, dir };
        // Python starts in about a second; give a loaded machine more.
        for _ in 0..300 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return mongo;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let log = std::fs::read_to_string(mongo.dir.join("nx.log")).unwrap_or_default();
        panic!("nx-27017 did not start on port {port}: {}", &log[log.len().saturating_sub(2000)..]);
    }

    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}", self.port)
    }

    /// Stops the server (SIGTERM) and waits until it is gone: MongoDB is down.
    pub fn stop(&mut self) {
        let _ = std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port and data.
    pub async fn restart(mut self) -> PrivateMongo {
        self.stop();
        let dir = std::mem::take(&mut self.dir);
        let port = self.port;
        std::mem::forget(self);
        PrivateMongo::spawn(port, dir).await
    }
}

impl Drop for PrivateMongo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Target names and searches with what each finds: the same in every
/// activity store (SQLite FTS5, MariaDB FULLTEXT, MongoDB regex).
pub const SEARCH_NAMES: [&str; 5] =
    ["Linux basics", "Windows Server 2022 lab", "net1-stu2-debian-1", "Übung Netzwerke", "linux-advanced"];

/// (search, the names it finds).
pub const SEARCHES: [(&str, &[&str]); 10] = [
    // The start of a word, any case, anywhere in the name.
    ("LIN", &["Linux basics", "linux-advanced"]),
    ("adv", &["linux-advanced"]),
    // Not the middle of a word.
    ("inux", &[]),
    // Every word must match; short words match anywhere.
    ("server 20", &["Windows Server 2022 lab"]),
    ("stu2 deb", &["net1-stu2-debian-1"]),
    // Punctuation separates words, as in the names.
    ("net1-stu2", &["net1-stu2-debian-1"]),
    ("netz", &["Übung Netzwerke"]),
    ("ÜBUNG", &["Übung Netzwerke"]),
    // Nothing to search for: nothing found.
    ("%", &[]),
    ("linux windows", &[]),
];
