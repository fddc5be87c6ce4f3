-- Full-text search on the names of activities' targets (MariaDB dialect).
-- Boolean-mode prefix queries (`+word*`) use this index. Stopwords off, so
-- every word of three or more characters (InnoDB's minimum token size) is
-- indexed; shorter words are matched with LIKE by the query.
SET SESSION innodb_ft_enable_stopword = OFF;
ALTER TABLE activities ADD FULLTEXT INDEX activities_target_name (target_name);
