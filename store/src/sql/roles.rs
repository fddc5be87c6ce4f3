use async_trait::async_trait;
use domain::activity::Activity;
use domain::user::RoleView;
use services::StoreError;
use services::ports::{RoleRecord, RoleRepo};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{SqlStore, Tx, activities, store_error};

/// The role query with a tail; a macro so the SQL stays `'static` (sqlx 0.9
/// accepts dynamic SQL only behind an explicit assertion).
macro_rules! role_select {
    ($tail:literal) => {
        concat!(
            "SELECT r.id, r.role_key, r.name, r.description, ",
            "(SELECT COUNT(*) FROM user_roles ur WHERE ur.role_id = r.id) AS member_count FROM roles r",
            $tail
        )
    };
}

impl SqlStore {
    async fn role_from_row(&self, row: &AnyRow) -> Result<RoleView, StoreError> {
        let id: i64 = row.try_get("id").map_err(store_error)?;
        let permissions = sqlx::query(
            "SELECT object_type, level FROM role_permissions WHERE role_id = ? ORDER BY object_type, level",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?
        .iter()
        .map(|p| {
            let t: String = p.try_get("object_type").map_err(store_error)?;
            let l: String = p.try_get("level").map_err(store_error)?;
            Ok(format!("{t}:{l}"))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let members: i64 = row.try_get("member_count").map_err(store_error)?;
        Ok(RoleView {
            id,
            key: row.try_get("role_key").map_err(store_error)?,
            name: row.try_get("name").map_err(store_error)?,
            description: row.try_get("description").map_err(store_error)?,
            permissions,
            member_count: u64::try_from(members).unwrap_or(0),
        })
    }

    async fn one_role(&self, sql: &'static str, bind: RoleLookup<'_>) -> Result<Option<RoleView>, StoreError> {
        let query = sqlx::query(sql);
        let query = match bind {
            RoleLookup::Id(id) => query.bind(id),
            RoleLookup::Key(key) => query.bind(key.to_string()),
        };
        match query.fetch_optional(&self.pool).await.map_err(store_error)? {
            Some(row) => Ok(Some(self.role_from_row(&row).await?)),
            None => Ok(None),
        }
    }
}

enum RoleLookup<'a> {
    Id(i64),
    Key(&'a str),
}

async fn write_permissions(conn: &mut sqlx::AnyConnection, id: i64, role: &RoleRecord) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM role_permissions WHERE role_id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    for grant in &role.permissions {
        sqlx::query("INSERT INTO role_permissions (role_id, object_type, level) VALUES (?, ?, ?)")
            .bind(id)
            .bind(grant.object_type.key())
            .bind(grant.level.key())
            .execute(&mut *conn)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

#[async_trait]
impl RoleRepo for SqlStore {
    async fn list(&self) -> Result<Vec<RoleView>, StoreError> {
        let rows = sqlx::query(role_select!(" ORDER BY r.name")).fetch_all(&self.pool).await.map_err(store_error)?;
        let mut roles = Vec::with_capacity(rows.len());
        for row in &rows {
            roles.push(self.role_from_row(row).await?);
        }
        Ok(roles)
    }

    async fn by_id(&self, id: i64) -> Result<Option<RoleView>, StoreError> {
        self.one_role(role_select!(" WHERE r.id = ?"), RoleLookup::Id(id)).await
    }

    async fn by_key(&self, key: &str) -> Result<Option<RoleView>, StoreError> {
        self.one_role(role_select!(" WHERE r.role_key = ?"), RoleLookup::Key(key)).await
    }

    async fn insert(&self, role: &RoleRecord, activity: Option<&Activity>) -> Result<i64, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let id: i64 =
            sqlx::query_scalar("INSERT INTO roles (role_key, name, description) VALUES (?, ?, ?) RETURNING id")
                .bind(role.key.clone())
                .bind(role.name.clone())
                .bind(role.description.clone())
                .fetch_one(tx.conn()?)
                .await
                .map_err(store_error)?;
        write_permissions(tx.conn()?, id, role).await?;
        activities::append(tx.conn()?, activity, Some(id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update(&self, id: i64, role: &RoleRecord, activity: Option<&Activity>) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        sqlx::query("UPDATE roles SET name = ?, description = ? WHERE id = ?")
            .bind(role.name.clone())
            .bind(role.description.clone())
            .bind(id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        write_permissions(tx.conn()?, id, role).await?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }

    async fn delete(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let result =
            sqlx::query("DELETE FROM roles WHERE id = ?").bind(id).execute(tx.conn()?).await.map_err(store_error)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }
}
