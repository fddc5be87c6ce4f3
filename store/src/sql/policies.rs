use async_trait::async_trait;
use domain::activity::Activity;
use domain::policy::PolicyView;
use domain::time::Timestamp;
use services::StoreError;
use services::ports::{PolicyRecord, PolicyRepo};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{SqlStore, Tx, activities, store_error};

macro_rules! policy_select {
    ($tail:literal) => {
        concat!(
            "SELECT p.id, p.name, p.description, p.content, p.active, ",
            "(SELECT COUNT(*) FROM policy_acceptances a WHERE a.policy_id = p.id) AS accepted_count FROM policies p",
            $tail
        )
    };
}

fn policy_from_row(row: &AnyRow) -> Result<PolicyView, StoreError> {
    let active: i64 = row.try_get("active").map_err(store_error)?;
    let accepted: i64 = row.try_get("accepted_count").map_err(store_error)?;
    Ok(PolicyView {
        id: row.try_get("id").map_err(store_error)?,
        name: row.try_get("name").map_err(store_error)?,
        description: row.try_get("description").map_err(store_error)?,
        content: row.try_get("content").map_err(store_error)?,
        active: active != 0,
        accepted_count: u64::try_from(accepted).unwrap_or(0),
    })
}

#[async_trait]
impl PolicyRepo for SqlStore {
    async fn list(&self) -> Result<Vec<PolicyView>, StoreError> {
        sqlx::query(policy_select!(" ORDER BY p.name"))
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?
            .iter()
            .map(policy_from_row)
            .collect()
    }

    async fn by_id(&self, id: i64) -> Result<Option<PolicyView>, StoreError> {
        sqlx::query(policy_select!(" WHERE p.id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .as_ref()
            .map(policy_from_row)
            .transpose()
    }

    async fn insert(&self, policy: &PolicyRecord, activity: Option<&Activity>) -> Result<i64, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO policies (name, description, content, active) VALUES (?, ?, ?, 0) RETURNING id",
        )
        .bind(policy.name.clone())
        .bind(policy.description.clone())
        .bind(policy.content.clone())
        .fetch_one(tx.conn()?)
        .await
        .map_err(store_error)?;
        activities::append(tx.conn()?, activity, Some(id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update(&self, id: i64, policy: &PolicyRecord, activity: Option<&Activity>) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        sqlx::query("UPDATE policies SET name = ?, description = ?, content = ? WHERE id = ?")
            .bind(policy.name.clone())
            .bind(policy.description.clone())
            .bind(policy.content.clone())
            .bind(id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }

    async fn set_active(&self, id: i64, active: bool, activity: Option<&Activity>) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        sqlx::query("UPDATE policies SET active = ? WHERE id = ?")
            .bind(i64::from(active))
            .bind(id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }

    async fn accept(
        &self,
        id: i64,
        user_id: i64,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let result = sqlx::query("INSERT INTO policy_acceptances (policy_id, user_id, accepted_at) VALUES (?, ?, ?)")
            .bind(id)
            .bind(user_id)
            .bind(at.millis())
            .execute(tx.conn()?)
            .await
            .map_err(store_error);
        match result {
            Ok(_) => {
                activities::append(tx.conn()?, activity, None).await?;
                tx.commit().await
            }
            // Accepting twice keeps the first acceptance (nothing new to record).
            Err(StoreError::Duplicate(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn pending_for(&self, user_id: i64) -> Result<Vec<i64>, StoreError> {
        sqlx::query_scalar(
            "SELECT p.id FROM policies p WHERE p.active = 1 AND NOT EXISTS \
             (SELECT 1 FROM policy_acceptances a WHERE a.policy_id = p.id AND a.user_id = ?) ORDER BY p.id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)
    }
}
