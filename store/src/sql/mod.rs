//! SQL repositories, written once in the SQL common to MariaDB and SQLite.

mod activities;
mod attempts;
mod catalogue;
mod classroom;
mod cluster;
mod connection_templates;
mod dashboard;
mod guacamole;
mod leases;
mod mail;
mod pending_logins;
mod policies;
mod provisioning;
mod roles;
mod sessions;
mod settings;
mod tags;
mod tasks;
mod time_zones;
mod users;

pub use provisioning::VmRecorder;
use services::StoreError;
use sqlx::AnyPool;

use crate::Dialect;

pub struct SqlStore {
    pool: AnyPool,
    /// For the few queries the dialects spell differently (full-text search).
    dialect: Dialect,
}

/// A transaction that is rolled back at once when dropped without commit
/// (an early return on an error, a duplicate key). sqlx only queues the
/// rollback of a dropped transaction on its pooled connection, and until
/// that connection is used again MariaDB keeps the transaction's locks
/// (the row of a refused duplicate, table metadata) and blocks other writers.
pub(crate) struct Tx(Option<sqlx::Transaction<'static, sqlx::Any>>);

impl Tx {
    pub(crate) async fn begin(pool: &AnyPool) -> Result<Tx, StoreError> {
        // SQLite: take the write lock at BEGIN. A deferred transaction that
        // reads and then writes fails at once with "database is locked" when
        // another connection wrote in between; its busy timeout never applies.
        let transaction = if pool.connect_options().database_url.scheme() == "sqlite" {
            pool.begin_with("BEGIN IMMEDIATE").await
        } else {
            pool.begin().await
        };
        Ok(Tx(Some(transaction.map_err(store_error)?)))
    }

    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        match self.0.take() {
            Some(tx) => tx.commit().await.map_err(store_error),
            None => Ok(()),
        }
    }

    /// The transaction's connection, to run queries on.
    pub(crate) fn conn(&mut self) -> Result<&mut sqlx::AnyConnection, StoreError> {
        // Only `commit` (which consumes the Tx) takes the transaction out.
        self.0.as_deref_mut().ok_or_else(|| StoreError::Unavailable("transaction already finished".into()))
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                if let Err(e) = tx.rollback().await {
                    tracing::warn!(error = %e, "rolling back a transaction failed");
                }
            });
        }
    }
}

impl SqlStore {
    pub fn new(pool: AnyPool, dialect: Dialect) -> SqlStore {
        SqlStore { pool, dialect }
    }
}

/// Translates a driver error into the port's error; unique violations name
/// the column so the user is told which field is taken.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    if let Some(db) = error.as_database_error()
        && db.is_unique_violation()
    {
        return StoreError::Duplicate(duplicate_field(db.message()));
    }
    match error {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) | sqlx::Error::ColumnNotFound(_) => {
            StoreError::Corrupt(error.to_string())
        }
        other => StoreError::Unavailable(other.to_string()),
    }
}

/// MariaDB: `Duplicate entry 'x' for key 'users.email'` (or `'email'`);
/// SQLite: `UNIQUE constraint failed: users.email`.
fn duplicate_field(message: &str) -> String {
    let raw = if let Some(rest) = message.split("for key ").nth(1) {
        rest.trim_matches(|c| c == '\'' || c == '`' || c == '"')
    } else if let Some(rest) = message.split("constraint failed: ").nth(1) {
        rest.split(',').next().unwrap_or(rest)
    } else {
        message
    };
    let column = raw.rsplit('.').next().unwrap_or(raw).trim();
    match column {
        "role_key" => "key".to_string(),
        "active_short_name" => "short_name".to_string(),
        other => other.to_string(),
    }
}

/// Escapes `%`, `_` (and the escape character `!`) so user input is matched
/// literally by LIKE. `!` rather than backslash: MariaDB treats backslash in
/// string literals as an escape, SQLite does not.
pub(crate) fn like_pattern(text: &str) -> String {
    let escaped = text.to_lowercase().replace('!', "!!").replace('%', "!%").replace('_', "!_");
    format!("%{escaped}%")
}

pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unexpected {what} {value:?}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn duplicate_messages_name_the_field() {
        assert_eq!(super::duplicate_field("Duplicate entry 'a@b.c' for key 'email'"), "email");
        assert_eq!(super::duplicate_field("Duplicate entry 'x' for key 'users.username'"), "username");
        assert_eq!(super::duplicate_field("UNIQUE constraint failed: users.email"), "email");
        assert_eq!(super::duplicate_field("UNIQUE constraint failed: roles.role_key"), "key");
    }
}
