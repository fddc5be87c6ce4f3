//! Storage adapters behind the `services` ports.
//!
//! One schema, two SQL dialects: queries are written in the SQL both MariaDB
//! and SQLite understand and run through sqlx's `Any` driver; only the
//! migrations differ per dialect (`migrations/mysql`, `migrations/sqlite`).
//! Sessions and login-attempt counters go to Redis when it is configured.

mod migrations;
pub mod mongo;
mod queue;
mod redis_store;
mod seed;
mod sql;

use std::sync::Arc;

use services::Ports;
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

pub use queue::{MemoryQueue, RedisQueue};
pub use redis_store::RedisStore;

/// The wall clock in the stored form (UTC milliseconds), for adapters whose
/// callers pass no time of their own (Redis expiry, leases, delayed jobs).
pub(crate) fn now_millis() -> i64 {
    use services::clock::{Clock, SystemClock};
    SystemClock.now().millis()
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Dialect {
    MariaDb,
    Sqlite,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("seeding default data failed: {0}")]
    Seed(#[source] sqlx::Error),
    #[error("unsupported database URL (expected mysql:// or sqlite:)")]
    UnsupportedUrl,
}

/// A connection pool to the SQL database, of either dialect.
#[derive(Clone)]
pub struct Database {
    pool: AnyPool,
    dialect: Dialect,
}

impl Database {
    /// Connects to `mysql://...` or `sqlite:...` (the file is created if missing).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Database, DbError> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("mysql:") || url.starts_with("mariadb:") {
            Dialect::MariaDb
        } else if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else {
            return Err(DbError::UnsupportedUrl);
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(DbError::Connect)?;
        if dialect == Dialect::Sqlite {
            // WAL lets the web handlers read while the worker writes.
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await.map_err(DbError::Connect)?;
        }
        Ok(Database { pool, dialect })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Applies pending migrations and seeds default roles and settings.
    /// On MariaDB the migrator holds an advisory lock, so replicas starting
    /// together apply each migration once; seeding tolerates a concurrent twin.
    pub async fn migrate(&self) -> Result<(), DbError> {
        migrations::migrator(self.dialect).run(&self.pool).await.map_err(DbError::Migrate)?;
        seed::defaults(self).await.map_err(DbError::Seed)
    }

    /// Applies the migrations up to version `last` only, and seeds nothing:
    /// for tests of a data migration, which start from the schema before it.
    pub async fn migrate_until(&self, last: i64) -> Result<(), DbError> {
        migrations::migrator_until(self.dialect, last).run(&self.pool).await.map_err(DbError::Migrate)
    }

    /// Whether every known migration has been applied (for `/readyz`).
    pub async fn migrations_applied(&self) -> Result<bool, sqlx::Error> {
        let expected = migrations::migrator(self.dialect).iter().count();
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_one(&self.pool)
            .await?;
        Ok(usize::try_from(applied).is_ok_and(|n| n >= expected))
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
    }

    /// Where the provisioning engine records VM progress: the classroom's VM records.
    pub fn vm_recorder(&self, clock: Arc<dyn services::clock::Clock>) -> Arc<sql::VmRecorder> {
        Arc::new(sql::VmRecorder::new(self.pool.clone(), clock))
    }

    /// The ports backed by this database. With Redis, sessions, login
    /// counters, the job queue and the scheduler lease live there (shared by
    /// every replica); without it, in SQL and an in-process queue.
    pub fn ports(&self, redis: Option<RedisStore>) -> Ports {
        let sql = Arc::new(sql::SqlStore::new(self.pool.clone(), self.dialect));
        match redis {
            Some(redis) => Ports {
                users: sql.clone(),
                roles: sql.clone(),
                settings: sql.clone(),
                policies: sql.clone(),
                tasks: sql.clone(),
                templates: sql.clone(),
                environments: sql.clone(),
                events: sql.clone(),
                groups: sql.clone(),
                vms: sql.clone(),
                catalogue: sql.clone(),
                tags: sql.clone(),
                connection_templates: sql.clone(),
                outbox: sql.clone(),
                activity_log: sql.clone(),
                mail: sql.clone(),
                dashboard: sql.clone(),
                time_zones: sql.clone(),
                guacamole: sql.clone(),
                connection: sql,
                sessions: Arc::new(redis.clone()),
                pending_logins: Arc::new(redis.clone()),
                attempts: Arc::new(redis.clone()),
                queue: Arc::new(redis.queue()),
                leases: Arc::new(redis),
            },
            None => Ports {
                users: sql.clone(),
                roles: sql.clone(),
                settings: sql.clone(),
                policies: sql.clone(),
                tasks: sql.clone(),
                sessions: sql.clone(),
                pending_logins: sql.clone(),
                attempts: sql.clone(),
                queue: Arc::new(MemoryQueue::new()),
                leases: sql.clone(),
                templates: sql.clone(),
                environments: sql.clone(),
                events: sql.clone(),
                groups: sql.clone(),
                vms: sql.clone(),
                catalogue: sql.clone(),
                tags: sql.clone(),
                connection_templates: sql.clone(),
                outbox: sql.clone(),
                activity_log: sql.clone(),
                mail: sql.clone(),
                dashboard: sql.clone(),
                time_zones: sql.clone(),
                guacamole: sql.clone(),
                connection: sql,
            },
        }
    }
}

/// Creating and dropping whole MariaDB databases: for installers and for the
/// test suites, which work in a throwaway database per test.
pub mod maintenance {
    use super::{Database, DbError};

    fn checked(name: &str) -> Result<&str, DbError> {
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            Ok(name)
        } else {
            Err(DbError::UnsupportedUrl)
        }
    }

    /// `server_url` is `mysql://user@host:port` without a database.
    pub async fn create_database(server_url: &str, name: &str) -> Result<(), DbError> {
        let name = checked(name)?;
        let admin = Database::connect(server_url, 1).await?;
        let created = sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE IF NOT EXISTS `{name}`")))
            .execute(admin.pool())
            .await
            .map(|_| ())
            .map_err(DbError::Connect);
        admin.pool().close().await;
        created
    }

    pub async fn drop_database(server_url: &str, name: &str) -> Result<(), DbError> {
        let name = checked(name)?;
        let admin = Database::connect(server_url, 1).await?;
        // Sessions still on the database (a test's pool whose runtime ended, with a
        // transaction whose rollback never ran) would block the DROP: end them first.
        let sessions: Vec<i64> = sqlx::query_scalar(
            "SELECT CAST(ID AS SIGNED) FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
        )
        .bind(name.to_string())
        .fetch_all(admin.pool())
        .await
        .unwrap_or_default();
        for id in sessions {
            // Already gone is fine.
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("KILL {id}"))).execute(admin.pool()).await;
        }
        let dropped = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`")))
            .execute(admin.pool())
            .await
            .map(|_| ())
            .map_err(DbError::Connect);
        admin.pool().close().await;
        dropped
    }
}
