use std::time::Duration;

use crate::now_millis;
use async_trait::async_trait;
use services::StoreError;
use services::jobs::LeaseStore;

use super::{SqlStore, store_error};

#[async_trait]
impl LeaseStore for SqlStore {
    async fn acquire(&self, name: &str, holder: &str, ttl: Duration) -> Result<Option<u64>, StoreError> {
        let now = now_millis();
        let expires = now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
        // Renew our own lease, or take over an expired one (the token grows:
        // a fencing token tells a stale leader's late work from the new one's).
        let renewed = sqlx::query("UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND expires_at >= ?")
            .bind(expires)
            .bind(name.to_string())
            .bind(holder.to_string())
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        if renewed.rows_affected() == 0 {
            let taken = sqlx::query(
                "UPDATE leases SET holder = ?, token = token + 1, expires_at = ? WHERE name = ? AND expires_at < ?",
            )
            .bind(holder.to_string())
            .bind(expires)
            .bind(name.to_string())
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
            if taken.rows_affected() == 0 {
                let inserted = sqlx::query("INSERT INTO leases (name, holder, token, expires_at) VALUES (?, ?, 1, ?)")
                    .bind(name.to_string())
                    .bind(holder.to_string())
                    .bind(expires)
                    .execute(&self.pool)
                    .await
                    .map_err(store_error);
                match inserted {
                    Ok(_) => {}
                    Err(StoreError::Duplicate(_)) => return Ok(None),
                    Err(e) => return Err(e),
                }
            }
        }
        let token: Option<i64> = sqlx::query_scalar("SELECT token FROM leases WHERE name = ? AND holder = ?")
            .bind(name.to_string())
            .bind(holder.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(token.and_then(|t| u64::try_from(t).ok()))
    }

    async fn release(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ?")
            .bind(name.to_string())
            .bind(holder.to_string())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn holder(&self, name: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT holder FROM leases WHERE name = ? AND expires_at >= ?")
            .bind(name.to_string())
            .bind(now_millis())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)
    }
}
