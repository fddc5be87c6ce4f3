-- VM templates and environments (MariaDB dialect).
-- A template names the Proxmox template VM participants' VMs are cloned from,
-- and how they are reached; the connection password is stored only sealed
-- with OPENVLE_SECRET_KEY. An environment is a set of templates with how many
-- VMs of each a participant gets.

CREATE TABLE vm_templates (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(128) NOT NULL,
    description MEDIUMTEXT NOT NULL,
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
    -- Filled by the periodic sync: whether the template VM is in the pool, and when checked.
    on_cluster BIGINT NULL,
    synced_at BIGINT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE KEY name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE environments (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(128) NOT NULL,
    description MEDIUMTEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE KEY name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A template in use by an environment cannot be deleted (RESTRICT).
CREATE TABLE environment_templates (
    environment_id BIGINT NOT NULL,
    template_id BIGINT NOT NULL,
    vm_count BIGINT NOT NULL,
    PRIMARY KEY (environment_id, template_id),
    CONSTRAINT environment_templates_environment FOREIGN KEY (environment_id) REFERENCES environments(id) ON DELETE CASCADE,
    CONSTRAINT environment_templates_template FOREIGN KEY (template_id) REFERENCES vm_templates(id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
