use async_trait::async_trait;
use domain::activity::Activity;
use domain::settings::{SettingType, SettingView, Visibility};
use services::StoreError;
use services::ports::SettingsRepo;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{SqlStore, Tx, activities, corrupt, store_error};

fn setting_from_row(row: &AnyRow) -> Result<SettingView, StoreError> {
    let t: String = row.try_get("setting_type").map_err(store_error)?;
    let v: String = row.try_get("visibility").map_err(store_error)?;
    Ok(SettingView {
        key: row.try_get("setting_key").map_err(store_error)?,
        setting_type: SettingType::from_key(&t).ok_or_else(|| corrupt("setting type", &t))?,
        value: row.try_get("setting_value").map_err(store_error)?,
        description: row.try_get("description").map_err(store_error)?,
        visibility: Visibility::from_key(&v).ok_or_else(|| corrupt("visibility", &v))?,
    })
}

#[async_trait]
impl SettingsRepo for SqlStore {
    async fn list(&self) -> Result<Vec<SettingView>, StoreError> {
        sqlx::query("SELECT setting_key, setting_type, setting_value, description, visibility FROM settings ORDER BY setting_key")
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?
            .iter()
            .map(setting_from_row)
            .collect()
    }

    async fn get(&self, key: &str) -> Result<Option<SettingView>, StoreError> {
        sqlx::query("SELECT setting_key, setting_type, setting_value, description, visibility FROM settings WHERE setting_key = ?")
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .as_ref()
            .map(setting_from_row)
            .transpose()
    }

    async fn set_value(&self, key: &str, value: &str, activity: Option<&Activity>) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        sqlx::query("UPDATE settings SET setting_value = ? WHERE setting_key = ?")
            .bind(value.to_string())
            .bind(key.to_string())
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }
}
