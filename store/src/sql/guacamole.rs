//! The saved Apache Guacamole connection: one row (`id = 1`), secrets sealed.

use async_trait::async_trait;
use domain::activity::Activity;
use domain::guacamole::SsoMethod;
use domain::time::Timestamp;
use services::StoreError;
use services::guacamole_connection::{GuacamoleSettingsRepo, StoredGuacamole};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{SqlStore, Tx, activities, store_error};

const COLUMNS: &str = "url, admin_username, admin_password_sealed, data_source, sso_method, json_secret_sealed, \
                       revision, updated_at, updated_by";

fn from_row(row: &AnyRow) -> Result<StoredGuacamole, StoreError> {
    let method: String = row.try_get("sso_method").map_err(store_error)?;
    Ok(StoredGuacamole {
        url: row.try_get("url").map_err(store_error)?,
        admin_username: row.try_get("admin_username").map_err(store_error)?,
        admin_password_sealed: row.try_get("admin_password_sealed").map_err(store_error)?,
        data_source: row.try_get("data_source").map_err(store_error)?,
        sso_method: SsoMethod::parse(&method)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown Guacamole sign-in method {method:?}")))?,
        json_secret_sealed: row.try_get("json_secret_sealed").map_err(store_error)?,
        revision: row.try_get("revision").map_err(store_error)?,
        updated_at: Timestamp(row.try_get("updated_at").map_err(store_error)?),
        updated_by: row.try_get("updated_by").map_err(store_error)?,
    })
}

/// Updates the one row; false when there is none yet.
async fn update(conn: &mut sqlx::AnyConnection, g: &StoredGuacamole) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE guacamole_connection SET url = ?, admin_username = ?, admin_password_sealed = ?, data_source = ?, \
         sso_method = ?, json_secret_sealed = ?, revision = revision + 1, updated_at = ?, updated_by = ? WHERE id = 1",
    )
    .bind(g.url.clone())
    .bind(g.admin_username.clone())
    .bind(g.admin_password_sealed.clone())
    .bind(g.data_source.clone())
    .bind(g.sso_method.key())
    .bind(g.json_secret_sealed.clone())
    .bind(g.updated_at.0)
    .bind(g.updated_by.clone())
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(done.rows_affected() > 0)
}

async fn insert(conn: &mut sqlx::AnyConnection, g: &StoredGuacamole) -> Result<(), StoreError> {
    let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO guacamole_connection (id, {COLUMNS}) VALUES (1, ?, ?, ?, ?, ?, ?, 1, ?, ?)"
    )))
    .bind(g.url.clone())
    .bind(g.admin_username.clone())
    .bind(g.admin_password_sealed.clone())
    .bind(g.data_source.clone())
    .bind(g.sso_method.key())
    .bind(g.json_secret_sealed.clone())
    .bind(g.updated_at.0)
    .bind(g.updated_by.clone())
    .execute(&mut *conn)
    .await
    .map_err(store_error);
    match inserted {
        Ok(_) => Ok(()),
        // Another replica inserted first: ours is the newer save.
        Err(StoreError::Duplicate(_)) => update(conn, g).await.map(|_| ()),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl GuacamoleSettingsRepo for SqlStore {
    async fn get(&self) -> Result<Option<StoredGuacamole>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM guacamole_connection WHERE id = 1")))
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .as_ref()
            .map(from_row)
            .transpose()
    }

    async fn save(&self, g: &StoredGuacamole, activity: &Activity) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        if !update(tx.conn()?, g).await? {
            insert(tx.conn()?, g).await?;
        }
        activities::append(tx.conn()?, Some(activity), None).await?;
        tx.commit().await
    }
}
