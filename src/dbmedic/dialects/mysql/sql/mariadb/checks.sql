-- MariaDB names checks per table (a column-level check is named after its column), so the table
-- comes from CHECK_CONSTRAINTS itself.
-- https://mariadb.com/kb/en/information-schema-check_constraints-table/
SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE
FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE()
