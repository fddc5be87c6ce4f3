-- Background jobs: tasks (one per job), their steps, and scheduler leases (MariaDB dialect).

CREATE TABLE tasks (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind VARCHAR(64) NOT NULL,
    name VARCHAR(255) NOT NULL,
    queue VARCHAR(32) NOT NULL,
    status VARCHAR(16) NOT NULL,
    payload TEXT NOT NULL,
    event_id BIGINT NULL,
    parent_id BIGINT NULL,
    created_by BIGINT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    last_error TEXT NULL,
    next_run_at BIGINT NULL,
    lease_owner VARCHAR(255) NULL,
    lease_until BIGINT NULL,
    handed_at BIGINT NOT NULL,
    idempotency_key VARCHAR(255) NULL,
    UNIQUE KEY idempotency_key (idempotency_key),
    KEY tasks_status (status, handed_at),
    KEY tasks_created (created_at),
    KEY tasks_parent (parent_id),
    CONSTRAINT tasks_parent_fk FOREIGN KEY (parent_id) REFERENCES tasks(id) ON DELETE CASCADE,
    CONSTRAINT tasks_created_by_fk FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE subtasks (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    task_id BIGINT NOT NULL,
    position BIGINT NOT NULL,
    action VARCHAR(64) NOT NULL,
    status VARCHAR(16) NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE KEY subtask_position (task_id, position),
    CONSTRAINT subtasks_task FOREIGN KEY (task_id) REFERENCES tasks(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE leases (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    holder VARCHAR(255) NOT NULL,
    token BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
