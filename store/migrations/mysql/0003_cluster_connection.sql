-- The Proxmox VE connection administrators save in the UI (MariaDB dialect).
-- One row (id = 1). The token secret is stored only encrypted (OPENVLE_SECRET_KEY).

CREATE TABLE cluster_connection (
    id BIGINT NOT NULL PRIMARY KEY,
    url VARCHAR(255) NOT NULL,
    token_id VARCHAR(128) NOT NULL,
    secret_sealed TEXT NOT NULL,
    fingerprint VARCHAR(95) NULL,
    verify_tls BIGINT NOT NULL,
    pool VARCHAR(64) NOT NULL,
    revision BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by VARCHAR(64) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
