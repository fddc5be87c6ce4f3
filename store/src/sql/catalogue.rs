//! The catalogue (vendors, operating systems, applications) and its links to
//! templates and environments.

use async_trait::async_trait;
use domain::activity::Activity;
use domain::catalogue::{CatalogueFields, CatalogueItem, CatalogueKind, CatalogueLinks, ItemRef, Taggable, Usage};
use domain::page::{Page, PageRequest};
use domain::time::Timestamp;
use services::StoreError;
use services::catalogue::ports::CatalogueRepo;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::{SqlStore, Tx, activities, store_error};

fn table(kind: CatalogueKind) -> &'static str {
    match kind {
        CatalogueKind::Vendor => "vendors",
        CatalogueKind::OperatingSystem => "operating_systems",
        CatalogueKind::Application => "applications",
    }
}

/// The entries of a kind with their vendor's name (vendors have none).
fn select(kind: CatalogueKind) -> String {
    match kind {
        CatalogueKind::Vendor => "SELECT c.id, c.name, c.description FROM vendors c".to_string(),
        other => format!(
            "SELECT c.id, c.name, c.description, c.vendor_id, v.name AS vendor_name FROM {} c \
             JOIN vendors v ON v.id = c.vendor_id",
            table(other)
        ),
    }
}

fn item_from_row(kind: CatalogueKind, row: &AnyRow) -> Result<CatalogueItem, StoreError> {
    let vendor = if kind.has_vendor() {
        Some((row.try_get("vendor_id").map_err(store_error)?, row.try_get("vendor_name").map_err(store_error)?))
    } else {
        None
    };
    Ok(CatalogueItem {
        id: row.try_get("id").map_err(store_error)?,
        kind,
        name: row.try_get("name").map_err(store_error)?,
        description: row.try_get("description").map_err(store_error)?,
        vendor,
    })
}

fn item_refs(rows: &[AnyRow]) -> Result<Vec<ItemRef>, StoreError> {
    rows.iter()
        .map(|row| {
            Ok(ItemRef { id: row.try_get("id").map_err(store_error)?, name: row.try_get("name").map_err(store_error)? })
        })
        .collect()
}

/// Unique names are checked on `name_key`; the form calls the field `name`.
fn duplicate_name(error: StoreError) -> StoreError {
    match error {
        StoreError::Duplicate(_) => StoreError::Duplicate("name".into()),
        other => other,
    }
}

/// What uses an entry: for each kind of user the names (sorted).
async fn usage(conn: &mut sqlx::AnyConnection, kind: CatalogueKind, id: i64) -> Result<Vec<Usage>, StoreError> {
    let queries: &[(&str, &str)] = match kind {
        CatalogueKind::Vendor => &[
            ("operating_systems", "SELECT name FROM operating_systems WHERE vendor_id = ? ORDER BY name_key"),
            ("applications", "SELECT name FROM applications WHERE vendor_id = ? ORDER BY name_key"),
        ],
        CatalogueKind::OperatingSystem => &[(
            "templates",
            "SELECT t.name FROM template_operating_systems l JOIN vm_templates t ON t.id = l.template_id \
             WHERE l.operating_system_id = ? ORDER BY t.name",
        )],
        CatalogueKind::Application => &[
            (
                "templates",
                "SELECT t.name FROM template_applications l JOIN vm_templates t ON t.id = l.template_id \
                 WHERE l.application_id = ? ORDER BY t.name",
            ),
            (
                "environments",
                "SELECT e.name FROM environment_applications l JOIN environments e ON e.id = l.environment_id \
                 WHERE l.application_id = ? ORDER BY e.name",
            ),
        ],
    };
    let mut used_by = Vec::new();
    for (user_kind, sql) in queries {
        let names: Vec<String> =
            sqlx::query_scalar(AssertSqlSafe(*sql)).bind(id).fetch_all(&mut *conn).await.map_err(store_error)?;
        if !names.is_empty() {
            used_by.push(Usage { kind: (*user_kind).to_string(), names });
        }
    }
    Ok(used_by)
}

