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

/// The default mail templates, each (slug, language) once ever:
/// `mail_template_defaults` remembers which were seeded, so a template an
/// admin deleted stays deleted ("no template, no mail") while a default a new
/// release adds arrives on the upgrade. A template an admin bound to the
/// slug and language meanwhile is kept, and the default is not added beside it.
async fn mail_templates(db: &Database) -> Result<(), sqlx::Error> {
    let pool = db.pool();
    let now = crate::now_millis();
    for d in services::mail::defaults::DEFAULTS {
        let (slug, language) = (d.action.slug(), d.language.code());
        let seeded: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM mail_template_defaults WHERE slug = ? AND language = ?")
                .bind(slug)
                .bind(language)
                .fetch_one(pool)
                .await?;
        if seeded > 0 {
            continue;
        }
        let mut tx = pool.begin().await?;
        let marked = sqlx::query("INSERT INTO mail_template_defaults (slug, language) VALUES (?, ?)")
            .bind(slug)
            .bind(language)
            .execute(&mut *tx)
            .await;
        match marked {
            Ok(_) => {}
            // A replica starting at the same moment seeds this one.
            Err(e) if is_duplicate(&e) => {
                tx.rollback().await?;
                continue;
            }
            Err(e) => return Err(e),
        }
        sqlx::query(
            "INSERT INTO mail_templates (name, slug, language, subject, html_body, text_body, reply_to, updated_at) \
             SELECT ?, ?, ?, ?, ?, ?, '', ? FROM (SELECT 1 AS one) seed \
             WHERE NOT EXISTS (SELECT 1 FROM mail_templates WHERE slug = ? AND language = ?)",
        )
        .bind(d.name)
        .bind(slug)
        .bind(language)
        .bind(d.subject)
        .bind(d.html())
        .bind(d.text)
        .bind(now)
        .bind(slug)
        .bind(language)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    Ok(())
}
