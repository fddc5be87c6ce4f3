-- Events, participants, user groups, environment snapshots (SQLite dialect).
-- See the MariaDB file for notes (active_short_name).

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    short_name TEXT NOT NULL,
    active_short_name TEXT UNIQUE,
    description TEXT NOT NULL,
    environment_id BIGINT NOT NULL REFERENCES environments(id) ON DELETE RESTRICT,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT,
    status TEXT NOT NULL,
    failure_reason TEXT,
    created_by BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_status ON events (status, starts_at);

CREATE TABLE event_participants (
    event_id BIGINT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    event_admin BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX event_participants_user ON event_participants (user_id);

CREATE TABLE event_templates (
    event_id BIGINT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    template_id BIGINT NOT NULL,
    name TEXT NOT NULL,
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
    vm_count BIGINT NOT NULL,
    PRIMARY KEY (event_id, template_id)
);

CREATE TABLE user_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL
);

CREATE TABLE user_group_members (
    group_id BIGINT NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
