-- Single sign-on attempts waiting for the provider's callback (MariaDB dialect).
-- Keyed by the HMAC of the id in the browser's cookie; taken (deleted) once.

CREATE TABLE pending_logins (
    id_hash CHAR(64) NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    KEY pending_logins_expiry (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
