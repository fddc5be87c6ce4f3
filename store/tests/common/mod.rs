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
        let path = std::env::temp_dir().join(format!("{}.db", unique("openvle_test")));
        let db = Database::connect(&format!("sqlite://{}?mode=rwc", path.display()), 4).await.expect("open sqlite");
        db.migrate().await.expect("migrate sqlite");
        TestDb { db, cleanup: Cleanup::File(path) }
    }

    pub async fn mariadb() -> TestDb {
        let server = mariadb_server_url();
        let name = unique("openvle_test");
        store::maintenance::create_database(&server, &name).await.unwrap_or_else(|e| {
            panic!("MariaDB must be running at {server} for the repository tests (scripts/test starts it): {e}")
        });
        let db = Database::connect(&format!("{server}/{name}"), 4).await.expect("connect test database");
        db.migrate().await.expect("migrate mariadb");
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
