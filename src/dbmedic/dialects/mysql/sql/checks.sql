-- MySQL 8.0.16+: CHECK_CONSTRAINTS has no TABLE_NAME; check names are unique per schema, so the
-- table comes from TABLE_CONSTRAINTS.
-- https://dev.mysql.com/doc/refman/8.0/en/information-schema-check-constraints-table.html
SELECT tc.TABLE_NAME, cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE
FROM information_schema.CHECK_CONSTRAINTS cc
JOIN information_schema.TABLE_CONSTRAINTS tc
  ON tc.CONSTRAINT_SCHEMA = cc.CONSTRAINT_SCHEMA
 AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME
 AND tc.CONSTRAINT_TYPE = 'CHECK'
WHERE cc.CONSTRAINT_SCHEMA = DATABASE()
  AND tc.TABLE_SCHEMA = DATABASE()
