//! Connection templates (bound to a VM template or one VM), the event
//! snapshot's copies of them, and the Guacamole connections made for VMs.

use async_trait::async_trait;
use domain::activity::Activity;
use domain::classroom::{ConnectionBinding, ConnectionTemplateView, Protocol, RdpSecurity, VmConnectionView};
use domain::time::Timestamp;
use services::StoreError;
use services::classroom::ports::{ConnectionTemplateRepo, SealedConnection};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{SqlStore, Tx, activities, corrupt, store_error};

fn get<'r, T>(row: &'r AnyRow, column: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(column).map_err(store_error)
}

fn sealed_from_row(row: &AnyRow) -> Result<SealedConnection, StoreError> {
    let protocol: String = get(row, "protocol")?;
    let port: i64 = get(row, "port")?;
    let security: String = get(row, "rdp_security")?;
    let ignore_cert: i64 = get(row, "ignore_cert")?;
    Ok(SealedConnection {
        protocol: Protocol::from_key(&protocol).ok_or_else(|| corrupt("protocol", &protocol))?,
        port: u16::try_from(port).map_err(|_| corrupt("port", &port.to_string()))?,
        username: get(row, "username")?,
        password_sealed: get(row, "password_sealed")?,
        rdp_security: RdpSecurity::from_key(&security).ok_or_else(|| corrupt("rdp_security", &security))?,
        ignore_cert: ignore_cert != 0,
    })
}

const COLUMNS: &str =
    "id, template_id, vm_id, protocol, port, username, password_sealed, rdp_security, ignore_cert, created_at";

fn view_from_row(row: &AnyRow) -> Result<ConnectionTemplateView, StoreError> {
    let sealed = sealed_from_row(row)?;
    let template_id: Option<i64> = get(row, "template_id")?;
    let vm_id: Option<i64> = get(row, "vm_id")?;
    let binding = match (template_id, vm_id) {
        (Some(id), None) => ConnectionBinding::Template(id),
        (None, Some(id)) => ConnectionBinding::Vm(id),
        _ => return Err(corrupt("connection template binding", "neither or both")),
    };
    Ok(ConnectionTemplateView {
        id: get(row, "id")?,
        binding,
        protocol: sealed.protocol,
        port: sealed.port,
        username: sealed.username,
        password_set: sealed.password_sealed.is_some(),
        rdp_security: sealed.rdp_security,
        ignore_cert: sealed.ignore_cert,
        created_at: Timestamp(get(row, "created_at")?),
    })
}

fn vm_connection_from_row(row: &AnyRow) -> Result<VmConnectionView, StoreError> {
    let granted: i64 = get(row, "granted")?;
    Ok(VmConnectionView {
        name: get(row, "name")?,
        remote_id: get(row, "remote_id")?,
        hostname: get(row, "hostname")?,
        granted: granted != 0,
        last_error: get(row, "last_error")?,
        updated_at: Timestamp(get(row, "updated_at")?),
    })
}

#[async_trait]
impl ConnectionTemplateRepo for SqlStore {
    async fn list(&self, binding: ConnectionBinding) -> Result<Vec<ConnectionTemplateView>, StoreError> {
        let (sql, id) = match binding {
            ConnectionBinding::Template(id) => {
                (format!("SELECT {COLUMNS} FROM connection_templates WHERE template_id = ? ORDER BY id"), id)
            }
            ConnectionBinding::Vm(id) => {
                (format!("SELECT {COLUMNS} FROM connection_templates WHERE vm_id = ? ORDER BY id"), id)
            }
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_all(&self.pool).await.map_err(store_error)?;
        rows.iter().map(view_from_row).collect()
    }

    async fn by_id(&self, id: i64) -> Result<Option<ConnectionTemplateView>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM connection_templates WHERE id = ?");
        let row =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await.map_err(store_error)?;
        row.as_ref().map(view_from_row).transpose()
    }

    async fn insert(
        &self,
        binding: ConnectionBinding,
        c: &SealedConnection,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError> {
        let (template_id, vm_id) = match binding {
            ConnectionBinding::Template(id) => (Some(id), None),
            ConnectionBinding::Vm(id) => (None, Some(id)),
        };
        let mut tx = Tx::begin(&self.pool).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO connection_templates (template_id, vm_id, protocol, port, username, password_sealed, \
             rdp_security, ignore_cert, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(template_id)
        .bind(vm_id)
        .bind(c.protocol.key())
        .bind(i64::from(c.port))
        .bind(c.username.clone())
        .bind(c.password_sealed.clone())
        .bind(c.rdp_security.key())
        .bind(i64::from(c.ignore_cert))
        .bind(at.millis())
        .fetch_one(tx.conn()?)
        .await
        .map_err(store_error)?;
        activities::append(tx.conn()?, activity, Some(id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn delete(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let result = sqlx::query("DELETE FROM connection_templates WHERE id = ?")
            .bind(id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn for_vm(&self, vm_id: i64) -> Result<Vec<SealedConnection>, StoreError> {
        let own = sqlx::query(
            "SELECT protocol, port, username, password_sealed, rdp_security, ignore_cert FROM connection_templates \
             WHERE vm_id = ? ORDER BY id",
        )
        .bind(vm_id)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        if !own.is_empty() {
            return own.iter().map(sealed_from_row).collect();
        }
        let snapshot = sqlx::query(
            "SELECT c.protocol, c.port, c.username, c.password_sealed, c.rdp_security, c.ignore_cert \
             FROM event_connection_templates c JOIN vms v ON v.event_id = c.event_id \
             AND v.template_id = c.template_id WHERE v.id = ? ORDER BY c.id",
        )
        .bind(vm_id)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        snapshot.iter().map(sealed_from_row).collect()
    }

    async fn vm_connections(&self, vm_id: i64) -> Result<Vec<VmConnectionView>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, remote_id, hostname, granted, last_error, updated_at FROM vm_connections \
             WHERE vm_id = ? ORDER BY name",
        )
        .bind(vm_id)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter().map(vm_connection_from_row).collect()
    }

    async fn put_vm_connection(&self, vm_id: i64, c: &VmConnectionView) -> Result<(), StoreError> {
        // Portable upsert: both dialects spell ON CONFLICT / ON DUPLICATE KEY differently.
        let mut tx = super::Tx::begin(&self.pool).await?;
        sqlx::query("DELETE FROM vm_connections WHERE vm_id = ? AND name = ?")
            .bind(vm_id)
            .bind(c.name.clone())
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        sqlx::query(
            "INSERT INTO vm_connections (vm_id, name, remote_id, hostname, granted, last_error, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(vm_id)
        .bind(c.name.clone())
        .bind(c.remote_id.clone())
        .bind(c.hostname.clone())
        .bind(i64::from(c.granted))
        .bind(c.last_error.clone())
        .bind(c.updated_at.millis())
        .execute(tx.conn()?)
        .await
        .map_err(store_error)?;
        tx.commit().await
    }

    async fn delete_vm_connection(&self, vm_id: i64, name: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM vm_connections WHERE vm_id = ? AND name = ?")
            .bind(vm_id)
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
