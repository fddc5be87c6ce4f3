-- The Apache Guacamole connection administrators save in the UI (MariaDB dialect).
-- One row (id = 1). The admin password and the JSON secret key are stored only
-- encrypted (OPENVLE_SECRET_KEY).

CREATE TABLE guacamole_connection (
    id BIGINT NOT NULL PRIMARY KEY,
    url VARCHAR(255) NOT NULL,
    admin_username VARCHAR(128) NOT NULL,
    admin_password_sealed TEXT NOT NULL,
    data_source VARCHAR(64) NULL,
    sso_method VARCHAR(32) NOT NULL,
    json_secret_sealed TEXT NULL,
    revision BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by VARCHAR(64) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
