-- MariaDB: no functional key parts (no EXPRESSION column); IGNORED (10.6+) instead of IS_VISIBLE.
-- https://mariadb.com/kb/en/information-schema-statistics-table/
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, COLLATION, SUB_PART,
       INDEX_TYPE, INDEX_COMMENT,
       IGNORED AS HIDDEN,
       NULL AS EXPRESSION
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
