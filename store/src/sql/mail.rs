use async_trait::async_trait;
use domain::Language;
use domain::UserStatus;
use domain::activity::Activity;
use domain::mail::{MailStatus, MailTemplateView, SentMailView};
use domain::page::{Page, PageRequest};
use domain::time::Timestamp;
use services::StoreError;
use services::jobs::NewTask;
use services::mail::ports::{DeliveryTask, MailRepo, NewSentMail, SentMailFilter, TemplateInput};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::like_pattern;
use super::{SqlStore, Tx, activities, corrupt, store_error, tasks};

const TEMPLATE_COLUMNS: &str = "id, name, slug, language, subject, html_body, text_body, reply_to, updated_at";
const SENT_COLUMNS: &str = "id, recipient_user_id, recipient_name, recipient_email, reply_to, subject, html_body, \
    text_body, template_id, template_name, status, answer, task_id, message_id, created_at, updated_at";

fn template_from_row(row: &AnyRow) -> Result<MailTemplateView, StoreError> {
    let language: String = row.try_get("language").map_err(store_error)?;
    Ok(MailTemplateView {
        id: row.try_get("id").map_err(store_error)?,
        name: row.try_get("name").map_err(store_error)?,
        slug: row.try_get("slug").map_err(store_error)?,
        language: Language::from_code(&language).ok_or_else(|| corrupt("language", &language))?,
        subject: row.try_get("subject").map_err(store_error)?,
        html: row.try_get("html_body").map_err(store_error)?,
        text: row.try_get("text_body").map_err(store_error)?,
        reply_to: row.try_get("reply_to").map_err(store_error)?,
        updated_at: Timestamp(row.try_get("updated_at").map_err(store_error)?),
    })
}

fn sent_from_row(row: &AnyRow) -> Result<SentMailView, StoreError> {
    let status: String = row.try_get("status").map_err(store_error)?;
    Ok(SentMailView {
        id: row.try_get("id").map_err(store_error)?,
        recipient_user_id: row.try_get("recipient_user_id").map_err(store_error)?,
        recipient_name: row.try_get("recipient_name").map_err(store_error)?,
        recipient_email: row.try_get("recipient_email").map_err(store_error)?,
        reply_to: row.try_get("reply_to").map_err(store_error)?,
        subject: row.try_get("subject").map_err(store_error)?,
        html: row.try_get("html_body").map_err(store_error)?,
        text: row.try_get("text_body").map_err(store_error)?,
        template_id: row.try_get("template_id").map_err(store_error)?,
        template_name: row.try_get("template_name").map_err(store_error)?,
        status: MailStatus::from_key(&status).ok_or_else(|| corrupt("mail status", &status))?,
        answer: row.try_get("answer").map_err(store_error)?,
        task_id: row.try_get("task_id").map_err(store_error)?,
        message_id: row.try_get("message_id").map_err(store_error)?,
        created_at: Timestamp(row.try_get("created_at").map_err(store_error)?),
        updated_at: Timestamp(row.try_get("updated_at").map_err(store_error)?),
    })
}

/// The sent-log row of `m` with its status (a queued mail gets its task
/// right after, in the same transaction).
async fn insert_sent(
    conn: &mut sqlx::AnyConnection,
    m: &NewSentMail,
    status: MailStatus,
    answer: &str,
) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO sent_mails (recipient_user_id, recipient_name, recipient_email, reply_to, subject, html_body, \
         text_body, template_id, template_name, status, answer, task_id, message_id, idempotency_key, created_at, \
         updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?) RETURNING id",
    )
    .bind(m.recipient_user_id)
    .bind(m.recipient_name.clone())
    .bind(m.recipient_email.clone())
    .bind(m.reply_to.clone())
    .bind(m.subject.clone())
    .bind(m.html.clone())
    .bind(m.text.clone())
    .bind(m.template_id)
    .bind(m.template_name.clone())
    .bind(status.key())
    .bind(answer.to_string())
    .bind(m.message_id.clone())
    .bind(m.idempotency_key.clone())
    .bind(m.created_at.millis())
    .bind(m.created_at.millis())
    .fetch_one(conn)
    .await
    .map_err(store_error)
}

