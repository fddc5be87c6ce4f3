-- Tags and the infrastructure catalogue (MariaDB dialect).
-- Tags live in one table per object type, so they go with their object
-- (ON DELETE CASCADE). Catalogue names are unique regardless of case through
-- `name_key` (the lowercased name, computed in Rust the same way for both
-- dialects). An entry that something uses cannot be deleted (RESTRICT; the
-- service checks first and names the users).

CREATE TABLE template_tags (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    template_id BIGINT NOT NULL,
    name VARCHAR(64) NOT NULL,
    value VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE KEY tag (template_id, name, value),
    KEY template_tags_name (name, value),
    CONSTRAINT template_tags_template FOREIGN KEY (template_id) REFERENCES vm_templates(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE environment_tags (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    environment_id BIGINT NOT NULL,
    name VARCHAR(64) NOT NULL,
    value VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE KEY tag (environment_id, name, value),
    KEY environment_tags_name (name, value),
    CONSTRAINT environment_tags_environment FOREIGN KEY (environment_id) REFERENCES environments(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE vm_tags (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    vm_id BIGINT NOT NULL,
    name VARCHAR(64) NOT NULL,
    value VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE KEY tag (vm_id, name, value),
    KEY vm_tags_name (name, value),
    CONSTRAINT vm_tags_vm FOREIGN KEY (vm_id) REFERENCES vms(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE vendors (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(128) NOT NULL,
    name_key VARCHAR(128) NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE KEY name_key (name_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE operating_systems (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    vendor_id BIGINT NOT NULL,
    name VARCHAR(128) NOT NULL,
    name_key VARCHAR(128) NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE KEY name_key (name_key),
    CONSTRAINT operating_systems_vendor FOREIGN KEY (vendor_id) REFERENCES vendors(id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE applications (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    vendor_id BIGINT NOT NULL,
    name VARCHAR(128) NOT NULL,
    name_key VARCHAR(128) NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE KEY name_key (name_key),
    CONSTRAINT applications_vendor FOREIGN KEY (vendor_id) REFERENCES vendors(id) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A template's one operating system (a row only when one is chosen).
CREATE TABLE template_operating_systems (
    template_id BIGINT NOT NULL PRIMARY KEY,
    operating_system_id BIGINT NOT NULL,
    CONSTRAINT template_os_template FOREIGN KEY (template_id) REFERENCES vm_templates(id) ON DELETE CASCADE,
    CONSTRAINT template_os_os FOREIGN KEY (operating_system_id) REFERENCES operating_systems(id) ON DELETE RESTRICT
) ENGINE=InnoDB;

CREATE TABLE template_applications (
    template_id BIGINT NOT NULL,
    application_id BIGINT NOT NULL,
    PRIMARY KEY (template_id, application_id),
    CONSTRAINT template_apps_template FOREIGN KEY (template_id) REFERENCES vm_templates(id) ON DELETE CASCADE,
    CONSTRAINT template_apps_app FOREIGN KEY (application_id) REFERENCES applications(id) ON DELETE RESTRICT
) ENGINE=InnoDB;

CREATE TABLE environment_applications (
    environment_id BIGINT NOT NULL,
    application_id BIGINT NOT NULL,
    PRIMARY KEY (environment_id, application_id),
    CONSTRAINT environment_apps_environment FOREIGN KEY (environment_id) REFERENCES environments(id) ON DELETE CASCADE,
    CONSTRAINT environment_apps_app FOREIGN KEY (application_id) REFERENCES applications(id) ON DELETE RESTRICT
) ENGINE=InnoDB;

-- Installations seeded before the catalogue existed: the default roles get
-- what new installations seed (administrators manage it, instructors read it).
INSERT INTO role_permissions (role_id, object_type, level)
    SELECT id, 'catalogue', 'full' FROM roles WHERE role_key = 'admin';
INSERT INTO role_permissions (role_id, object_type, level)
    SELECT id, 'catalogue', 'read' FROM roles WHERE role_key = 'instructor';
