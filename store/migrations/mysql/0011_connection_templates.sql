-- Connection templates and Guacamole connections (MariaDB dialect).
--
-- How a VM is reached is no longer part of its VM template: a template (or one
-- VM) has its own connection templates (protocol, port, credentials, RDP
-- options), recreated rather than edited. The existing templates' connection
-- fields become one connection template each, the deployed events' snapshots
-- keep theirs in `event_connection_templates`, and the columns leave
-- `vm_templates` and `event_templates`. The password stays sealed as it was
-- (same key, same purpose), so nothing has to be decrypted here.

CREATE TABLE connection_templates (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    -- Exactly one of the two: bound to a VM template, or to one VM.
    template_id BIGINT NULL,
    vm_id BIGINT NULL,
    protocol VARCHAR(8) NOT NULL,
    port BIGINT NOT NULL,
    username VARCHAR(64) NOT NULL,
    password_sealed TEXT NULL,
    rdp_security VARCHAR(8) NOT NULL,
    ignore_cert BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    KEY connection_templates_template (template_id),
    KEY connection_templates_vm (vm_id),
    CONSTRAINT connection_templates_template FOREIGN KEY (template_id) REFERENCES vm_templates(id) ON DELETE CASCADE,
    CONSTRAINT connection_templates_vm FOREIGN KEY (vm_id) REFERENCES vms(id) ON DELETE CASCADE,
    CONSTRAINT connection_templates_one_binding CHECK ((template_id IS NULL) <> (vm_id IS NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO connection_templates
    (template_id, vm_id, protocol, port, username, password_sealed, rdp_security, ignore_cert, created_at)
SELECT id, NULL, protocol, port, conn_username, conn_password_sealed, 'any', 1, updated_at FROM vm_templates;

-- The connection templates of the event's templates as they were when its
-- deployment began (the rest of the snapshot is `event_templates`).
CREATE TABLE event_connection_templates (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    event_id BIGINT NOT NULL,
    template_id BIGINT NOT NULL,
    protocol VARCHAR(8) NOT NULL,
    port BIGINT NOT NULL,
    username VARCHAR(64) NOT NULL,
    password_sealed TEXT NULL,
    rdp_security VARCHAR(8) NOT NULL,
    ignore_cert BIGINT NOT NULL,
    KEY event_connection_templates_event (event_id, template_id),
    CONSTRAINT event_connection_templates_event FOREIGN KEY (event_id) REFERENCES events(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO event_connection_templates
    (event_id, template_id, protocol, port, username, password_sealed, rdp_security, ignore_cert)
SELECT event_id, template_id, protocol, port, conn_username, conn_password_sealed, 'any', 1 FROM event_templates;

ALTER TABLE vm_templates
    DROP COLUMN protocol, DROP COLUMN port, DROP COLUMN conn_username, DROP COLUMN conn_password_sealed,
    ADD COLUMN console VARCHAR(16) NOT NULL DEFAULT 'builtin';

ALTER TABLE event_templates
    DROP COLUMN protocol, DROP COLUMN port, DROP COLUMN conn_username, DROP COLUMN conn_password_sealed,
    ADD COLUMN console VARCHAR(16) NOT NULL DEFAULT 'builtin';

-- What deployment made in Guacamole for each VM: one row per connection
-- (named as in Guacamole), its identifier there once created, the address it
-- points at, whether the owner may open it, and the last failure.
CREATE TABLE vm_connections (
    vm_id BIGINT NOT NULL,
    name VARCHAR(255) NOT NULL,
    remote_id VARCHAR(64) NULL,
    hostname VARCHAR(64) NULL,
    granted BIGINT NOT NULL,
    last_error TEXT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (vm_id, name),
    CONSTRAINT vm_connections_vm FOREIGN KEY (vm_id) REFERENCES vms(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
