//! Templates, environments, events with participants and snapshots, user
//! groups, and VMs.

use async_trait::async_trait;
use domain::activity::Activity;
use domain::classroom::{
    Console, EnvironmentEntry, EnvironmentView, EventFields, EventRole, EventStatus, EventView, GroupView,
    ParticipantView, RosterRow, VmState, VmTemplateView, VmView,
};
use domain::page::{Page, PageRequest};
use domain::time::Timestamp;
use domain::{AuthBackend, UserStatus};
use services::StoreError;
use services::classroom::ports::{
    EnvironmentRepo, EventQuery, EventRepo, GroupRepo, NewVm, Replanning, RosterOutcome, SnapshotTemplate,
    TemplateRecord, TemplateRepo, VmQuery, VmRepo, VmUpdate,
};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::{SqlStore, Tx, activities, corrupt, store_error};

fn get<'r, T>(row: &'r AnyRow, column: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(column).map_err(store_error)
}

fn get_u32(row: &AnyRow, column: &str) -> Result<u32, StoreError> {
    let value: i64 = get(row, column)?;
    u32::try_from(value).map_err(|_| corrupt(column, &value.to_string()))
}

fn get_u64(row: &AnyRow, column: &str) -> Result<u64, StoreError> {
    let value: i64 = get(row, column)?;
    Ok(u64::try_from(value).unwrap_or(0))
}

