-- VMs deployed for event participants (SQLite dialect). See the MariaDB file.

CREATE TABLE vms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id BIGINT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    owner_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    template_id BIGINT NOT NULL,
    ordinal BIGINT NOT NULL,
    name TEXT NOT NULL,
    vmid BIGINT,
    node TEXT,
    state TEXT NOT NULL,
    ip TEXT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (event_id, owner_id, template_id, ordinal)
);
CREATE INDEX vms_owner ON vms (owner_id);
CREATE INDEX vms_state ON vms (state);
