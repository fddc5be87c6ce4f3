-- Dashboard and time zones (MariaDB dialect): system-wide notifications shown as a banner
-- while active, and the administrators' quick links, in their order.

CREATE TABLE notifications (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    message TEXT NOT NULL,
    severity VARCHAR(16) NOT NULL,
    starts_at BIGINT NULL,
    ends_at BIGINT NULL,
    updated_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE quick_links (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    title VARCHAR(200) NOT NULL,
    url VARCHAR(2000) NOT NULL,
    position BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Each person's time zone (IANA name); empty: the site's `site.time_zone`.
ALTER TABLE users ADD COLUMN time_zone VARCHAR(64) NOT NULL DEFAULT '';
