use async_trait::async_trait;
use domain::activity::Activity;
use domain::time::Timestamp;
use services::StoreError;
use services::cluster::{ConnectionRepo, StoredConnection};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{SqlStore, Tx, activities, store_error};

const COLUMNS: &str = "url, token_id, secret_sealed, fingerprint, verify_tls, pool, revision, updated_at, updated_by";

fn connection_from_row(row: &AnyRow) -> Result<StoredConnection, StoreError> {
    Ok(StoredConnection {
        url: row.try_get("url").map_err(store_error)?,
        token_id: row.try_get("token_id").map_err(store_error)?,
        secret_sealed: row.try_get("secret_sealed").map_err(store_error)?,
        fingerprint: row.try_get("fingerprint").map_err(store_error)?,
        verify_tls: row.try_get::<i64, _>("verify_tls").map_err(store_error)? != 0,
        pool: row.try_get("pool").map_err(store_error)?,
        revision: row.try_get("revision").map_err(store_error)?,
        updated_at: Timestamp(row.try_get("updated_at").map_err(store_error)?),
        updated_by: row.try_get("updated_by").map_err(store_error)?,
    })
}

impl SqlStore {
    /// Updates the one row; false when there is none yet.
    async fn update_connection(conn: &mut sqlx::AnyConnection, c: &StoredConnection) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE cluster_connection SET url = ?, token_id = ?, secret_sealed = ?, fingerprint = ?, verify_tls = ?, \
             pool = ?, revision = revision + 1, updated_at = ?, updated_by = ? WHERE id = 1",
        )
        .bind(c.url.clone())
        .bind(c.token_id.clone())
        .bind(c.secret_sealed.clone())
        .bind(c.fingerprint.clone())
        .bind(i64::from(c.verify_tls))
        .bind(c.pool.clone())
        .bind(c.updated_at.0)
        .bind(c.updated_by.clone())
        .execute(conn)
        .await
        .map_err(store_error)?;
        Ok(done.rows_affected() > 0)
    }
}

#[async_trait]
impl ConnectionRepo for SqlStore {
    async fn get(&self) -> Result<Option<StoredConnection>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM cluster_connection WHERE id = 1")))
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .as_ref()
            .map(connection_from_row)
            .transpose()
    }

    async fn save(&self, c: &StoredConnection, activity: Option<&Activity>) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        if !SqlStore::update_connection(tx.conn()?, c).await? {
            Self::insert_connection(tx.conn()?, c).await?;
        }
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }
}

impl SqlStore {
    async fn insert_connection(conn: &mut sqlx::AnyConnection, c: &StoredConnection) -> Result<(), StoreError> {
        let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO cluster_connection (id, {COLUMNS}) VALUES (1, ?, ?, ?, ?, ?, ?, 1, ?, ?)"
        )))
        .bind(c.url.clone())
        .bind(c.token_id.clone())
        .bind(c.secret_sealed.clone())
        .bind(c.fingerprint.clone())
        .bind(i64::from(c.verify_tls))
        .bind(c.pool.clone())
        .bind(c.updated_at.0)
        .bind(c.updated_by.clone())
        .execute(&mut *conn)
        .await
        .map_err(store_error);
        match inserted {
            Ok(_) => Ok(()),
            // Another replica inserted first: ours is the newer save.
            Err(StoreError::Duplicate(_)) => SqlStore::update_connection(conn, c).await.map(|_| ()),
            Err(e) => Err(e),
        }
    }
}
