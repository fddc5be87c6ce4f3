-- Events, their participants, user groups and the environment snapshot a
-- deployed event keeps (MariaDB dialect).
--
-- `active_short_name` equals `short_name` while the event is not finished and
-- is NULL afterwards: its unique key makes short names unique among
-- non-finished events on both dialects (NULLs never collide).

CREATE TABLE events (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(128) NOT NULL,
    short_name VARCHAR(8) NOT NULL,
    active_short_name VARCHAR(8) NULL,
    description MEDIUMTEXT NOT NULL,
    environment_id BIGINT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NULL,
    status VARCHAR(16) NOT NULL,
    failure_reason TEXT NULL,
    created_by BIGINT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE KEY short_name (active_short_name),
    KEY events_status (status, starts_at),
    CONSTRAINT events_environment FOREIGN KEY (environment_id) REFERENCES environments(id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE event_participants (
    event_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    role VARCHAR(16) NOT NULL,
    event_admin BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, user_id),
    KEY event_participants_user (user_id),
    CONSTRAINT event_participants_event FOREIGN KEY (event_id) REFERENCES events(id) ON DELETE CASCADE,
    CONSTRAINT event_participants_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The templates of the environment as they were when deployment began;
-- connection password copied sealed.
CREATE TABLE event_templates (
    event_id BIGINT NOT NULL,
    template_id BIGINT NOT NULL,
    name VARCHAR(128) NOT NULL,
    operating_system VARCHAR(128) NOT NULL,
    proxmox_vmid BIGINT NOT NULL,
    node VARCHAR(64) NOT NULL,
    cores BIGINT NOT NULL,
    memory_mib BIGINT NOT NULL,
    disk_gib BIGINT NOT NULL,
    linked_clone BIGINT NOT NULL,
    protocol VARCHAR(8) NOT NULL,
    port BIGINT NOT NULL,
    conn_username VARCHAR(64) NOT NULL,
    conn_password_sealed TEXT NULL,
    vm_count BIGINT NOT NULL,
    PRIMARY KEY (event_id, template_id),
    CONSTRAINT event_templates_event FOREIGN KEY (event_id) REFERENCES events(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE user_groups (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(128) NOT NULL,
    description TEXT NOT NULL,
    UNIQUE KEY name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE user_group_members (
    group_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id),
    CONSTRAINT user_group_members_group FOREIGN KEY (group_id) REFERENCES user_groups(id) ON DELETE CASCADE,
    CONSTRAINT user_group_members_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
