-- Dashboard and time zones (SQLite dialect): notifications, quick links, users.time_zone.
-- See the MariaDB file.

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message TEXT NOT NULL,
    severity TEXT NOT NULL,
    starts_at BIGINT,
    ends_at BIGINT,
    updated_at BIGINT NOT NULL
);

CREATE TABLE quick_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    position BIGINT NOT NULL
);

-- Each person's time zone (IANA name); empty: the site's `site.time_zone`.
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