#[async_trait]
impl CatalogueRepo for SqlStore {
    async fn list(
        &self,
        kind: CatalogueKind,
        vendor_id: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<CatalogueItem>, StoreError> {
        let filter = match (kind.has_vendor(), vendor_id) {
            (true, Some(_)) => " WHERE c.vendor_id = ?",
            _ => "",
        };
        let vendor_id = vendor_id.filter(|_| kind.has_vendor());
        let count_sql = format!("SELECT COUNT(*) FROM {} c{filter}", table(kind));
        let mut count = sqlx::query_scalar::<_, i64>(AssertSqlSafe(count_sql));
        if let Some(vendor) = vendor_id {
            count = count.bind(vendor);
        }
        let total = count.fetch_one(&self.pool).await.map_err(store_error)?;
        let sql = format!("{}{filter} ORDER BY c.name_key LIMIT ? OFFSET ?", select(kind));
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some(vendor) = vendor_id {
            query = query.bind(vendor);
        }
        let rows = query
            .bind(i64::from(page.per_page()))
            .bind(i64::try_from(page.offset()).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(Page {
            items: rows.iter().map(|row| item_from_row(kind, row)).collect::<Result<_, _>>()?,
            total: u64::try_from(total).unwrap_or(0),
            page: page.page(),
            per_page: page.per_page(),
        })
    }

    async fn by_id(&self, kind: CatalogueKind, id: i64) -> Result<Option<CatalogueItem>, StoreError> {
        let sql = format!("{} WHERE c.id = ?", select(kind));
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await.map_err(store_error)?;
        row.as_ref().map(|row| item_from_row(kind, row)).transpose()
    }

    async fn insert(
        &self,
        kind: CatalogueKind,
        fields: &CatalogueFields,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let id: i64 = match fields.vendor_id.filter(|_| kind.has_vendor()) {
            Some(vendor_id) => {
                let sql = format!(
                    "INSERT INTO {} (vendor_id, name, name_key, description, created_at, updated_at) \
                     VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    table(kind)
                );
                sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql))
                    .bind(vendor_id)
                    .bind(fields.name.clone())
                    .bind(fields.name_key.clone())
                    .bind(fields.description.clone())
                    .bind(at.millis())
                    .bind(at.millis())
                    .fetch_one(tx.conn()?)
                    .await
            }
            None => {
                sqlx::query_scalar::<_, i64>(
                    "INSERT INTO vendors (name, name_key, description, created_at, updated_at) \
                     VALUES (?, ?, ?, ?, ?) RETURNING id",
                )
                .bind(fields.name.clone())
                .bind(fields.name_key.clone())
                .bind(fields.description.clone())
                .bind(at.millis())
                .bind(at.millis())
                .fetch_one(tx.conn()?)
                .await
            }
        }
        .map_err(store_error)
        .map_err(duplicate_name)?;
        activities::append(tx.conn()?, activity, Some(id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update(
        &self,
        kind: CatalogueKind,
        id: i64,
        fields: &CatalogueFields,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let result = match fields.vendor_id.filter(|_| kind.has_vendor()) {
            Some(vendor_id) => {
                let sql = format!(
                    "UPDATE {} SET vendor_id = ?, name = ?, name_key = ?, description = ?, updated_at = ? \
                     WHERE id = ?",
                    table(kind)
                );
                sqlx::query(AssertSqlSafe(sql))
                    .bind(vendor_id)
                    .bind(fields.name.clone())
                    .bind(fields.name_key.clone())
                    .bind(fields.description.clone())
                    .bind(at.millis())
                    .bind(id)
                    .execute(tx.conn()?)
                    .await
            }
            None => {
                let sql = format!(
                    "UPDATE {} SET name = ?, name_key = ?, description = ?, updated_at = ? WHERE id = ?",
                    table(kind)
                );
                sqlx::query(AssertSqlSafe(sql))
                    .bind(fields.name.clone())
                    .bind(fields.name_key.clone())
                    .bind(fields.description.clone())
                    .bind(at.millis())
                    .bind(id)
                    .execute(tx.conn()?)
                    .await
            }
        }
        .map_err(store_error)
        .map_err(duplicate_name)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }

    async fn delete(
        &self,
        kind: CatalogueKind,
        id: i64,
        activity: Option<&Activity>,
    ) -> Result<Vec<Usage>, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let used_by = usage(tx.conn()?, kind, id).await?;
        if !used_by.is_empty() {
            return Ok(used_by);
        }
        let sql = format!("DELETE FROM {} WHERE id = ?", table(kind));
        let deleted = sqlx::query(AssertSqlSafe(sql)).bind(id).execute(tx.conn()?).await;
        match deleted {
            Ok(result) if result.rows_affected() == 0 => Err(StoreError::NotFound),
            Ok(_) => {
                activities::append(tx.conn()?, activity, None).await?;
                tx.commit().await?;
                Ok(Vec::new())
            }
            // Linked by a transaction that committed after our check: still in use.
            Err(e) if e.as_database_error().is_some_and(|d| d.is_foreign_key_violation()) => {
                drop(tx);
                let mut conn = self.pool.acquire().await.map_err(store_error)?;
                usage(&mut conn, kind, id).await
            }
            Err(e) => Err(store_error(e)),
        }
    }

    async fn links(&self, object: Taggable, id: i64) -> Result<CatalogueLinks, StoreError> {
        let (os_sql, apps_sql) = match object {
            Taggable::Template => (
                Some(
                    "SELECT o.id, o.name FROM template_operating_systems l \
                     JOIN operating_systems o ON o.id = l.operating_system_id WHERE l.template_id = ?",
                ),
                "SELECT a.id, a.name FROM template_applications l JOIN applications a ON a.id = l.application_id \
                 WHERE l.template_id = ? ORDER BY a.name_key",
            ),
            Taggable::Environment => (
                None,
                "SELECT a.id, a.name FROM environment_applications l JOIN applications a ON a.id = l.application_id \
                 WHERE l.environment_id = ? ORDER BY a.name_key",
            ),
            // VMs have no links of their own (they show their template's).
            Taggable::Vm => return Ok(CatalogueLinks::default()),
        };
        let operating_system = match os_sql {
            Some(sql) => {
                let rows = sqlx::query(sql).bind(id).fetch_all(&self.pool).await.map_err(store_error)?;
                item_refs(&rows)?.into_iter().next()
            }
            None => None,
        };
        let rows = sqlx::query(apps_sql).bind(id).fetch_all(&self.pool).await.map_err(store_error)?;
        Ok(CatalogueLinks { operating_system, applications: item_refs(&rows)? })
    }

    async fn set_links(
        &self,
        object: Taggable,
        id: i64,
        operating_system_id: Option<i64>,
        application_ids: &[i64],
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        let (apps_table, column) = match object {
            Taggable::Template => ("template_applications", "template_id"),
            Taggable::Environment => ("environment_applications", "environment_id"),
            Taggable::Vm => return Err(StoreError::NotFound),
        };
        let mut tx = Tx::begin(&self.pool).await?;
        if object == Taggable::Template {
            sqlx::query("DELETE FROM template_operating_systems WHERE template_id = ?")
                .bind(id)
                .execute(tx.conn()?)
                .await
                .map_err(store_error)?;
            if let Some(os) = operating_system_id {
                sqlx::query("INSERT INTO template_operating_systems (template_id, operating_system_id) VALUES (?, ?)")
                    .bind(id)
                    .bind(os)
                    .execute(tx.conn()?)
                    .await
                    .map_err(store_error)?;
            }
        }
        let sql = format!("DELETE FROM {apps_table} WHERE {column} = ?");
        sqlx::query(AssertSqlSafe(sql)).bind(id).execute(tx.conn()?).await.map_err(store_error)?;
        for application in application_ids {
            let sql = format!("INSERT INTO {apps_table} ({column}, application_id) VALUES (?, ?)");
            sqlx::query(AssertSqlSafe(sql))
                .bind(id)
                .bind(*application)
                .execute(tx.conn()?)
                .await
                .map_err(store_error)?;
        }
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }
}
