use async_trait::async_trait;
use domain::SecretText;
use domain::time::Timestamp;
use services::StoreError;
use services::ports::{SessionRecord, SessionStore};
use sqlx::Row;

use super::{SqlStore, store_error};

#[async_trait]
impl SessionStore for SqlStore {
    async fn create(&self, session: &SessionRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, id_token) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(session.token_hash.clone())
        .bind(session.user_id)
        .bind(session.created_at.millis())
        .bind(session.expires_at.millis())
        .bind(session.id_token.as_ref().map(|t| t.expose().to_string()))
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn get(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT token_hash, user_id, created_at, expires_at, id_token FROM sessions WHERE token_hash = ?",
        )
        .bind(token_hash.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(|row| {
            Ok(SessionRecord {
                token_hash: row.try_get("token_hash").map_err(store_error)?,
                user_id: row.try_get("user_id").map_err(store_error)?,
                created_at: Timestamp(row.try_get("created_at").map_err(store_error)?),
                expires_at: Timestamp(row.try_get("expires_at").map_err(store_error)?),
                id_token: row.try_get::<Option<String>, _>("id_token").map_err(store_error)?.map(SecretText),
            })
        })
        .transpose()
    }

    async fn extend(&self, token_hash: &str, expires_at: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET expires_at = ? WHERE token_hash = ?")
            .bind(expires_at.millis())
            .bind(token_hash.to_string())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn delete(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash.to_string())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn delete_for_user(&self, user_id: i64, keep: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?")
            .bind(user_id)
            .bind(keep.unwrap_or("").to_string())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(now.millis())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(result.rows_affected())
    }
}
