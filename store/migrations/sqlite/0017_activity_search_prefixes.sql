-- Prefix indexes for the activity search (SQLite dialect). A search word is
-- the start of a word of the name (`"word"*`); without an index of that
-- prefix length FTS5 merges the lists of every term starting with it before
-- returning the first row (35 ms for a word in every name at 1M rows; 0.4 ms
-- with the index), so the store could not tell a rare word from a common one
-- cheaply. Longer words are looked up by their first six characters and
-- checked whole by the store. The triggers of 0014 keep this table in step.
DROP TABLE activities_fts;
CREATE VIRTUAL TABLE activities_fts USING fts5(
    target_name,
    content = 'activities',
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '3 4 5 6'
);
INSERT INTO activities_fts(activities_fts) VALUES ('rebuild');
