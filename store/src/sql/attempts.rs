use async_trait::async_trait;
use domain::time::Timestamp;
use services::StoreError;
use services::ports::AttemptCounter;

use super::{SqlStore, store_error};

#[async_trait]
impl AttemptCounter for SqlStore {
    async fn add(&self, key: &str, window_secs: u64, now: Timestamp) -> Result<u32, StoreError> {
        let window_end = now.plus_secs(i64::try_from(window_secs).unwrap_or(i64::MAX)).millis();
        // Count inside the open window, or start a new one. Two replicas
        // racing to start a window: the loser's insert hits the primary key
        // and it counts in the winner's window instead.
        for _ in 0..2 {
            let bumped = sqlx::query(
                "UPDATE login_attempts SET failures = failures + 1 WHERE attempt_key = ? AND window_end > ?",
            )
            .bind(key.to_string())
            .bind(now.millis())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
            if bumped.rows_affected() > 0 {
                return self.count(key, now).await;
            }
            sqlx::query("DELETE FROM login_attempts WHERE attempt_key = ? AND window_end <= ?")
                .bind(key.to_string())
                .bind(now.millis())
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
            let inserted =
                sqlx::query("INSERT INTO login_attempts (attempt_key, window_end, failures) VALUES (?, ?, 1)")
                    .bind(key.to_string())
                    .bind(window_end)
                    .execute(&self.pool)
                    .await
                    .map_err(store_error);
            match inserted {
                Ok(_) => return Ok(1),
                Err(StoreError::Duplicate(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        self.count(key, now).await
    }

    async fn count(&self, key: &str, now: Timestamp) -> Result<u32, StoreError> {
        let n: Option<i64> =
            sqlx::query_scalar("SELECT failures FROM login_attempts WHERE attempt_key = ? AND window_end > ?")
                .bind(key.to_string())
                .bind(now.millis())
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
        Ok(n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0))
    }

    async fn retry_after(&self, key: &str, now: Timestamp) -> Result<u64, StoreError> {
        let end: Option<i64> = sqlx::query_scalar("SELECT window_end FROM login_attempts WHERE attempt_key = ?")
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(end.map(|end| u64::try_from((end - now.millis()).max(0) / 1000).unwrap_or(0)).unwrap_or(0))
    }

    async fn reset(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_attempts WHERE attempt_key = ?")
            .bind(key.to_string())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
