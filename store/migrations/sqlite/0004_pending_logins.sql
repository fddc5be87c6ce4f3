-- Single sign-on attempts waiting for the provider's callback (SQLite dialect).
-- Keyed by the HMAC of the id in the browser's cookie; taken (deleted) once.

CREATE TABLE pending_logins (
    id_hash TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX pending_logins_expiry ON pending_logins(expires_at);
