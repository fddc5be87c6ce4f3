//! Notifications and quick links (the dashboard); each change commits with
//! its activity.

use async_trait::async_trait;
use domain::activity::Activity;
use domain::dashboard::{NotificationFields, NotificationView, QuickLinkView, Severity};
use domain::time::Timestamp;
use services::StoreError;
use services::dashboard::DashboardRepo;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{SqlStore, Tx, activities, corrupt, store_error};

fn notification_from_row(row: &AnyRow) -> Result<NotificationView, StoreError> {
    let severity: String = row.try_get("severity").map_err(store_error)?;
    let time = |column: &str| -> Result<Option<Timestamp>, StoreError> {
        Ok(row.try_get::<Option<i64>, _>(column).map_err(store_error)?.map(Timestamp))
    };
    Ok(NotificationView {
        id: row.try_get("id").map_err(store_error)?,
        message: row.try_get("message").map_err(store_error)?,
        severity: Severity::from_key(&severity).ok_or_else(|| corrupt("severity", &severity))?,
        starts_at: time("starts_at")?,
        ends_at: time("ends_at")?,
        updated_at: Timestamp(row.try_get("updated_at").map_err(store_error)?),
    })
}

/// Fails with `NotFound` when an UPDATE or DELETE touched no row.
fn touched(rows: u64) -> Result<(), StoreError> {
    if rows == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

#[async_trait]
impl DashboardRepo for SqlStore {
    async fn notifications(&self) -> Result<Vec<NotificationView>, StoreError> {
        sqlx::query("SELECT id, message, severity, starts_at, ends_at, updated_at FROM notifications ORDER BY id DESC")
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?
            .iter()
            .map(notification_from_row)
            .collect()
    }

    async fn notification(&self, id: i64) -> Result<Option<NotificationView>, StoreError> {
        sqlx::query("SELECT id, message, severity, starts_at, ends_at, updated_at FROM notifications WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .as_ref()
            .map(notification_from_row)
            .transpose()
    }

    async fn insert_notification(
        &self,
        fields: &NotificationFields,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO notifications (message, severity, starts_at, ends_at, updated_at) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(fields.message.clone())
        .bind(fields.severity.key())
        .bind(fields.starts_at.map(|t| t.millis()))
        .bind(fields.ends_at.map(|t| t.millis()))
        .bind(at.millis())
        .fetch_one(tx.conn()?)
        .await
        .map_err(store_error)?;
        activities::append(tx.conn()?, activity, Some(id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update_notification(
        &self,
        id: i64,
        fields: &NotificationFields,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        // No "touched" check: MariaDB counts only changed rows, and the
        // service has checked that the row exists.
        sqlx::query(
            "UPDATE notifications SET message = ?, severity = ?, starts_at = ?, ends_at = ?, updated_at = ? WHERE id = ?",
        )
        .bind(fields.message.clone())
        .bind(fields.severity.key())
        .bind(fields.starts_at.map(|t| t.millis()))
        .bind(fields.ends_at.map(|t| t.millis()))
        .bind(at.millis())
        .bind(id)
        .execute(tx.conn()?)
        .await
        .map_err(store_error)?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }

    async fn delete_notification(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let done = sqlx::query("DELETE FROM notifications WHERE id = ?")
            .bind(id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        touched(done.rows_affected())?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }

    async fn quick_links(&self) -> Result<Vec<QuickLinkView>, StoreError> {
        let rows = sqlx::query("SELECT id, title, url, position FROM quick_links ORDER BY position, id")
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|row| {
                Ok(QuickLinkView {
                    id: row.try_get("id").map_err(store_error)?,
                    title: row.try_get("title").map_err(store_error)?,
                    url: row.try_get("url").map_err(store_error)?,
                    position: row.try_get("position").map_err(store_error)?,
                })
            })
            .collect()
    }

    async fn insert_quick_link(
        &self,
        title: &str,
        url: &str,
        position: Option<i64>,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let position = match position {
            Some(p) => p,
            None => {
                let last: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM quick_links")
                    .fetch_one(tx.conn()?)
                    .await
                    .map_err(store_error)?;
                last.map_or(0, |p| p + 1)
            }
        };
        let id: i64 =
            sqlx::query_scalar("INSERT INTO quick_links (title, url, position) VALUES (?, ?, ?) RETURNING id")
                .bind(title.to_string())
                .bind(url.to_string())
                .bind(position)
                .fetch_one(tx.conn()?)
                .await
                .map_err(store_error)?;
        activities::append(tx.conn()?, activity, Some(id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update_quick_link(
        &self,
        id: i64,
        title: &str,
        url: &str,
        position: i64,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        // As for notifications: the service checked the row exists.
        sqlx::query("UPDATE quick_links SET title = ?, url = ?, position = ? WHERE id = ?")
            .bind(title.to_string())
            .bind(url.to_string())
            .bind(position)
            .bind(id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }

    async fn delete_quick_link(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let done = sqlx::query("DELETE FROM quick_links WHERE id = ?")
            .bind(id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        touched(done.rows_affected())?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }
}
