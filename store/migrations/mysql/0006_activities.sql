-- Activities (MariaDB dialect). The outbox receives each activity in the
-- transaction of the change it describes; the forwarder moves it to the
-- activity log (this `activities` table, or MongoDB when configured).
-- Both tables have the same columns. Times are UTC milliseconds.

CREATE TABLE activity_outbox (
    position BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    id CHAR(32) NOT NULL,
    at BIGINT NOT NULL,
    actor_kind VARCHAR(16) NOT NULL,
    actor_id BIGINT NULL,
    actor_name VARCHAR(255) NOT NULL,
    action VARCHAR(64) NOT NULL,
    target_type VARCHAR(64) NOT NULL,
    target_id VARCHAR(255) NOT NULL,
    target_name VARCHAR(255) NOT NULL,
    event_id BIGINT NULL,
    outcome VARCHAR(16) NOT NULL,
    reason TEXT NULL,
    request_id VARCHAR(64) NULL,
    client_ip VARCHAR(64) NULL,
    details TEXT NOT NULL,
    UNIQUE KEY activity_outbox_id (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE activities (
    id CHAR(32) NOT NULL PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_kind VARCHAR(16) NOT NULL,
    actor_id BIGINT NULL,
    actor_name VARCHAR(255) NOT NULL,
    action VARCHAR(64) NOT NULL,
    target_type VARCHAR(64) NOT NULL,
    target_id VARCHAR(255) NOT NULL,
    target_name VARCHAR(255) NOT NULL,
    event_id BIGINT NULL,
    outcome VARCHAR(16) NOT NULL,
    reason TEXT NULL,
    request_id VARCHAR(64) NULL,
    client_ip VARCHAR(64) NULL,
    details TEXT NOT NULL,
    -- Newest first, with the id as tie-breaker: the keyset of every listing.
    KEY activities_time (at, id),
    KEY activities_actor (actor_id, at, id),
    KEY activities_event (event_id, at, id),
    KEY activities_action (action, at, id),
    KEY activities_target (target_type, target_id, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The request that created a task, so its job's logs name it too.
ALTER TABLE tasks ADD COLUMN request_id VARCHAR(64) NULL;
