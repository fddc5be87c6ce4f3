use async_trait::async_trait;
use domain::time::Timestamp;
use services::StoreError;
use services::ports::PendingLogins;
use sqlx::Row;

use super::{SqlStore, store_error};

#[async_trait]
impl PendingLogins for SqlStore {
    async fn put(&self, id: &str, value: &str, expires_at: Timestamp) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO pending_logins (id_hash, value, expires_at) VALUES (?, ?, ?)")
            .bind(id.to_string())
            .bind(value.to_string())
            .bind(expires_at.millis())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// Read, then delete; only the request whose DELETE removed the row gets the value, so
    /// two replicas taking the same id at once cannot both succeed.
    async fn take(&self, id: &str, now: Timestamp) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value, expires_at FROM pending_logins WHERE id_hash = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let value: String = row.try_get("value").map_err(store_error)?;
        let expires_at: i64 = row.try_get("expires_at").map_err(store_error)?;
        let deleted = sqlx::query("DELETE FROM pending_logins WHERE id_hash = ?")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        if deleted.rows_affected() != 1 || expires_at <= now.millis() {
            return Ok(None);
        }
        Ok(Some(value))
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM pending_logins WHERE expires_at <= ?")
            .bind(now.millis())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(result.rows_affected())
    }
}
