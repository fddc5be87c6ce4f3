-- Background jobs: tasks (one per job), their steps, and scheduler leases (SQLite dialect).

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    queue TEXT NOT NULL,
    status TEXT NOT NULL,
    payload TEXT NOT NULL,
    event_id BIGINT,
    parent_id INTEGER REFERENCES tasks(id) ON DELETE CASCADE,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    last_error TEXT,
    next_run_at BIGINT,
    lease_owner TEXT,
    lease_until BIGINT,
    handed_at BIGINT NOT NULL,
    idempotency_key TEXT UNIQUE
);
CREATE INDEX tasks_status ON tasks(status, handed_at);
CREATE INDEX tasks_created ON tasks(created_at);
CREATE INDEX tasks_parent ON tasks(parent_id);

CREATE TABLE subtasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at BIGINT NOT NULL,
    UNIQUE (task_id, position)
);

CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    token BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
