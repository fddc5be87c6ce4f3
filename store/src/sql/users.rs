use async_trait::async_trait;
use domain::page::{Page, PageRequest};
use domain::time::Timestamp;
use domain::user::RoleRef;
use domain::{AccessLevel, AuthBackend, Grant, Language, ObjectType, UserStatus};
use services::StoreError;
use services::ports::{NewUser, UserQuery, UserRecord, UserRepo};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::{SqlStore, corrupt, store_error};

const USER_COLUMNS: &str =
    "id, username, name, email, language, status, auth_backend, password_hash, created_at, last_login_at";

fn user_from_row(row: &AnyRow) -> Result<UserRecord, StoreError> {
    let get_str = |c: &str| row.try_get::<String, _>(c).map_err(store_error);
    let language = get_str("language")?;
    let status = get_str("status")?;
    let backend = get_str("auth_backend")?;
    Ok(UserRecord {
        id: row.try_get("id").map_err(store_error)?,
        username: get_str("username")?,
        name: get_str("name")?,
        email: get_str("email")?,
        language: Language::from_code(&language).ok_or_else(|| corrupt("language", &language))?,
        status: UserStatus::from_key(&status).ok_or_else(|| corrupt("status", &status))?,
        auth_backend: AuthBackend::from_key(&backend).ok_or_else(|| corrupt("auth backend", &backend))?,
        password_hash: row.try_get("password_hash").map_err(store_error)?,
        created_at: Timestamp(row.try_get("created_at").map_err(store_error)?),
        last_login_at: row.try_get::<Option<i64>, _>("last_login_at").map_err(store_error)?.map(Timestamp),
    })
}

fn grant_from_parts(object_type: &str, object_id: Option<i64>, level: &str) -> Result<Grant, StoreError> {
    Ok(Grant {
        object_type: ObjectType::from_key(object_type).ok_or_else(|| corrupt("object type", object_type))?,
        object_id,
        level: AccessLevel::from_key(level).ok_or_else(|| corrupt("access level", level))?,
    })
}

/// Escapes `%`, `_` (and the escape character `!`) so user input is matched
/// literally by LIKE. `!` rather than backslash: MariaDB treats backslash in
/// string literals as an escape, SQLite does not.
pub(crate) fn like_pattern(text: &str) -> String {
    let escaped = text.to_lowercase().replace('!', "!!").replace('%', "!%").replace('_', "!_");
    format!("%{escaped}%")
}

