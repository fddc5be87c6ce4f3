//! Migrations embedded in the binary, one list per dialect. Versions must be
//! the same in both lists: a change lands in both dialects in one commit.

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::Dialect;

const MYSQL: &[(i64, &str, &str)] = &[
    (1, "accounts", include_str!("../migrations/mysql/0001_accounts.sql")),
    (2, "tasks", include_str!("../migrations/mysql/0002_tasks.sql")),
    (3, "cluster_connection", include_str!("../migrations/mysql/0003_cluster_connection.sql")),
    (4, "pending_logins", include_str!("../migrations/mysql/0004_pending_logins.sql")),
    (5, "session_id_token", include_str!("../migrations/mysql/0005_session_id_token.sql")),
    (6, "activities", include_str!("../migrations/mysql/0006_activities.sql")),
    (7, "templates_environments", include_str!("../migrations/mysql/0007_templates_environments.sql")),
    (8, "events", include_str!("../migrations/mysql/0008_events.sql")),
    (9, "vms", include_str!("../migrations/mysql/0009_vms.sql")),
    (10, "mail", include_str!("../migrations/mysql/0010_mail.sql")),
    (11, "connection_templates", include_str!("../migrations/mysql/0011_connection_templates.sql")),
    (12, "tags_catalogue", include_str!("../migrations/mysql/0012_tags_catalogue.sql")),
    (13, "dashboard", include_str!("../migrations/mysql/0013_dashboard.sql")),
    (14, "activity_search", include_str!("../migrations/mysql/0014_activity_search.sql")),
    (15, "guacamole_connection", include_str!("../migrations/mysql/0015_guacamole_connection.sql")),
    (16, "mail_template_defaults", include_str!("../migrations/mysql/0016_mail_template_defaults.sql")),
    (17, "activity_search_prefixes", include_str!("../migrations/mysql/0017_activity_search_prefixes.sql")),
];
const SQLITE: &[(i64, &str, &str)] = &[
    (1, "accounts", include_str!("../migrations/sqlite/0001_accounts.sql")),
    (2, "tasks", include_str!("../migrations/sqlite/0002_tasks.sql")),
    (3, "cluster_connection", include_str!("../migrations/sqlite/0003_cluster_connection.sql")),
    (4, "pending_logins", include_str!("../migrations/sqlite/0004_pending_logins.sql")),
    (5, "session_id_token", include_str!("../migrations/sqlite/0005_session_id_token.sql")),
    (6, "activities", include_str!("../migrations/sqlite/0006_activities.sql")),
    (7, "templates_environments", include_str!("../migrations/sqlite/0007_templates_environments.sql")),
    (8, "events", include_str!("../migrations/sqlite/0008_events.sql")),
    (9, "vms", include_str!("../migrations/sqlite/0009_vms.sql")),
    (10, "mail", include_str!("../migrations/sqlite/0010_mail.sql")),
    (11, "connection_templates", include_str!("../migrations/sqlite/0011_connection_templates.sql")),
    (12, "tags_catalogue", include_str!("../migrations/sqlite/0012_tags_catalogue.sql")),
    (13, "dashboard", include_str!("../migrations/sqlite/0013_dashboard.sql")),
    (14, "activity_search", include_str!("../migrations/sqlite/0014_activity_search.sql")),
    (15, "guacamole_connection", include_str!("../migrations/sqlite/0015_guacamole_connection.sql")),
    (16, "mail_template_defaults", include_str!("../migrations/sqlite/0016_mail_template_defaults.sql")),
    (17, "activity_search_prefixes", include_str!("../migrations/sqlite/0017_activity_search_prefixes.sql")),
];

pub fn migrator(dialect: Dialect) -> Migrator {
    migrator_until(dialect, i64::MAX)
}

/// The migrations up to version `last` (tests of a data migration start before it).
pub(crate) fn migrator_until(dialect: Dialect, last: i64) -> Migrator {
    let list = match dialect {
        Dialect::MariaDb => MYSQL,
        Dialect::Sqlite => SQLITE,
    };
    Migrator::with_migrations(
        list.iter()
            .filter(|(version, _, _)| *version <= last)
            .map(|(version, description, sql)| {
                Migration::new(*version, Cow::Borrowed(*description), MigrationType::Simple, sql.into_sql_str(), false)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects_have_the_same_versions() {
        let versions = |l: &[(i64, &str, &str)]| l.iter().map(|(v, d, _)| (*v, d.to_string())).collect::<Vec<_>>();
        assert_eq!(versions(MYSQL), versions(SQLITE));
    }

    /// Migration 0011 moves the templates' connection fields (and the deployed
    /// events' snapshot of them) into connection templates: nothing is lost,
    /// the sealed password is carried over as it was.
    #[tokio::test]
    async fn connection_fields_become_connection_templates() {
        let path = std::env::temp_dir().join(format!("openvle_migration_{:08x}.db", rand::random::<u32>()));
        let db = crate::Database::connect(&format!("sqlite://{}?mode=rwc", path.display()), 1).await.unwrap();
        let pool = db.pool();
        migrator_until(Dialect::Sqlite, 10).run(pool).await.unwrap();
        for sql in [
            "INSERT INTO vm_templates (id, name, description, operating_system, proxmox_vmid, node, cores, memory_mib, \
             disk_gib, linked_clone, protocol, port, conn_username, conn_password_sealed, created_at, updated_at) \
             VALUES (7, 'Win', '', '', 9000, 'pve1', 2, 4096, 40, 1, 'rdp', 3390, 'Administrator', 'v1:sealed', 1, 2)",
            "INSERT INTO environments (id, name, description, created_at) VALUES (1, 'Env', '', 1)",
            "INSERT INTO events (id, name, short_name, active_short_name, description, environment_id, starts_at, \
             status, created_at) VALUES (3, 'Lab', 'lab1', 'lab1', '', 1, 1, 'running', 1)",
            "INSERT INTO event_templates (event_id, template_id, name, operating_system, proxmox_vmid, node, cores, \
             memory_mib, disk_gib, linked_clone, protocol, port, conn_username, conn_password_sealed, vm_count) \
             VALUES (3, 7, 'Win', '', 9000, 'pve1', 2, 4096, 40, 1, 'ssh', 22, 'old', 'v1:old', 1)",
        ] {
            sqlx::query(sql).execute(pool).await.unwrap();
        }
        migrator(Dialect::Sqlite).run(pool).await.unwrap();
        let moved: (i64, String, i64, String, Option<String>, String) = sqlx::query_as(
            "SELECT template_id, protocol, port, username, password_sealed, rdp_security FROM connection_templates",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(moved, (7, "rdp".into(), 3390, "Administrator".into(), Some("v1:sealed".into()), "any".into()));
        let kept: (i64, i64, String, i64, Option<String>) = sqlx::query_as(
            "SELECT event_id, template_id, protocol, port, password_sealed FROM event_connection_templates",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(kept, (3, 7, "ssh".into(), 22, Some("v1:old".into())));
        let console: String = sqlx::query_scalar("SELECT console FROM vm_templates").fetch_one(pool).await.unwrap();
        assert_eq!(console, "builtin");
        drop(db);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
