-- E-mail (SQLite dialect): templates bound to actions by slug (one per
-- slug and language), the sent log, and single-use set-password tokens.

CREATE TABLE mail_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    slug TEXT NULL,
    language TEXT NOT NULL,
    subject TEXT NOT NULL,
    html_body TEXT NOT NULL,
    text_body TEXT NOT NULL,
    reply_to TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (slug, language)
);

CREATE TABLE sent_mails (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient_user_id BIGINT NULL,
    recipient_name TEXT NOT NULL,
    recipient_email TEXT NOT NULL,
    reply_to TEXT NOT NULL,
    subject TEXT NOT NULL,
    html_body TEXT NOT NULL,
    text_body TEXT NOT NULL,
    template_id BIGINT NULL,
    template_name TEXT NOT NULL,
    status TEXT NOT NULL,
    answer TEXT NOT NULL,
    task_id BIGINT NULL,
    message_id TEXT NOT NULL,
    -- Set by callers of notify(): the same key never makes a second mail.
    idempotency_key TEXT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sent_mails_created ON sent_mails(created_at);
CREATE INDEX sent_mails_status ON sent_mails(status, created_at);

CREATE TABLE password_tokens (
    token_hash TEXT NOT NULL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX password_tokens_user ON password_tokens(user_id);
