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
    (12, "tags_catalogue", include_str!("../migrations/mysql/0012_tags_catalogue.sql")),
    (13, "dashboard", include_str!("../migrations/mysql/0013_dashboard.sql")),
    (14, "activity_search", include_str!("../migrations/mysql/0014_activity_search.sql")),
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
    (12, "tags_catalogue", include_str!("../migrations/sqlite/0012_tags_catalogue.sql")),
    (13, "dashboard", include_str!("../migrations/sqlite/0013_dashboard.sql")),
    (14, "activity_search", include_str!("../migrations/sqlite/0014_activity_search.sql")),
];

pub fn migrator(dialect: Dialect) -> Migrator {
    let list = match dialect {
        Dialect::MariaDb => MYSQL,
        Dialect::Sqlite => SQLITE,
    };
    Migrator::with_migrations(
        list.iter()
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
}
