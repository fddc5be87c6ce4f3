use async_trait::async_trait;
use domain::activity::Activity;
use domain::page::{Page, PageRequest};
use domain::task::{Queue, TaskStatus};
use domain::time::Timestamp;
use services::StoreError;
use services::jobs::{NewTask, SubTaskRecord, TaskFilter, TaskRecord, TaskRepo};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::{SqlStore, Tx, activities, corrupt, store_error};

const TASK_COLUMNS: &str = "id, kind, name, queue, status, payload, event_id, parent_id, created_by, created_at, \
     updated_at, attempts, max_attempts, last_error, next_run_at, lease_owner, lease_until, request_id";

fn status(raw: &str) -> Result<TaskStatus, StoreError> {
    TaskStatus::from_key(raw).ok_or_else(|| corrupt("task status", raw))
}

fn task_from_row(row: &AnyRow) -> Result<TaskRecord, StoreError> {
    let get = |c: &str| row.try_get::<String, _>(c).map_err(store_error);
    let opt_i64 = |c: &str| row.try_get::<Option<i64>, _>(c).map_err(store_error);
    let queue = get("queue")?;
    Ok(TaskRecord {
        id: row.try_get("id").map_err(store_error)?,
        kind: get("kind")?,
        name: get("name")?,
        queue: Queue::from_key(&queue).ok_or_else(|| corrupt("queue", &queue))?,
        status: status(&get("status")?)?,
        payload: get("payload")?,
        event_id: opt_i64("event_id")?,
        parent_id: opt_i64("parent_id")?,
        created_by: opt_i64("created_by")?,
        created_at: Timestamp(row.try_get("created_at").map_err(store_error)?),
        updated_at: Timestamp(row.try_get("updated_at").map_err(store_error)?),
        attempts: row.try_get("attempts").map_err(store_error)?,
        max_attempts: row.try_get("max_attempts").map_err(store_error)?,
        last_error: row.try_get("last_error").map_err(store_error)?,
        next_run_at: opt_i64("next_run_at")?.map(Timestamp),
        lease_owner: row.try_get("lease_owner").map_err(store_error)?,
        lease_until: opt_i64("lease_until")?.map(Timestamp),
        request_id: row.try_get("request_id").map_err(store_error)?,
    })
}

/// Error texts come from other systems; keep them readable and bounded.
fn clip(error: Option<&str>) -> Option<String> {
    error.map(|e| e.chars().take(2000).collect())
}

