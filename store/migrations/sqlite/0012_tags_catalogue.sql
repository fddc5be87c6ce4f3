-- Tags and the infrastructure catalogue (SQLite dialect). See the MariaDB file for notes.

CREATE TABLE template_tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    template_id BIGINT NOT NULL REFERENCES vm_templates(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (template_id, name, value)
);
CREATE INDEX template_tags_name ON template_tags (name, value);

CREATE TABLE environment_tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    environment_id BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (environment_id, name, value)
);
CREATE INDEX environment_tags_name ON environment_tags (name, value);

CREATE TABLE vm_tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    vm_id BIGINT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (vm_id, name, value)
);
CREATE INDEX vm_tags_name ON vm_tags (name, value);

CREATE TABLE vendors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE operating_systems (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    vendor_id BIGINT NOT NULL REFERENCES vendors(id) ON DELETE RESTRICT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE applications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    vendor_id BIGINT NOT NULL REFERENCES vendors(id) ON DELETE RESTRICT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE template_operating_systems (
    template_id BIGINT NOT NULL PRIMARY KEY REFERENCES vm_templates(id) ON DELETE CASCADE,
    operating_system_id BIGINT NOT NULL REFERENCES operating_systems(id) ON DELETE RESTRICT
);

CREATE TABLE template_applications (
    template_id BIGINT NOT NULL REFERENCES vm_templates(id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL REFERENCES applications(id) ON DELETE RESTRICT,
    PRIMARY KEY (template_id, application_id)
);

CREATE TABLE environment_applications (
    environment_id BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL REFERENCES applications(id) ON DELETE RESTRICT,
    PRIMARY KEY (environment_id, application_id)
);

INSERT INTO role_permissions (role_id, object_type, level)
    SELECT id, 'catalogue', 'full' FROM roles WHERE role_key = 'admin';
INSERT INTO role_permissions (role_id, object_type, level)
    SELECT id, 'catalogue', 'read' FROM roles WHERE role_key = 'instructor';
