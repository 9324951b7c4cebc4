-- Every user object of the main schema: tables, indexes, views, triggers and their CREATE text.
-- Names starting with sqlite_ are reserved for SQLite's own tables (sqlite_sequence, sqlite_stat1)
-- and automatic indexes: https://www.sqlite.org/fileformat2.html#intschema
SELECT s.type, s.name, s.tbl_name, s.sql
FROM sqlite_schema AS s
WHERE s.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY s.type, s.name
