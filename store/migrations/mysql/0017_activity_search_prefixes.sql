-- Nothing changes on MariaDB: its FULLTEXT index answers prefix queries
-- (`+word*`) without help. The SQLite dialect adds FTS5 prefix indexes here.
SELECT 1;
