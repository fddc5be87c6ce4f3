-- Accounts, roles, permissions, settings, policies, sessions (SQLite dialect).
-- Times are UTC milliseconds since the epoch (BIGINT), as in the MariaDB dialect.

CREATE TABLE roles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    role_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE role_permissions (
    role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    object_type TEXT NOT NULL,
    level TEXT NOT NULL,
    PRIMARY KEY (role_id, object_type, level)
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    language TEXT NOT NULL,
    status TEXT NOT NULL,
    auth_backend TEXT NOT NULL,
    password_hash TEXT,
    created_at BIGINT NOT NULL,
    last_login_at BIGINT
);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);

CREATE TABLE object_grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    object_type TEXT NOT NULL,
    object_id BIGINT NOT NULL,
    level TEXT NOT NULL,
    UNIQUE (user_id, object_type, object_id, level)
);

CREATE TABLE settings (
    setting_key TEXT PRIMARY KEY,
    setting_type TEXT NOT NULL,
    setting_value TEXT NOT NULL,
    description TEXT NOT NULL,
    visibility TEXT NOT NULL
);

CREATE TABLE policies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    content TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE policy_acceptances (
    policy_id INTEGER NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    accepted_at BIGINT NOT NULL,
    PRIMARY KEY (policy_id, user_id)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE login_attempts (
    attempt_key TEXT PRIMARY KEY,
    window_end BIGINT NOT NULL,
    failures BIGINT NOT NULL
);
