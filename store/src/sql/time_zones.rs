//! Each user's chosen time zone (`users.time_zone`, empty: none).

use async_trait::async_trait;
use domain::activity::Activity;
use services::StoreError;
use services::time_zones::TimeZoneRepo;

use super::{SqlStore, Tx, activities, store_error};

#[async_trait]
impl TimeZoneRepo for SqlStore {
    async fn user_zone(&self, user_id: i64) -> Result<Option<String>, StoreError> {
        let zone: Option<String> = sqlx::query_scalar("SELECT time_zone FROM users WHERE id = ?")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(zone.filter(|z| !z.is_empty()))
    }

    async fn set_user_zone(
        &self,
        user_id: i64,
        zone: Option<&str>,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        sqlx::query("UPDATE users SET time_zone = ? WHERE id = ?")
            .bind(zone.unwrap_or_default().to_string())
            .bind(user_id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }
}
