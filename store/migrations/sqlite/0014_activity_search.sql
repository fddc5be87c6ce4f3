-- Full-text search on the names of activities' targets (SQLite dialect): an
-- FTS5 index over `activities.target_name` (external content, by rowid),
-- kept in step by triggers; activities are only ever inserted and deleted.
-- Letters keep their accents (as the MongoDB adapter compares them). The
-- rowids of `activities` are stable as long as nobody runs VACUUM; after a
-- VACUUM, `INSERT INTO activities_fts(activities_fts) VALUES ('rebuild')`.
CREATE VIRTUAL TABLE activities_fts USING fts5(
    target_name,
    content = 'activities',
    tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO activities_fts(activities_fts) VALUES ('rebuild');

CREATE TRIGGER activities_fts_insert AFTER INSERT ON activities BEGIN
    INSERT INTO activities_fts(rowid, target_name) VALUES (new.rowid, new.target_name);
END;

CREATE TRIGGER activities_fts_delete AFTER DELETE ON activities BEGIN
    INSERT INTO activities_fts(activities_fts, rowid, target_name) VALUES ('delete', old.rowid, old.target_name);
END;