/// Writes a queued task and its steps on `conn`, inside the caller's
/// transaction (the task, or a change whose job must exist with it: a
/// queued mail). `None`: a task with the same idempotency key exists.
pub(super) async fn insert(conn: &mut sqlx::AnyConnection, task: &NewTask) -> Result<Option<i64>, StoreError> {
    let inserted: Result<i64, StoreError> = sqlx::query_scalar(
        "INSERT INTO tasks (kind, name, queue, status, payload, event_id, parent_id, created_by, created_at, \
         updated_at, attempts, max_attempts, handed_at, idempotency_key, request_id) \
         VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?) RETURNING id",
    )
    .bind(task.kind.clone())
    .bind(task.name.clone())
    .bind(task.queue.key())
    .bind(task.payload.clone())
    .bind(task.event_id)
    .bind(task.parent_id)
    .bind(task.created_by)
    .bind(task.created_at.millis())
    .bind(task.created_at.millis())
    .bind(task.max_attempts)
    .bind(task.created_at.millis())
    .bind(task.idempotency_key.clone())
    .bind(task.request_id.clone())
    .fetch_one(&mut *conn)
    .await
    .map_err(store_error);
    let id = match inserted {
        Ok(id) => id,
        Err(StoreError::Duplicate(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    for (position, action) in task.steps.iter().enumerate() {
        sqlx::query(
            "INSERT INTO subtasks (task_id, position, action, status, attempts, updated_at) \
             VALUES (?, ?, ?, 'queued', 0, ?)",
        )
        .bind(id)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(action.clone())
        .bind(task.created_at.millis())
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    }
    Ok(Some(id))
}

#[async_trait]
impl TaskRepo for SqlStore {
    async fn create(&self, task: &NewTask, activity: Option<&Activity>) -> Result<Option<i64>, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let Some(id) = insert(tx.conn()?, task).await? else { return Ok(None) };
        activities::append(tx.conn()?, activity, Some(id)).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    async fn get(&self, id: i64) -> Result<Option<TaskRecord>, StoreError> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?");
        sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .as_ref()
            .map(task_from_row)
            .transpose()
    }

    async fn subtasks(&self, id: i64) -> Result<Vec<SubTaskRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, task_id, position, action, status, attempts, last_error, updated_at FROM subtasks \
             WHERE task_id = ? ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter()
            .map(|row| {
                let raw: String = row.try_get("status").map_err(store_error)?;
                Ok(SubTaskRecord {
                    id: row.try_get("id").map_err(store_error)?,
                    task_id: row.try_get("task_id").map_err(store_error)?,
                    position: row.try_get("position").map_err(store_error)?,
                    action: row.try_get("action").map_err(store_error)?,
                    status: status(&raw)?,
                    attempts: row.try_get("attempts").map_err(store_error)?,
                    last_error: row.try_get("last_error").map_err(store_error)?,
                    updated_at: Timestamp(row.try_get("updated_at").map_err(store_error)?),
                })
            })
            .collect()
    }

    async fn children_progress(&self, id: i64) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS total, \
             COALESCE(SUM(CASE WHEN status IN ('success', 'failed', 'cancelled') THEN 1 ELSE 0 END), 0) AS done \
             FROM tasks WHERE parent_id = ?",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        // MariaDB sums into DECIMAL; cast through the text form both dialects share.
        let done: i64 = match row.try_get::<i64, _>("done") {
            Ok(n) => n,
            Err(_) => row
                .try_get::<String, _>("done")
                .ok()
                .and_then(|s| s.split('.').next().and_then(|n| n.parse().ok()))
                .unwrap_or(0),
        };
        Ok((done, row.try_get("total").map_err(store_error)?))
    }

    async fn list(&self, filter: &TaskFilter, page: PageRequest) -> Result<Page<TaskRecord>, StoreError> {
        // Only fixed fragments are concatenated; every value is bound.
        let mut conditions: Vec<&str> = Vec::new();
        let mut binds: Vec<Bind> = Vec::new();
        if let Some(s) = filter.status {
            conditions.push("status = ?");
            binds.push(Bind::Text(s.key().to_string()));
        }
        if let Some(user) = filter.created_by {
            conditions.push("created_by = ?");
            binds.push(Bind::Int(user));
        }
        if let Some(event) = filter.event_id {
            conditions.push("event_id = ?");
            binds.push(Bind::Int(event));
        }
        if let Some(since) = filter.since {
            conditions.push("created_at >= ?");
            binds.push(Bind::Int(since.millis()));
        }
        if filter.top_level_only {
            conditions.push("parent_id IS NULL");
        }
        let filter_sql =
            if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
        let mut count = sqlx::query_scalar::<_, i64>(AssertSqlSafe(format!("SELECT COUNT(*) FROM tasks{filter_sql}")));
        for b in &binds {
            count = match b {
                Bind::Text(t) => count.bind(t.clone()),
                Bind::Int(i) => count.bind(*i),
            };
        }
        let total = count.fetch_one(&self.pool).await.map_err(store_error)?;
        let sql = format!("SELECT {TASK_COLUMNS} FROM tasks{filter_sql} ORDER BY id DESC LIMIT ? OFFSET ?");
        let mut list = sqlx::query(AssertSqlSafe(sql));
        for b in binds {
            list = match b {
                Bind::Text(t) => list.bind(t),
                Bind::Int(i) => list.bind(i),
            };
        }
        let rows = list
            .bind(i64::from(page.per_page()))
            .bind(i64::try_from(page.offset()).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(Page {
            items: rows.iter().map(task_from_row).collect::<Result<_, _>>()?,
            total: u64::try_from(total).unwrap_or(0),
            page: page.page(),
            per_page: page.per_page(),
        })
    }

    async fn claim(&self, id: i64, owner: &str, now: Timestamp, lease_until: Timestamp) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE tasks SET status = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1, \
             next_run_at = NULL, updated_at = ? \
             WHERE id = ? AND ((status = 'queued' AND (next_run_at IS NULL OR next_run_at <= ?)) \
             OR (status = 'running' AND lease_until < ?))",
        )
        .bind(owner.to_string())
        .bind(lease_until.millis())
        .bind(now.millis())
        .bind(id)
        .bind(now.millis())
        .bind(now.millis())
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(result.rows_affected() == 1)
    }

    async fn extend_lease(&self, id: i64, owner: &str, lease_until: Timestamp) -> Result<bool, StoreError> {
        let result =
            sqlx::query("UPDATE tasks SET lease_until = ? WHERE id = ? AND lease_owner = ? AND status = 'running'")
                .bind(lease_until.millis())
                .bind(id)
                .bind(owner.to_string())
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
        Ok(result.rows_affected() == 1)
    }

    async fn set_subtask(
        &self,
        task_id: i64,
        position: i64,
        status: TaskStatus,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        // Starting a step counts an attempt of that step.
        let started = i64::from(status == TaskStatus::Running);
        sqlx::query(
            "UPDATE subtasks SET status = ?, last_error = ?, attempts = attempts + ?, updated_at = ? \
             WHERE task_id = ? AND position = ?",
        )
        .bind(status.key())
        .bind(clip(error))
        .bind(started)
        .bind(now.millis())
        .bind(task_id)
        .bind(position)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        sqlx::query("UPDATE tasks SET updated_at = ? WHERE id = ?")
            .bind(now.millis())
            .bind(task_id)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn finish(
        &self,
        id: i64,
        owner: &str,
        status: TaskStatus,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE tasks SET status = ?, last_error = ?, lease_owner = NULL, lease_until = NULL, next_run_at = NULL, \
             updated_at = ? WHERE id = ? AND lease_owner = ?",
        )
        .bind(status.key())
        .bind(clip(error))
        .bind(now.millis())
        .bind(id)
        .bind(owner.to_string())
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn requeue(
        &self,
        id: i64,
        owner: &str,
        next_run_at: Timestamp,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE tasks SET status = 'queued', next_run_at = ?, last_error = ?, lease_owner = NULL, \
             lease_until = NULL, handed_at = ?, updated_at = ? WHERE id = ? AND lease_owner = ?",
        )
        .bind(next_run_at.millis())
        .bind(clip(error))
        .bind(now.millis())
        .bind(now.millis())
        .bind(id)
        .bind(owner.to_string())
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn retry(&self, id: i64, now: Timestamp, activity: Option<&Activity>) -> Result<bool, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let result = sqlx::query(
            "UPDATE tasks SET status = 'queued', attempts = 0, next_run_at = NULL, handed_at = ?, updated_at = ? \
             WHERE id = ? AND status = 'failed'",
        )
        .bind(now.millis())
        .bind(now.millis())
        .bind(id)
        .execute(tx.conn()?)
        .await
        .map_err(store_error)?;
        if result.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("UPDATE subtasks SET status = 'queued', updated_at = ? WHERE task_id = ? AND status <> 'success'")
            .bind(now.millis())
            .bind(id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn cancel(&self, id: i64, now: Timestamp, activity: Option<&Activity>) -> Result<bool, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let result =
            sqlx::query("UPDATE tasks SET status = 'cancelled', updated_at = ? WHERE id = ? AND status = 'queued'")
                .bind(now.millis())
                .bind(id)
                .execute(tx.conn()?)
                .await
                .map_err(store_error)?;
        if result.rows_affected() != 1 {
            return Ok(false);
        }
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn overdue(
        &self,
        handed_before: Timestamp,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<(i64, Queue)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, queue FROM tasks WHERE (status = 'queued' AND handed_at < ?) \
             OR (status = 'running' AND lease_until < ? AND handed_at < ?) ORDER BY id LIMIT ?",
        )
        .bind(handed_before.millis())
        .bind(now.millis())
        .bind(handed_before.millis())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let mut found = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get("id").map_err(store_error)?;
            let queue: String = row.try_get("queue").map_err(store_error)?;
            found.push((id, Queue::from_key(&queue).ok_or_else(|| corrupt("queue", &queue))?));
            sqlx::query("UPDATE tasks SET handed_at = ? WHERE id = ?")
                .bind(now.millis())
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
        }
        Ok(found)
    }
}

enum Bind {
    Text(String),
    Int(i64),
}
