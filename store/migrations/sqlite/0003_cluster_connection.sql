-- The Proxmox VE connection administrators save in the UI (SQLite dialect).
-- One row (id = 1). The token secret is stored only encrypted (OPENVLE_SECRET_KEY).

CREATE TABLE cluster_connection (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    token_id TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    fingerprint TEXT,
    verify_tls BIGINT NOT NULL,
    pool TEXT NOT NULL,
    revision BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT
);