async fn set_task(conn: &mut sqlx::AnyConnection, id: i64, task_id: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE sent_mails SET task_id = ? WHERE id = ?")
        .bind(task_id)
        .bind(id)
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

enum Bind {
    Text(String),
    Int(i64),
}

#[async_trait]
impl MailRepo for SqlStore {
    async fn templates(&self) -> Result<Vec<MailTemplateView>, StoreError> {
        let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM mail_templates ORDER BY name, language");
        sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?
            .iter()
            .map(template_from_row)
            .collect()
    }

    async fn template(&self, id: i64) -> Result<Option<MailTemplateView>, StoreError> {
        let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM mail_templates WHERE id = ?");
        sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .as_ref()
            .map(template_from_row)
            .transpose()
    }

    async fn template_for(&self, slug: &str, language: Language) -> Result<Option<MailTemplateView>, StoreError> {
        let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM mail_templates WHERE slug = ? AND language = ?");
        sqlx::query(AssertSqlSafe(sql))
            .bind(slug.to_string())
            .bind(language.code())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .as_ref()
            .map(template_from_row)
            .transpose()
    }

    async fn insert_template(
        &self,
        t: &TemplateInput,
        now: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO mail_templates (name, slug, language, subject, html_body, text_body, reply_to, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(t.name.clone())
        .bind(t.slug.clone())
        .bind(t.language.code())
        .bind(t.subject.clone())
        .bind(t.html.clone())
        .bind(t.text.clone())
        .bind(t.reply_to.clone())
        .bind(now.millis())
        .fetch_one(tx.conn()?)
        .await
        .map_err(store_error)?;
        activities::append(tx.conn()?, activity, Some(id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update_template(
        &self,
        id: i64,
        t: &TemplateInput,
        now: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let done = sqlx::query(
            "UPDATE mail_templates SET name = ?, slug = ?, language = ?, subject = ?, html_body = ?, text_body = ?, \
             reply_to = ?, updated_at = ? WHERE id = ?",
        )
        .bind(t.name.clone())
        .bind(t.slug.clone())
        .bind(t.language.code())
        .bind(t.subject.clone())
        .bind(t.html.clone())
        .bind(t.text.clone())
        .bind(t.reply_to.clone())
        .bind(now.millis())
        .bind(id)
        .execute(tx.conn()?)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }

    async fn delete_template(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let done = sqlx::query("DELETE FROM mail_templates WHERE id = ?")
            .bind(id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        // Deleted meanwhile by someone else: their deletion is the one recorded.
        if done.rows_affected() > 0 {
            activities::append(tx.conn()?, activity, None).await?;
        }
        tx.commit().await
    }

    async fn insert_queued(
        &self,
        m: &NewSentMail,
        delivery: DeliveryTask<'_>,
        activity: Option<&Activity>,
    ) -> Result<(i64, i64), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let id = insert_sent(tx.conn()?, m, MailStatus::Queued, "").await?;
        let task = tasks::insert(tx.conn()?, &delivery(id)?)
            .await?
            .ok_or_else(|| StoreError::Duplicate("idempotency_key".into()))?;
        set_task(tx.conn()?, id, task).await?;
        activities::append(tx.conn()?, activity, Some(id)).await?;
        tx.commit().await?;
        Ok((id, task))
    }

    async fn insert_delivered(
        &self,
        m: &NewSentMail,
        status: MailStatus,
        answer: &str,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        let id = insert_sent(tx.conn()?, m, status, answer).await?;
        activities::append(tx.conn()?, activity, Some(id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn sent_by_key(&self, key: &str) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT id FROM sent_mails WHERE idempotency_key = ?")
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)
    }

    async fn sent(&self, id: i64) -> Result<Option<SentMailView>, StoreError> {
        let sql = format!("SELECT {SENT_COLUMNS} FROM sent_mails WHERE id = ?");
        sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .as_ref()
            .map(sent_from_row)
            .transpose()
    }

    async fn list_sent(&self, filter: &SentMailFilter, page: PageRequest) -> Result<Page<SentMailView>, StoreError> {
        let mut conditions = Vec::new();
        let mut binds = Vec::new();
        if let Some(status) = filter.status {
            conditions.push("status = ?");
            binds.push(Bind::Text(status.key().to_string()));
        }
        if let Some(text) = filter.recipient.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            conditions.push("LOWER(recipient_email) LIKE ? ESCAPE '!'");
            binds.push(Bind::Text(like_pattern(text)));
        }
        if let Some(text) = filter.subject.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            conditions.push("LOWER(subject) LIKE ? ESCAPE '!'");
            binds.push(Bind::Text(like_pattern(text)));
        }
        if let Some(id) = filter.template_id {
            conditions.push("template_id = ?");
            binds.push(Bind::Int(id));
        }
        let filter_sql =
            if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
        let mut count =
            sqlx::query_scalar::<_, i64>(AssertSqlSafe(format!("SELECT COUNT(*) FROM sent_mails{filter_sql}")));
        for b in &binds {
            count = match b {
                Bind::Text(t) => count.bind(t.clone()),
                Bind::Int(i) => count.bind(*i),
            };
        }
        let total = count.fetch_one(&self.pool).await.map_err(store_error)?;
        let sql = format!("SELECT {SENT_COLUMNS} FROM sent_mails{filter_sql} ORDER BY id DESC LIMIT ? OFFSET ?");
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
            items: rows.iter().map(sent_from_row).collect::<Result<_, _>>()?,
            total: u64::try_from(total).unwrap_or(0),
            page: page.page(),
            per_page: page.per_page(),
        })
    }

    async fn requeue_failed(
        &self,
        id: i64,
        delivery: &NewTask,
        now: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        // Conditional: of two resends racing, one queues the mail.
        let done =
            sqlx::query("UPDATE sent_mails SET status = ?, answer = '', updated_at = ? WHERE id = ? AND status = ?")
                .bind(MailStatus::Queued.key())
                .bind(now.millis())
                .bind(id)
                .bind(MailStatus::Failed.key())
                .execute(tx.conn()?)
                .await
                .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let task = tasks::insert(tx.conn()?, delivery)
            .await?
            .ok_or_else(|| StoreError::Duplicate("idempotency_key".into()))?;
        set_task(tx.conn()?, id, task).await?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await?;
        Ok(Some(task))
    }

    async fn set_sent_status(
        &self,
        id: i64,
        status: MailStatus,
        answer: &str,
        now: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        sqlx::query("UPDATE sent_mails SET status = ?, answer = ?, updated_at = ? WHERE id = ?")
            .bind(status.key())
            .bind(answer.to_string())
            .bind(now.millis())
            .bind(id)
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await
    }

    async fn insert_password_token(
        &self,
        token_hash: &str,
        user_id: i64,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO password_tokens (token_hash, user_id, expires_at) VALUES (?, ?, ?)")
            .bind(token_hash.to_string())
            .bind(user_id)
            .bind(expires_at.millis())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn password_token_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT user_id FROM password_tokens WHERE token_hash = ? AND expires_at > ?")
            .bind(token_hash.to_string())
            .bind(now.millis())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)
    }

    async fn set_password_by_token(
        &self,
        token_hash: &str,
        user_id: i64,
        password_hash: &str,
        now: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<bool, StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        // Of two requests racing with the same token only the one whose
        // DELETE removed the row may use it; the other's waits and finds none.
        let taken = sqlx::query("DELETE FROM password_tokens WHERE token_hash = ? AND user_id = ? AND expires_at > ?")
            .bind(token_hash.to_string())
            .bind(user_id)
            .bind(now.millis())
            .execute(tx.conn()?)
            .await
            .map_err(store_error)?;
        if taken.rows_affected() != 1 {
            return Ok(false);
        }
        let set = sqlx::query(
            "UPDATE users SET password_hash = ?, status = CASE WHEN status = ? THEN ? ELSE status END WHERE id = ?",
        )
        .bind(password_hash.to_string())
        .bind(UserStatus::EmailPending.key())
        .bind(UserStatus::Active.key())
        .bind(user_id)
        .execute(tx.conn()?)
        .await
        .map_err(store_error)?;
        if set.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        activities::append(tx.conn()?, activity, None).await?;
        tx.commit().await?;
        Ok(true)
    }
}
