-- VMs deployed for event participants (MariaDB dialect). The provisioning
-- engine plans one row per participant, template and copy (the unique key
-- makes re-running a deployment create nothing twice) and fills in what the
-- cluster reports.

CREATE TABLE vms (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    event_id BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    template_id BIGINT NOT NULL,
    ordinal BIGINT NOT NULL,
    name VARCHAR(128) NOT NULL,
    vmid BIGINT NULL,
    node VARCHAR(64) NULL,
    state VARCHAR(16) NOT NULL,
    ip VARCHAR(64) NULL,
    last_error TEXT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE KEY vm_slot (event_id, owner_id, template_id, ordinal),
    KEY vms_owner (owner_id),
    KEY vms_state (state),
    CONSTRAINT vms_event FOREIGN KEY (event_id) REFERENCES events(id) ON DELETE CASCADE,
    CONSTRAINT vms_owner FOREIGN KEY (owner_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
