//! Default roles and settings, inserted when missing. Values an admin has
//! changed are never overwritten; a replica seeding at the same moment makes
//! our insert fail on the unique key, which is fine.

use domain::access::DEFAULT_ROLES;
use domain::settings::CATALOGUE;

use crate::Database;

fn is_duplicate(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}

pub async fn defaults(db: &Database) -> Result<(), sqlx::Error> {
    let pool = db.pool();
    for def in CATALOGUE {
        let inserted = sqlx::query(
            "INSERT INTO settings (setting_key, setting_type, setting_value, description, visibility) \
             SELECT ?, ?, ?, ?, ? FROM (SELECT 1 AS one) seed \
             WHERE NOT EXISTS (SELECT 1 FROM settings WHERE setting_key = ?)",
        )
        .bind(def.key)
        .bind(def.setting_type.key())
        .bind(def.default)
        .bind(def.description)
        .bind(def.visibility.key())
        .bind(def.key)
        .execute(pool)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if is_duplicate(&e) => {}
            Err(e) => return Err(e),
        }
    }
    mail_templates(db).await?;
    for role in DEFAULT_ROLES {
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM roles WHERE role_key = ?").bind(role.key).fetch_optional(pool).await?;
        if exists.is_some() {
            continue;
        }
        let mut tx = pool.begin().await?;
        let inserted: Result<i64, _> =
            sqlx::query_scalar("INSERT INTO roles (role_key, name, description) VALUES (?, ?, ?) RETURNING id")
                .bind(role.key)
                .bind(role.name)
                .bind(role.description)
                .fetch_one(&mut *tx)
                .await;
        let id = match inserted {
            Ok(id) => id,
            Err(e) if is_duplicate(&e) => continue,
            Err(e) => return Err(e),
        };
        for (object_type, level) in role.grants {
            sqlx::query("INSERT INTO role_permissions (role_id, object_type, level) VALUES (?, ?, ?)")
                .bind(id)
                .bind(object_type.key())
                .bind(level.key())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// The default mail templates, only into an empty table: templates an admin
/// deleted or unbound stay that way ("no template, no mail").
async fn mail_templates(db: &Database) -> Result<(), sqlx::Error> {
    let pool = db.pool();
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_templates").fetch_one(pool).await?;
    if count > 0 {
        return Ok(());
    }
    let now = crate::now_millis();
    for d in services::mail::defaults::DEFAULTS {
        let inserted = sqlx::query(
            "INSERT INTO mail_templates (name, slug, language, subject, html_body, text_body, reply_to, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, '', ?)",
        )
        .bind(d.name)
        .bind(d.action.slug())
        .bind(d.language.code())
        .bind(d.subject)
        .bind(d.html())
        .bind(d.text)
        .bind(now)
        .execute(pool)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if is_duplicate(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
