-- Every index column (primary key, unique and plain keys) of the current database.
-- MySQL 8: EXPRESSION for functional key parts, IS_VISIBLE for invisible indexes
-- https://dev.mysql.com/doc/refman/8.0/en/information-schema-statistics-table.html
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, COLLATION, SUB_PART,
       INDEX_TYPE, INDEX_COMMENT,
       CASE WHEN IS_VISIBLE = 'NO' THEN 'YES' ELSE 'NO' END AS HIDDEN,
       EXPRESSION
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
