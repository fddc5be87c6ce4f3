-- E-mail (MariaDB dialect): templates bound to actions by slug (one per
-- slug and language), the sent log, and single-use set-password tokens.

CREATE TABLE mail_templates (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    slug VARCHAR(100) NULL,
    language VARCHAR(8) NOT NULL,
    subject VARCHAR(500) NOT NULL,
    html_body MEDIUMTEXT NOT NULL,
    text_body MEDIUMTEXT NOT NULL,
    reply_to VARCHAR(254) NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE KEY slug (slug, language)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE sent_mails (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    recipient_user_id BIGINT NULL,
    recipient_name VARCHAR(200) NOT NULL,
    recipient_email VARCHAR(254) NOT NULL,
    reply_to VARCHAR(254) NOT NULL,
    subject VARCHAR(500) NOT NULL,
    html_body MEDIUMTEXT NOT NULL,
    text_body MEDIUMTEXT NOT NULL,
    template_id BIGINT NULL,
    template_name VARCHAR(200) NOT NULL,
    status VARCHAR(16) NOT NULL,
    answer TEXT NOT NULL,
    task_id BIGINT NULL,
    message_id VARCHAR(200) NOT NULL,
    -- Set by callers of notify(): the same key never makes a second mail.
    idempotency_key VARCHAR(200) NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE KEY idempotency_key (idempotency_key),
    KEY sent_mails_created (created_at),
    KEY sent_mails_status (status, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE password_tokens (
    token_hash CHAR(64) NOT NULL PRIMARY KEY,
    user_id BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    KEY password_tokens_user (user_id),
    CONSTRAINT password_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