fn ensure_changed(result: sqlx::any::AnyQueryResult) -> Result<(), StoreError> {
    if result.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

fn console(row: &AnyRow) -> Result<Console, StoreError> {
    let key: String = get(row, "console")?;
    Console::from_key(&key).ok_or_else(|| corrupt("console", &key))
}

// ---------------------------------------------------------------- templates

const TEMPLATE_COLUMNS: &str = "id, name, description, operating_system, proxmox_vmid, node, cores, memory_mib, \
     disk_gib, linked_clone, console, on_cluster, synced_at";

fn template_from_row(row: &AnyRow) -> Result<VmTemplateView, StoreError> {
    let linked: i64 = get(row, "linked_clone")?;
    let on_cluster: Option<i64> = get(row, "on_cluster")?;
    let synced_at: Option<i64> = get(row, "synced_at")?;
    Ok(VmTemplateView {
        id: get(row, "id")?,
        name: get(row, "name")?,
        description: get(row, "description")?,
        operating_system: get(row, "operating_system")?,
        proxmox_vmid: get_u32(row, "proxmox_vmid")?,
        node: get(row, "node")?,
        cores: get_u32(row, "cores")?,
        memory_mib: get_u32(row, "memory_mib")?,
        disk_gib: get_u32(row, "disk_gib")?,
        linked_clone: linked != 0,
        console: console(row)?,
        on_cluster: on_cluster.map(|v| v != 0),
        synced_at: synced_at.map(Timestamp),
    })
}

#[async_trait]
impl TemplateRepo for SqlStore {
    async fn list(&self) -> Result<Vec<VmTemplateView>, StoreError> {
        let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM vm_templates ORDER BY name");
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await.map_err(store_error)?;
        rows.iter().map(template_from_row).collect()
    }

    async fn by_id(&self, id: i64) -> Result<Option<VmTemplateView>, StoreError> {
        let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM vm_templates WHERE id = ?");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await.map_err(store_error)?;
        row.as_ref().map(template_from_row).transpose()
    }

    async fn insert(&self, t: &TemplateRecord, at: Timestamp, activity: Option<&Activity>) -> Result<i64, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO vm_templates (name, description, operating_system, proxmox_vmid, node, cores, memory_mib, \
             disk_gib, linked_clone, console, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(t.name.clone())
        .bind(t.description.clone())
        .bind(t.operating_system.clone())
        .bind(i64::from(t.proxmox_vmid))
        .bind(t.node.clone())
        .bind(i64::from(t.cores))
        .bind(i64::from(t.memory_mib))
        .bind(i64::from(t.disk_gib))
        .bind(i64::from(t.linked_clone))
        .bind(t.console.key())
        .bind(at.millis())
        .bind(at.millis())
        .fetch_one(tx.conn()?)
        .await
        .map_err(store_error)?;
        activities::append(tx.conn()?, activity, Some(id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update(
        &self,
        id: i64,
        t: &TemplateRecord,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let result = sqlx::query(
            "UPDATE vm_templates SET name = ?, description = ?, operating_system = ?, proxmox_vmid = ?, node = ?, \
             cores = ?, memory_mib = ?, disk_gib = ?, linked_clone = ?, console = ?, updated_at = ? WHERE id = ?",
        )
        .bind(t.name.clone())
        .bind(t.description.clone())
        .bind(t.operating_system.clone())
        .bind(i64::from(t.proxmox_vmid))
        .bind(t.node.clone())
        .bind(i64::from(t.cores))
        .bind(i64::from(t.memory_mib))
        .bind(i64::from(t.disk_gib))
        .bind(i64::from(t.linked_clone))
        .bind(t.console.key())
        .bind(at.millis())
        .bind(id)
        .execute(tx.conn()?)
        .await
        .map_err(store_error)?;
        ensure_changed(result)?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }

    async fn delete(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError> {
        self.delete_row("DELETE FROM vm_templates WHERE id = ?", &[id], activity).await
    }

    async fn record_sync(
        &self,
        id: i64,
        seen: Option<(String, u32, u32, u32)>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let result = match seen {
            Some((node, cores, memory_mib, disk_gib)) => {
                sqlx::query(
                    "UPDATE vm_templates SET node = ?, cores = ?, memory_mib = ?, disk_gib = ?, on_cluster = 1, \
                     synced_at = ? WHERE id = ?",
                )
                .bind(node)
                .bind(i64::from(cores))
                .bind(i64::from(memory_mib))
                .bind(i64::from(disk_gib))
                .bind(at.millis())
                .bind(id)
                .execute(&self.pool)
                .await
            }
            None => {
                sqlx::query("UPDATE vm_templates SET on_cluster = 0, synced_at = ? WHERE id = ?")
                    .bind(at.millis())
                    .bind(id)
                    .execute(&self.pool)
                    .await
            }
        }
        .map_err(store_error)?;
        ensure_changed(result)
    }

    async fn environments_using(&self, id: i64) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM environment_templates WHERE template_id = ?")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

// ------------------------------------------------------------- environments

const ENVIRONMENT_SELECT: &str = "SELECT e.id, e.name, e.description, \
     (SELECT COUNT(*) FROM events ev WHERE ev.environment_id = e.id) AS event_count FROM environments e";

impl SqlStore {
    async fn environment_entries(&self, id: i64) -> Result<Vec<EnvironmentEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT et.template_id, t.name, et.vm_count FROM environment_templates et \
             JOIN vm_templates t ON t.id = et.template_id WHERE et.environment_id = ? ORDER BY t.name",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter()
            .map(|row| {
                Ok(EnvironmentEntry {
                    template_id: get(row, "template_id")?,
                    template_name: get(row, "name")?,
                    count: get_u32(row, "vm_count")?,
                })
            })
            .collect()
    }

    async fn environment_from_row(&self, row: &AnyRow) -> Result<EnvironmentView, StoreError> {
        let id: i64 = get(row, "id")?;
        Ok(EnvironmentView {
            id,
            name: get(row, "name")?,
            description: get(row, "description")?,
            templates: self.environment_entries(id).await?,
            event_count: get_u64(row, "event_count")?,
        })
    }
}

async fn write_entries(tx: &mut sqlx::AnyConnection, id: i64, entries: &[(i64, u32)]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM environment_templates WHERE environment_id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    for (template_id, count) in entries {
        sqlx::query("INSERT INTO environment_templates (environment_id, template_id, vm_count) VALUES (?, ?, ?)")
            .bind(id)
            .bind(*template_id)
            .bind(i64::from(*count))
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

impl SqlStore {
    /// Runs one statement that must change a row (`NotFound` otherwise) and
    /// records its activity in the same transaction.
    async fn delete_row(
        &self,
        sql: &'static str,
        binds: &[i64],
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let mut query = sqlx::query(sql);
        for bind in binds {
            query = query.bind(*bind);
        }
        let result = query.execute(tx.conn()?).await.map_err(store_error)?;
        ensure_changed(result)?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }
}

#[async_trait]
impl EnvironmentRepo for SqlStore {
    async fn list(&self) -> Result<Vec<EnvironmentView>, StoreError> {
        let sql = format!("{ENVIRONMENT_SELECT} ORDER BY e.name");
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await.map_err(store_error)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(self.environment_from_row(row).await?);
        }
        Ok(out)
    }

    async fn by_id(&self, id: i64) -> Result<Option<EnvironmentView>, StoreError> {
        let sql = format!("{ENVIRONMENT_SELECT} WHERE e.id = ?");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await.map_err(store_error)?;
        match row {
            Some(row) => Ok(Some(self.environment_from_row(&row).await?)),
            None => Ok(None),
        }
    }

    async fn insert(
        &self,
        name: &str,
        description: &str,
        entries: &[(i64, u32)],
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO environments (name, description, created_at) VALUES (?, ?, ?) RETURNING id",
        )
        .bind(name.to_string())
        .bind(description.to_string())
        .bind(at.millis())
        .fetch_one(tx.conn()?)
        .await
        .map_err(store_error)?;
        write_entries(tx.conn()?, id, entries).await?;
        activities::append(tx.conn()?, activity, Some(id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update(
        &self,
        id: i64,
        name: &str,
        description: &str,
        entries: &[(i64, u32)],
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let result = sqlx::query("UPDATE environments SET name = ?, description = ? WHERE id = ?")
            .bind(name.to_string())
            .bind(description.to_string())
            .bind(id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        ensure_changed(result)?;
        write_entries(tx.conn()?, id, entries).await?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }

    async fn delete(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError> {
        self.delete_row("DELETE FROM environments WHERE id = ?", &[id], activity).await
    }
}

// ------------------------------------------------------------------- events

const EVENT_SELECT: &str = "SELECT e.id, e.name, e.short_name, e.description, e.environment_id, \
     env.name AS environment_name, e.starts_at, e.ends_at, e.status, e.failure_reason, \
     (SELECT COUNT(*) FROM event_participants c WHERE c.event_id = e.id) AS participant_count, \
     (SELECT p.role FROM event_participants p WHERE p.event_id = e.id AND p.user_id = ?) AS my_role \
     FROM events e JOIN environments env ON env.id = e.environment_id";

fn event_from_row(row: &AnyRow) -> Result<EventView, StoreError> {
    let status: String = get(row, "status")?;
    let my_role: Option<String> = get(row, "my_role")?;
    let ends_at: Option<i64> = get(row, "ends_at")?;
    Ok(EventView {
        id: get(row, "id")?,
        name: get(row, "name")?,
        short_name: get(row, "short_name")?,
        description: get(row, "description")?,
        environment_id: get(row, "environment_id")?,
        environment_name: get(row, "environment_name")?,
        starts_at: Timestamp(get(row, "starts_at")?),
        ends_at: ends_at.map(Timestamp),
        status: EventStatus::from_key(&status).ok_or_else(|| corrupt("event status", &status))?,
        failure_reason: get(row, "failure_reason")?,
        participant_count: get_u64(row, "participant_count")?,
        my_role: match my_role {
            Some(key) => Some(EventRole::from_key(&key).ok_or_else(|| corrupt("event role", &key))?),
            None => None,
        },
    })
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

async fn put_participant(
    tx: &mut sqlx::AnyConnection,
    event_id: i64,
    user_id: i64,
    role: EventRole,
) -> Result<bool, StoreError> {
    let existing: Option<String> =
        sqlx::query_scalar("SELECT role FROM event_participants WHERE event_id = ? AND user_id = ?")
            .bind(event_id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
    match existing {
        Some(current) if current == role.key() => Ok(false),
        Some(_) => {
            sqlx::query("UPDATE event_participants SET role = ? WHERE event_id = ? AND user_id = ?")
                .bind(role.key())
                .bind(event_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
            Ok(false)
        }
        None => {
            sqlx::query("INSERT INTO event_participants (event_id, user_id, role, event_admin) VALUES (?, ?, ?, 0)")
                .bind(event_id)
                .bind(user_id)
                .bind(role.key())
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
            Ok(true)
        }
    }
}

#[async_trait]
impl EventRepo for SqlStore {
    async fn insert(
        &self,
        event: &EventFields,
        created_by: i64,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO events (name, short_name, active_short_name, description, environment_id, starts_at, \
             ends_at, status, failure_reason, created_by, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 'planned', NULL, ?, ?) RETURNING id",
        )
        .bind(event.name.clone())
        .bind(event.short_name.clone())
        .bind(event.short_name.clone())
        .bind(event.description.clone())
        .bind(event.environment_id)
        .bind(event.starts_at.millis())
        .bind(event.ends_at.map(Timestamp::millis))
        .bind(created_by)
        .bind(at.millis())
        .fetch_one(tx.conn()?)
        .await
        .map_err(store_error)?;
        activities::append(tx.conn()?, activity, Some(id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update_planned(
        &self,
        id: i64,
        event: &EventFields,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let result = sqlx::query(
            "UPDATE events SET name = ?, short_name = ?, active_short_name = ?, description = ?, environment_id = ?, \
             starts_at = ?, ends_at = ? WHERE id = ? AND status = 'planned'",
        )
        .bind(event.name.clone())
        .bind(event.short_name.clone())
        .bind(event.short_name.clone())
        .bind(event.description.clone())
        .bind(event.environment_id)
        .bind(event.starts_at.millis())
        .bind(event.ends_at.map(Timestamp::millis))
        .bind(id)
        .execute(tx.conn()?)
        .await
        .map_err(store_error)?;
        ensure_changed(result)?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }

    async fn by_id(&self, id: i64, viewer: i64) -> Result<Option<EventView>, StoreError> {
        let sql = format!("{EVENT_SELECT} WHERE e.id = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(viewer)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.as_ref().map(event_from_row).transpose()
    }

    async fn list(&self, query: &EventQuery, viewer: i64, page: PageRequest) -> Result<Page<EventView>, StoreError> {
        let mut filters = Vec::new();
        let mut binds: Vec<i64> = Vec::new();
        let statuses: Vec<&str> = query.statuses.iter().map(|s| s.key()).collect();
        if !statuses.is_empty() {
            filters.push(format!("e.status IN ({})", placeholders(statuses.len())));
        }
        if let Some(member) = query.member {
            filters
                .push("EXISTS (SELECT 1 FROM event_participants m WHERE m.event_id = e.id AND m.user_id = ?)".into());
            binds.push(member);
        }
        let filter = if filters.is_empty() { String::new() } else { format!(" WHERE {}", filters.join(" AND ")) };
        let count_sql = format!("SELECT COUNT(*) FROM events e{filter}");
        let mut count = sqlx::query_scalar::<_, i64>(AssertSqlSafe(count_sql));
        for s in &statuses {
            count = count.bind(s.to_string());
        }
        for b in &binds {
            count = count.bind(*b);
        }
        let total = count.fetch_one(&self.pool).await.map_err(store_error)?;
        // Finished events newest first; the others in the order they start.
        let order = if query.statuses == [EventStatus::Finished] { "DESC" } else { "ASC" };
        let sql = format!("{EVENT_SELECT}{filter} ORDER BY e.starts_at {order}, e.id LIMIT ? OFFSET ?");
        let mut rows = sqlx::query(AssertSqlSafe(sql)).bind(viewer);
        for s in &statuses {
            rows = rows.bind(s.to_string());
        }
        for b in &binds {
            rows = rows.bind(*b);
        }
        let rows = rows
            .bind(i64::from(page.per_page()))
            .bind(i64::try_from(page.offset()).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(Page {
            items: rows.iter().map(event_from_row).collect::<Result<_, _>>()?,
            total: u64::try_from(total).unwrap_or(0),
            page: page.page(),
            per_page: page.per_page(),
        })
    }

    async fn needing_schedule(
        &self,
        planned_until: Timestamp,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<EventView>, StoreError> {
        let sql = format!(
            "{EVENT_SELECT} WHERE e.id > ? AND e.status <> 'finished' \
             AND (e.status <> 'planned' OR e.starts_at <= ?) ORDER BY e.id LIMIT ?"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(0_i64)
            .bind(after_id)
            .bind(planned_until.millis())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter().map(event_from_row).collect()
    }

    async fn overlapping(&self, id: i64) -> Result<Vec<EventView>, StoreError> {
        let sql = format!(
            "{EVENT_SELECT} JOIN events mine ON mine.id = ? WHERE e.id <> mine.id AND e.status <> 'finished' \
             AND (mine.ends_at IS NULL OR e.starts_at < mine.ends_at) \
             AND (e.ends_at IS NULL OR mine.starts_at < e.ends_at) \
             AND EXISTS (SELECT 1 FROM event_participants a JOIN event_participants b ON b.user_id = a.user_id \
             WHERE a.event_id = mine.id AND b.event_id = e.id AND a.role = 'student' AND b.role = 'student') \
             ORDER BY e.starts_at, e.id"
        );
        let rows =
            sqlx::query(AssertSqlSafe(sql)).bind(0_i64).bind(id).fetch_all(&self.pool).await.map_err(store_error)?;
        rows.iter().map(event_from_row).collect()
    }

    async fn count_during(&self, from: Timestamp, until: Timestamp) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM events WHERE status <> 'finished' AND starts_at < ? \
             AND (ends_at IS NULL OR ends_at > ?)",
        )
        .bind(until.millis())
        .bind(from.millis())
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn delete(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError> {
        self.delete_row("DELETE FROM events WHERE id = ?", &[id], activity).await
    }

    async fn set_status(
        &self,
        id: i64,
        from: EventStatus,
        to: EventStatus,
        failure_reason: Option<&str>,
        activity: Option<&Activity>,
    ) -> Result<bool, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let result = sqlx::query(
            "UPDATE events SET status = ?, failure_reason = ?, \
             active_short_name = CASE WHEN ? = 1 THEN short_name ELSE NULL END WHERE id = ? AND status = ?",
        )
        .bind(to.key())
        .bind(failure_reason.map(str::to_string))
        .bind(i64::from(to.holds_short_name()))
        .bind(id)
        .bind(from.key())
        .execute(tx.conn()?)
        .await
        .map_err(store_error)?;
        if result.rows_affected() == 0 {
            // Another process moved it first: its move is the one recorded.
            return Ok(false);
        }
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn begin_deployment(&self, id: i64, activity: Option<&Activity>) -> Result<bool, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let moved = sqlx::query("UPDATE events SET status = 'deploying' WHERE id = ? AND status = 'planned'")
            .bind(id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        if moved.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM event_templates WHERE event_id = ?")
            .bind(id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        sqlx::query(
            "INSERT INTO event_templates (event_id, template_id, name, operating_system, proxmox_vmid, node, cores, \
             memory_mib, disk_gib, linked_clone, console, vm_count) \
             SELECT ev.id, t.id, t.name, t.operating_system, t.proxmox_vmid, t.node, t.cores, t.memory_mib, \
             t.disk_gib, t.linked_clone, t.console, et.vm_count \
             FROM events ev JOIN environment_templates et ON et.environment_id = ev.environment_id \
             JOIN vm_templates t ON t.id = et.template_id WHERE ev.id = ?",
        )
        .bind(id)
        .execute(tx.conn()?)
        .await
        .map_err(store_error)?;
        sqlx::query("DELETE FROM event_connection_templates WHERE event_id = ?")
            .bind(id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        sqlx::query(
            "INSERT INTO event_connection_templates (event_id, template_id, protocol, port, username, \
             password_sealed, rdp_security, ignore_cert) \
             SELECT ev.id, c.template_id, c.protocol, c.port, c.username, c.password_sealed, c.rdp_security, \
             c.ignore_cert FROM events ev JOIN environment_templates et ON et.environment_id = ev.environment_id \
             JOIN connection_templates c ON c.template_id = et.template_id WHERE ev.id = ? ORDER BY c.id",
        )
        .bind(id)
        .execute(tx.conn()?)
        .await
        .map_err(store_error)?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn return_to_planning(&self, id: i64, activity: Option<&Activity>) -> Result<Replanning, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let moved = sqlx::query(
            "UPDATE events SET status = 'planned', failure_reason = NULL WHERE id = ? AND status = 'failed'",
        )
        .bind(id)
        .execute(tx.conn()?)
        .await
        .map_err(store_error)?;
        if moved.rows_affected() == 0 {
            return Ok(Replanning::NotFailed);
        }
        sqlx::query("DELETE FROM vms WHERE event_id = ? AND vmid IS NULL")
            .bind(id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        // Dropping the transaction undoes the move: those VMs need the event's end.
        let on_cluster: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vms WHERE event_id = ?")
            .bind(id)
            .fetch_one(tx.conn()?)
            .await
            .map_err(store_error)?;
        if on_cluster > 0 {
            return Ok(Replanning::HasVms);
        }
        for snapshot in [
            "DELETE FROM event_templates WHERE event_id = ?",
            "DELETE FROM event_connection_templates WHERE event_id = ?",
        ] {
            sqlx::query(snapshot).bind(id).execute(tx.conn()?).await.map_err(store_error)?;
        }
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await?;
        Ok(Replanning::Done)
    }

    async fn snapshot(&self, id: i64) -> Result<Vec<SnapshotTemplate>, StoreError> {
        let rows = sqlx::query(
            "SELECT template_id, name, operating_system, proxmox_vmid, node, cores, memory_mib, disk_gib, \
             linked_clone, console, vm_count FROM event_templates WHERE event_id = ? ORDER BY name",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter()
            .map(|row| {
                let linked: i64 = get(row, "linked_clone")?;
                Ok(SnapshotTemplate {
                    template_id: get(row, "template_id")?,
                    name: get(row, "name")?,
                    operating_system: get(row, "operating_system")?,
                    proxmox_vmid: get_u32(row, "proxmox_vmid")?,
                    node: get(row, "node")?,
                    cores: get_u32(row, "cores")?,
                    memory_mib: get_u32(row, "memory_mib")?,
                    disk_gib: get_u32(row, "disk_gib")?,
                    linked_clone: linked != 0,
                    console: console(row)?,
                    count: get_u32(row, "vm_count")?,
                })
            })
            .collect()
    }

    async fn participants(&self, id: i64) -> Result<Vec<ParticipantView>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.username, u.name, u.email, p.role, p.event_admin FROM event_participants p \
             JOIN users u ON u.id = p.user_id WHERE p.event_id = ? ORDER BY p.role, u.username",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter()
            .map(|row| {
                let role: String = get(row, "role")?;
                let admin: i64 = get(row, "event_admin")?;
                Ok(ParticipantView {
                    user_id: get(row, "id")?,
                    username: get(row, "username")?,
                    name: get(row, "name")?,
                    email: get(row, "email")?,
                    role: EventRole::from_key(&role).ok_or_else(|| corrupt("event role", &role))?,
                    event_admin: admin != 0,
                })
            })
            .collect()
    }

    async fn role_of(&self, id: i64, user_id: i64) -> Result<Option<EventRole>, StoreError> {
        let role: Option<String> =
            sqlx::query_scalar("SELECT role FROM event_participants WHERE event_id = ? AND user_id = ?")
                .bind(id)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
        role.map(|key| EventRole::from_key(&key).ok_or_else(|| corrupt("event role", &key))).transpose()
    }

    async fn put_participants(
        &self,
        id: i64,
        members: &[(i64, EventRole)],
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        for (user_id, role) in members {
            put_participant(tx.conn()?, id, *user_id, *role).await?;
        }
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }

    async fn remove_participant(&self, id: i64, user_id: i64, activity: Option<&Activity>) -> Result<(), StoreError> {
        self.delete_row("DELETE FROM event_participants WHERE event_id = ? AND user_id = ?", &[id, user_id], activity)
            .await
    }

    async fn set_event_admin(
        &self,
        id: i64,
        user_id: i64,
        event_admin: bool,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        sqlx::query("UPDATE event_participants SET event_admin = ? WHERE event_id = ? AND user_id = ?")
            .bind(i64::from(event_admin))
            .bind(id)
            .bind(user_id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }

    async fn import_roster(
        &self,
        id: i64,
        rows: &[RosterRow],
        role_id: i64,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<RosterOutcome, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let mut outcome = RosterOutcome { users_created: 0, participants_added: 0 };
        for row in rows {
            let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE username = ?")
                .bind(row.username.clone())
                .fetch_optional(tx.conn()?)
                .await
                .map_err(store_error)?;
            let user_id = match existing {
                Some(user_id) => user_id,
                None => {
                    let user_id: i64 = sqlx::query_scalar(
                        "INSERT INTO users (username, name, email, language, status, auth_backend, password_hash, \
                         created_at, last_login_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, NULL) RETURNING id",
                    )
                    .bind(row.username.clone())
                    .bind(row.name.clone())
                    .bind(row.email.clone())
                    .bind(row.language.code())
                    .bind(UserStatus::EmailPending.key())
                    .bind(AuthBackend::Internal.key())
                    .bind(at.millis())
                    .fetch_one(tx.conn()?)
                    .await
                    .map_err(store_error)?;
                    sqlx::query("INSERT INTO user_roles (user_id, role_id) VALUES (?, ?)")
                        .bind(user_id)
                        .bind(role_id)
                        .execute(tx.conn()?)
                        .await
                        .map_err(store_error)?;
                    outcome.users_created += 1;
                    user_id
                }
            };
            if put_participant(tx.conn()?, id, user_id, row.role).await? {
                outcome.participants_added += 1;
            }
        }
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn instructed_by(&self, user_id: i64) -> Result<Vec<i64>, StoreError> {
        sqlx::query_scalar("SELECT event_id FROM event_participants WHERE user_id = ? AND role = ? ORDER BY event_id")
            .bind(user_id)
            .bind(EventRole::Instructor.key())
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)
    }
}

// ------------------------------------------------------------------- groups

const GROUP_SELECT: &str = "SELECT g.id, g.name, g.description, \
     (SELECT COUNT(*) FROM user_group_members m WHERE m.group_id = g.id) AS member_count FROM user_groups g";

fn group_from_row(row: &AnyRow) -> Result<GroupView, StoreError> {
    Ok(GroupView {
        id: get(row, "id")?,
        name: get(row, "name")?,
        description: get(row, "description")?,
        member_count: get_u64(row, "member_count")?,
    })
}

#[async_trait]
impl GroupRepo for SqlStore {
    async fn list(&self) -> Result<Vec<GroupView>, StoreError> {
        let sql = format!("{GROUP_SELECT} ORDER BY g.name");
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await.map_err(store_error)?;
        rows.iter().map(group_from_row).collect()
    }

    async fn by_id(&self, id: i64) -> Result<Option<GroupView>, StoreError> {
        let sql = format!("{GROUP_SELECT} WHERE g.id = ?");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await.map_err(store_error)?;
        row.as_ref().map(group_from_row).transpose()
    }

    async fn insert(&self, name: &str, description: &str, activity: Option<&Activity>) -> Result<i64, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let id: i64 = sqlx::query_scalar("INSERT INTO user_groups (name, description) VALUES (?, ?) RETURNING id")
            .bind(name.to_string())
            .bind(description.to_string())
            .fetch_one(tx.conn()?)
            .await
            .map_err(store_error)?;
        activities::append(tx.conn()?, activity, Some(id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn delete(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError> {
        self.delete_row("DELETE FROM user_groups WHERE id = ?", &[id], activity).await
    }

    async fn members(&self, id: i64) -> Result<Vec<(i64, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.username FROM user_group_members m JOIN users u ON u.id = m.user_id \
             WHERE m.group_id = ? ORDER BY u.username",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter().map(|row| Ok((get(row, "id")?, get(row, "username")?))).collect()
    }

    async fn add_member(&self, id: i64, user_id: i64, activity: Option<&Activity>) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        // Portable "insert unless present": adding a member twice keeps one
        // membership (and a refused duplicate would end the transaction on MariaDB).
        sqlx::query(
            "INSERT INTO user_group_members (group_id, user_id) SELECT ?, ? FROM user_groups WHERE id = ? \
             AND NOT EXISTS (SELECT 1 FROM user_group_members WHERE group_id = ? AND user_id = ?)",
        )
        .bind(id)
        .bind(user_id)
        .bind(id)
        .bind(id)
        .bind(user_id)
        .execute(tx.conn()?)
        .await
        .map_err(store_error)?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }

    async fn remove_member(&self, id: i64, user_id: i64, activity: Option<&Activity>) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        sqlx::query("DELETE FROM user_group_members WHERE group_id = ? AND user_id = ?")
            .bind(id)
            .bind(user_id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }
}

// ---------------------------------------------------------------------- VMs

const VM_SELECT: &str = "SELECT v.id, v.event_id, e.name AS event_name, e.short_name AS event_short_name, \
     v.owner_id, u.username AS owner_username, v.template_id, \
     COALESCE((SELECT s.name FROM event_templates s WHERE s.event_id = v.event_id AND s.template_id = v.template_id), \
     '') AS template_name, \
     COALESCE((SELECT s.console FROM event_templates s WHERE s.event_id = v.event_id \
     AND s.template_id = v.template_id), 'builtin') AS console, \
     (SELECT s.cores FROM event_templates s WHERE s.event_id = v.event_id AND s.template_id = v.template_id) AS cores, \
     (SELECT s.memory_mib FROM event_templates s WHERE s.event_id = v.event_id AND s.template_id = v.template_id) \
     AS memory_mib, v.ordinal, v.name, v.vmid, v.node, v.state, v.ip, v.last_error, v.updated_at \
     FROM vms v JOIN events e ON e.id = v.event_id JOIN users u ON u.id = v.owner_id";

fn vm_from_row(row: &AnyRow) -> Result<VmView, StoreError> {
    let state: String = get(row, "state")?;
    let vmid: Option<i64> = get(row, "vmid")?;
    Ok(VmView {
        id: get(row, "id")?,
        event_id: get(row, "event_id")?,
        event_name: get(row, "event_name")?,
        event_short_name: get(row, "event_short_name")?,
        owner_id: get(row, "owner_id")?,
        owner_username: get(row, "owner_username")?,
        template_id: get(row, "template_id")?,
        template_name: get(row, "template_name")?,
        console: console(row)?,
        name: get(row, "name")?,
        ordinal: get_u32(row, "ordinal")?,
        cores: get::<Option<i64>>(row, "cores")?.and_then(|v| u32::try_from(v).ok()),
        memory_mib: get::<Option<i64>>(row, "memory_mib")?.and_then(|v| u32::try_from(v).ok()),
        vmid: vmid.map(|v| u32::try_from(v).map_err(|_| corrupt("vmid", &v.to_string()))).transpose()?,
        node: get(row, "node")?,
        state: VmState::from_key(&state).ok_or_else(|| corrupt("VM state", &state))?,
        ip: get(row, "ip")?,
        last_error: get(row, "last_error")?,
        updated_at: Timestamp(get(row, "updated_at")?),
        // Live from the cluster, filled in by the VM use cases.
        uptime_secs: None,
    })
}

enum Bind {
    Int(i64),
    Text(String),
}

#[async_trait]
impl VmRepo for SqlStore {
    async fn plan(&self, event_id: i64, vms: &[NewVm], at: Timestamp) -> Result<Vec<VmView>, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        for vm in vms.iter().filter(|vm| vm.event_id == event_id) {
            // Portable "insert unless present" (MariaDB and SQLite spell INSERT IGNORE differently).
            sqlx::query(
                "INSERT INTO vms (event_id, owner_id, template_id, ordinal, name, vmid, node, state, ip, last_error, \
                 created_at, updated_at) SELECT ?, ?, ?, ?, ?, NULL, NULL, 'pending', NULL, NULL, ?, ? FROM events \
                 WHERE id = ? AND NOT EXISTS (SELECT 1 FROM vms WHERE event_id = ? AND owner_id = ? \
                 AND template_id = ? AND ordinal = ?)",
            )
            .bind(vm.event_id)
            .bind(vm.owner_id)
            .bind(vm.template_id)
            .bind(i64::from(vm.ordinal))
            .bind(vm.name.clone())
            .bind(at.millis())
            .bind(at.millis())
            .bind(vm.event_id)
            .bind(vm.event_id)
            .bind(vm.owner_id)
            .bind(vm.template_id)
            .bind(i64::from(vm.ordinal))
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        }
        tx.commit().await?;
        let sql = format!("{VM_SELECT} WHERE v.event_id = ? ORDER BY v.id");
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(event_id).fetch_all(&self.pool).await.map_err(store_error)?;
        rows.iter().map(vm_from_row).collect()
    }

    async fn by_id(&self, id: i64) -> Result<Option<VmView>, StoreError> {
        let sql = format!("{VM_SELECT} WHERE v.id = ?");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await.map_err(store_error)?;
        row.as_ref().map(vm_from_row).transpose()
    }

    async fn list(&self, query: &VmQuery, page: PageRequest) -> Result<Page<VmView>, StoreError> {
        let mut filters: Vec<&str> = Vec::new();
        let mut binds: Vec<Bind> = Vec::new();
        if let Some(event_id) = query.event_id {
            filters.push("v.event_id = ?");
            binds.push(Bind::Int(event_id));
        }
        if let Some(owner_id) = query.owner_id {
            filters.push("v.owner_id = ?");
            binds.push(Bind::Int(owner_id));
        }
        if let Some(username) = &query.owner_username {
            filters.push("v.owner_id = (SELECT o.id FROM users o WHERE o.username = ?)");
            binds.push(Bind::Text(username.clone()));
        }
        if let Some(node) = &query.node {
            filters.push("v.node = ?");
            binds.push(Bind::Text(node.clone()));
        }
        if let Some(state) = query.state {
            filters.push("v.state = ?");
            binds.push(Bind::Text(state.key().to_string()));
        }
        if let Some(viewer) = query.visible_to {
            filters.push(
                "(v.owner_id = ? OR EXISTS (SELECT 1 FROM event_participants p WHERE p.event_id = v.event_id \
                 AND p.user_id = ? AND p.role = 'instructor'))",
            );
            binds.push(Bind::Int(viewer));
            binds.push(Bind::Int(viewer));
        }
        if let Some(tag) = &query.tag {
            filters.push(if tag.value.is_some() {
                "EXISTS (SELECT 1 FROM vm_tags t WHERE t.vm_id = v.id AND t.name = ? AND t.value = ?)"
            } else {
                "EXISTS (SELECT 1 FROM vm_tags t WHERE t.vm_id = v.id AND t.name = ?)"
            });
            binds.push(Bind::Text(tag.name.clone()));
            binds.extend(tag.value.clone().map(Bind::Text));
        }
        let filter = if filters.is_empty() { String::new() } else { format!(" WHERE {}", filters.join(" AND ")) };
        let count_sql = format!("SELECT COUNT(*) FROM vms v{filter}");
        let mut count = sqlx::query_scalar::<_, i64>(AssertSqlSafe(count_sql));
        for b in &binds {
            count = match b {
                Bind::Int(i) => count.bind(*i),
                Bind::Text(s) => count.bind(s.clone()),
            };
        }
        let total = count.fetch_one(&self.pool).await.map_err(store_error)?;
        let sql = format!("{VM_SELECT}{filter} ORDER BY e.starts_at, v.event_id, u.username, v.name LIMIT ? OFFSET ?");
        let mut rows = sqlx::query(AssertSqlSafe(sql));
        for b in &binds {
            rows = match b {
                Bind::Int(i) => rows.bind(*i),
                Bind::Text(s) => rows.bind(s.clone()),
            };
        }
        let rows = rows
            .bind(i64::from(page.per_page()))
            .bind(i64::try_from(page.offset()).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(Page {
            items: rows.iter().map(vm_from_row).collect::<Result<_, _>>()?,
            total: u64::try_from(total).unwrap_or(0),
            page: page.page(),
            per_page: page.per_page(),
        })
    }

    async fn update(
        &self,
        id: i64,
        update: &VmUpdate,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let result = sqlx::query(
            "UPDATE vms SET vmid = ?, node = ?, state = ?, ip = ?, last_error = ?, updated_at = ? WHERE id = ?",
        )
        .bind(update.vmid.map(i64::from))
        .bind(update.node.clone())
        .bind(update.state.key())
        .bind(update.ip.clone())
        .bind(update.last_error.clone())
        .bind(at.millis())
        .bind(id)
        .execute(tx.conn()?)
        .await
        .map_err(store_error)?;
        ensure_changed(result)?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }

    async fn delete(&self, id: i64) -> Result<(), StoreError> {
        let result =
            sqlx::query("DELETE FROM vms WHERE id = ?").bind(id).execute(&self.pool).await.map_err(store_error)?;
        ensure_changed(result)
    }

    async fn nodes(&self) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar("SELECT DISTINCT node FROM vms WHERE node IS NOT NULL ORDER BY node")
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)
    }
}
