-- Connection templates and Guacamole connections (SQLite dialect). See the
-- MariaDB file for notes.

CREATE TABLE connection_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    template_id BIGINT NULL REFERENCES vm_templates(id) ON DELETE CASCADE,
    vm_id BIGINT NULL REFERENCES vms(id) ON DELETE CASCADE,
    protocol TEXT NOT NULL,
    port BIGINT NOT NULL,
    username TEXT NOT NULL,
    password_sealed TEXT,
    rdp_security TEXT NOT NULL,
    ignore_cert BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    CHECK ((template_id IS NULL) <> (vm_id IS NULL))
);
CREATE INDEX connection_templates_template ON connection_templates (template_id);
CREATE INDEX connection_templates_vm ON connection_templates (vm_id);

INSERT INTO connection_templates
    (template_id, vm_id, protocol, port, username, password_sealed, rdp_security, ignore_cert, created_at)
SELECT id, NULL, protocol, port, conn_username, conn_password_sealed, 'any', 1, updated_at FROM vm_templates;

CREATE TABLE event_connection_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id BIGINT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    template_id BIGINT NOT NULL,
    protocol TEXT NOT NULL,
    port BIGINT NOT NULL,
    username TEXT NOT NULL,
    password_sealed TEXT,
    rdp_security TEXT NOT NULL,
    ignore_cert BIGINT NOT NULL
);
CREATE INDEX event_connection_templates_event ON event_connection_templates (event_id, template_id);

INSERT INTO event_connection_templates
    (event_id, template_id, protocol, port, username, password_sealed, rdp_security, ignore_cert)
SELECT event_id, template_id, protocol, port, conn_username, conn_password_sealed, 'any', 1 FROM event_templates;

ALTER TABLE vm_templates DROP COLUMN protocol;
ALTER TABLE vm_templates DROP COLUMN port;
ALTER TABLE vm_templates DROP COLUMN conn_username;
ALTER TABLE vm_templates DROP COLUMN conn_password_sealed;
ALTER TABLE vm_templates ADD COLUMN console TEXT NOT NULL DEFAULT 'builtin';

ALTER TABLE event_templates DROP COLUMN protocol;
ALTER TABLE event_templates DROP COLUMN port;
ALTER TABLE event_templates DROP COLUMN conn_username;
ALTER TABLE event_templates DROP COLUMN conn_password_sealed;
ALTER TABLE event_templates ADD COLUMN console TEXT NOT NULL DEFAULT 'builtin';

CREATE TABLE vm_connections (
    vm_id BIGINT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    remote_id TEXT,
    hostname TEXT,
    granted BIGINT NOT NULL,
    last_error TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (vm_id, name)
);
