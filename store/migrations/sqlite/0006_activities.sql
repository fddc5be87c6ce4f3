-- Activities (SQLite dialect). The outbox receives each activity in the
-- transaction of the change it describes; the forwarder moves it to the
-- activity log (this `activities` table, or MongoDB when configured).
-- Both tables have the same columns. Times are UTC milliseconds.

CREATE TABLE activity_outbox (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    at BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id BIGINT NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target_name TEXT NOT NULL,
    event_id BIGINT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NULL,
    request_id TEXT NULL,
    client_ip TEXT NULL,
    details TEXT NOT NULL
);

CREATE TABLE activities (
    id TEXT NOT NULL PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id BIGINT NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target_name TEXT NOT NULL,
    event_id BIGINT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NULL,
    request_id TEXT NULL,
    client_ip TEXT NULL,
    details TEXT NOT NULL
);
-- Newest first, with the id as tie-breaker: the keyset of every listing.
CREATE INDEX activities_time ON activities(at, id);
CREATE INDEX activities_actor ON activities(actor_id, at, id);
CREATE INDEX activities_event ON activities(event_id, at, id);
CREATE INDEX activities_action ON activities(action, at, id);
CREATE INDEX activities_target ON activities(target_type, target_id, at);

-- The request that created a task, so its job's logs name it too.
ALTER TABLE tasks ADD COLUMN request_id TEXT NULL;
