-- The Apache Guacamole connection administrators save in the UI (SQLite dialect).
-- One row (id = 1). The admin password and the JSON secret key are stored only
-- encrypted (OPENVLE_SECRET_KEY).

CREATE TABLE guacamole_connection (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    admin_username TEXT NOT NULL,
    admin_password_sealed TEXT NOT NULL,
    data_source TEXT,
    sso_method TEXT NOT NULL,
    json_secret_sealed TEXT,
    revision BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT
);
