//! Tags of templates, environments and VMs: one table per object type, so a
//! tag goes with its object.

use async_trait::async_trait;
use domain::activity::Activity;
use domain::catalogue::{ObjectTags, Tag, TagFilter, Taggable};
use domain::time::Timestamp;
use services::StoreError;
use services::catalogue::ports::TagRepo;
use sqlx::{AssertSqlSafe, Row};

use super::{SqlStore, Tx, activities, store_error};

/// (table, column naming the object).
fn table(object: Taggable) -> (&'static str, &'static str) {
    match object {
        Taggable::Template => ("template_tags", "template_id"),
        Taggable::Environment => ("environment_tags", "environment_id"),
        Taggable::Vm => ("vm_tags", "vm_id"),
    }
}

#[async_trait]
impl TagRepo for SqlStore {
    async fn tags(&self, object: Taggable, ids: &[i64]) -> Result<Vec<ObjectTags>, StoreError> {
        let (table, column) = table(object);
        let mut out: Vec<ObjectTags> = Vec::new();
        for chunk in ids.chunks(200) {
            let sql = format!(
                "SELECT id, {column} AS object_id, name, value FROM {table} WHERE {column} IN ({}) \
                 ORDER BY {column}, name, value",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await.map_err(store_error)? {
                let object_id: i64 = row.try_get("object_id").map_err(store_error)?;
                let tag = Tag {
                    id: row.try_get("id").map_err(store_error)?,
                    name: row.try_get("name").map_err(store_error)?,
                    value: row.try_get("value").map_err(store_error)?,
                };
                match out.last_mut() {
                    Some(last) if last.id == object_id => last.tags.push(tag),
                    _ => out.push(ObjectTags { id: object_id, tags: vec![tag] }),
                }
            }
        }
        Ok(out)
    }

    async fn add(
        &self,
        object: Taggable,
        id: i64,
        name: &str,
        value: &str,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError> {
        let (table, column) = table(object);
        let mut tx = Tx::begin(&self.pool).await?;
        let sql = format!("INSERT INTO {table} ({column}, name, value, created_at) VALUES (?, ?, ?, ?) RETURNING id");
        let tag_id: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(id)
            .bind(name.to_string())
            .bind(value.to_string())
            .bind(at.millis())
            .fetch_one(tx.conn()?)
            .await
            .map_err(|e| match store_error(e) {
                StoreError::Duplicate(_) => StoreError::Duplicate("tag".into()),
                other => other,
            })?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await?;
        Ok(tag_id)
    }

    async fn remove(
        &self,
        object: Taggable,
        id: i64,
        tag_id: i64,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        let (table, column) = table(object);
        let mut tx = Tx::begin(&self.pool).await?;
        let sql = format!("DELETE FROM {table} WHERE id = ? AND {column} = ?");
        let result =
            sqlx::query(AssertSqlSafe(sql)).bind(tag_id).bind(id).execute(tx.conn()?).await.map_err(store_error)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }

    async fn tagged(&self, object: Taggable, filter: &TagFilter) -> Result<Vec<i64>, StoreError> {
        let (table, column) = table(object);
        let sql = match filter.value {
            Some(_) => format!("SELECT DISTINCT {column} FROM {table} WHERE name = ? AND value = ?"),
            None => format!("SELECT DISTINCT {column} FROM {table} WHERE name = ?"),
        };
        let mut query = sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql)).bind(filter.name.clone());
        if let Some(value) = &filter.value {
            query = query.bind(value.clone());
        }
        query.fetch_all(&self.pool).await.map_err(store_error)
    }

    async fn copy_template_tags(&self, vms: &[(i64, i64)], at: Timestamp) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        for (vm_id, template_id) in vms {
            sqlx::query(
                "INSERT INTO vm_tags (vm_id, name, value, created_at) SELECT ?, t.name, t.value, ? \
                 FROM template_tags t WHERE t.template_id = ? AND NOT EXISTS \
                 (SELECT 1 FROM vm_tags x WHERE x.vm_id = ? AND x.name = t.name AND x.value = t.value)",
            )
            .bind(*vm_id)
            .bind(at.millis())
            .bind(*template_id)
            .bind(*vm_id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        }
        tx.commit().await
    }
}
