-- VM templates and environments (SQLite dialect). See the MariaDB file for notes.

CREATE TABLE vm_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    operating_system TEXT NOT NULL,
    proxmox_vmid BIGINT NOT NULL,
    node TEXT NOT NULL,
    cores BIGINT NOT NULL,
    memory_mib BIGINT NOT NULL,
    disk_gib BIGINT NOT NULL,
    linked_clone BIGINT NOT NULL,
    protocol TEXT NOT NULL,
    port BIGINT NOT NULL,
    conn_username TEXT NOT NULL,
    conn_password_sealed TEXT,
    on_cluster BIGINT,
    synced_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE environments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE environment_templates (
    environment_id BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    template_id BIGINT NOT NULL REFERENCES vm_templates(id) ON DELETE RESTRICT,
    vm_count BIGINT NOT NULL,
    PRIMARY KEY (environment_id, template_id)
);
