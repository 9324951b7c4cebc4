-- Every column of the current database (views' columns too: inspect keeps those of base tables).
-- https://dev.mysql.com/doc/refman/8.0/en/information-schema-columns-table.html
-- https://mariadb.com/kb/en/information-schema-columns-table/
SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE,
       COLUMN_DEFAULT, EXTRA, GENERATION_EXPRESSION, CHARACTER_SET_NAME, COLLATION_NAME,
       COLUMN_COMMENT
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, ORDINAL_POSITION