fn ensure_changed(result: sqlx::any::AnyQueryResult) -> Result<(), StoreError> {
    if result.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

#[async_trait]
impl UserRepo for SqlStore {
    async fn insert(&self, user: NewUser) -> Result<i64, StoreError> {
        // RETURNING works on both dialects (MariaDB 10.5+, SQLite 3.35+);
        // the Any driver does not report SQLite's last insert id.
        sqlx::query_scalar(
            "INSERT INTO users (username, name, email, language, status, auth_backend, password_hash, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(user.username)
        .bind(user.name)
        .bind(user.email)
        .bind(user.language.code())
        .bind(user.status.key())
        .bind(user.auth_backend.key())
        .bind(user.password_hash)
        .bind(user.created_at.millis())
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)
    }

    async fn by_id(&self, id: i64) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await.map_err(store_error)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(username.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn search(&self, query: &UserQuery, page: PageRequest) -> Result<Page<UserRecord>, StoreError> {
        // Only fixed fragments are concatenated; every value is bound.
        let mut conditions: Vec<&str> = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        if let Some(text) = query.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            conditions.push(
                "(LOWER(username) LIKE ? ESCAPE '!' OR LOWER(name) LIKE ? ESCAPE '!' OR LOWER(email) LIKE ? ESCAPE '!')",
            );
            let pattern = like_pattern(text);
            binds.extend([pattern.clone(), pattern.clone(), pattern]);
        }
        if let Some(status) = query.status {
            conditions.push("status = ?");
            binds.push(status.key().to_string());
        }
        if let Some(role_key) = &query.role_key {
            conditions.push(
                "id IN (SELECT ur.user_id FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE r.role_key = ?)",
            );
            binds.push(role_key.clone());
        }
        let filter = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };

        let count_sql = format!("SELECT COUNT(*) FROM users{filter}");
        let mut count = sqlx::query_scalar::<_, i64>(AssertSqlSafe(count_sql));
        for b in &binds {
            count = count.bind(b.clone());
        }
        let total = count.fetch_one(&self.pool).await.map_err(store_error)?;

        let list_sql = format!("SELECT {USER_COLUMNS} FROM users{filter} ORDER BY username LIMIT ? OFFSET ?");
        let mut list = sqlx::query(AssertSqlSafe(list_sql));
        for b in binds {
            list = list.bind(b);
        }
        let offset = i64::try_from(page.offset()).unwrap_or(i64::MAX);
        let rows =
            list.bind(i64::from(page.per_page())).bind(offset).fetch_all(&self.pool).await.map_err(store_error)?;
        Ok(Page {
            items: rows.iter().map(user_from_row).collect::<Result<_, _>>()?,
            total: u64::try_from(total).unwrap_or(0),
            page: page.page(),
            per_page: page.per_page(),
        })
    }

    async fn update_profile(&self, id: i64, name: &str, email: &str, language: Language) -> Result<(), StoreError> {
        // Not checked with rows_affected: MariaDB reports 0 when the values
        // did not change, and the service has already checked the row exists.
        sqlx::query("UPDATE users SET name = ?, email = ?, language = ? WHERE id = ?")
            .bind(name.to_string())
            .bind(email.to_string())
            .bind(language.code())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn set_status(&self, id: i64, status: UserStatus) -> Result<(), StoreError> {
        let exists = self.by_id(id).await?.is_some();
        if !exists {
            return Err(StoreError::NotFound);
        }
        sqlx::query("UPDATE users SET status = ? WHERE id = ?")
            .bind(status.key())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn set_password_hash(&self, id: i64, hash: &str) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(hash.to_string())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        ensure_changed(result)
    }

    async fn set_last_login(&self, id: i64, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET last_login_at = ? WHERE id = ?")
            .bind(at.millis())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn delete(&self, id: i64) -> Result<(), StoreError> {
        let result =
            sqlx::query("DELETE FROM users WHERE id = ?").bind(id).execute(&self.pool).await.map_err(store_error)?;
        ensure_changed(result)
    }

    async fn roles_of(&self, id: i64) -> Result<Vec<RoleRef>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.id, r.role_key, r.name FROM roles r JOIN user_roles ur ON ur.role_id = r.id \
             WHERE ur.user_id = ? ORDER BY r.name",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter()
            .map(|row| {
                Ok(RoleRef {
                    id: row.try_get("id").map_err(store_error)?,
                    key: row.try_get("role_key").map_err(store_error)?,
                    name: row.try_get("name").map_err(store_error)?,
                })
            })
            .collect()
    }

    async fn set_roles(&self, id: i64, role_ids: &[i64]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        sqlx::query("DELETE FROM user_roles WHERE user_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        for role_id in role_ids {
            sqlx::query("INSERT INTO user_roles (user_id, role_id) VALUES (?, ?)")
                .bind(id)
                .bind(*role_id)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)
    }

    async fn grants_of(&self, id: i64) -> Result<Vec<Grant>, StoreError> {
        let role_rows = sqlx::query(
            "SELECT DISTINCT rp.object_type, rp.level FROM role_permissions rp \
             JOIN user_roles ur ON ur.role_id = rp.role_id WHERE ur.user_id = ?",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let object_rows = sqlx::query("SELECT object_type, object_id, level FROM object_grants WHERE user_id = ?")
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        let mut grants = Vec::with_capacity(role_rows.len() + object_rows.len());
        for row in &role_rows {
            let t: String = row.try_get("object_type").map_err(store_error)?;
            let l: String = row.try_get("level").map_err(store_error)?;
            grants.push(grant_from_parts(&t, None, &l)?);
        }
        for row in &object_rows {
            let t: String = row.try_get("object_type").map_err(store_error)?;
            let l: String = row.try_get("level").map_err(store_error)?;
            let object_id: i64 = row.try_get("object_id").map_err(store_error)?;
            grants.push(grant_from_parts(&t, Some(object_id), &l)?);
        }
        Ok(grants)
    }

    async fn add_object_grant(&self, id: i64, grant: &Grant) -> Result<(), StoreError> {
        let Some(object_id) = grant.object_id else {
            return Err(StoreError::Corrupt("object grant without an object".into()));
        };
        let result =
            sqlx::query("INSERT INTO object_grants (user_id, object_type, object_id, level) VALUES (?, ?, ?, ?)")
                .bind(id)
                .bind(grant.object_type.key())
                .bind(object_id)
                .bind(grant.level.key())
                .execute(&self.pool)
                .await;
        match result.map_err(store_error) {
            // Granting twice is granting once.
            Ok(_) | Err(StoreError::Duplicate(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn count_active_with_role(&self, role_key: &str) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id \
             WHERE r.role_key = ? AND u.status = 'active'",
        )
        .bind(role_key.to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
