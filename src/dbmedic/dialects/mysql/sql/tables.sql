-- Base tables of the current database with their options.
-- The table's charset is the part of TABLE_COLLATION before the first '_' (no charset name has one).
SELECT TABLE_NAME, ENGINE, TABLE_COLLATION, TABLE_COMMENT
FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'
