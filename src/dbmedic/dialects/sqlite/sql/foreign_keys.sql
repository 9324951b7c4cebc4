-- Foreign keys of every table; "to" is NULL when the clause names no columns (the parent's
-- primary key is meant): https://www.sqlite.org/pragma.html#pragma_foreign_key_list
SELECT s.name AS table_name, fk.id, fk.seq, fk."table" AS ref_table, fk."from" AS column_name,
       fk."to" AS ref_column, fk.on_update, fk.on_delete, fk."match"
FROM sqlite_schema AS s
JOIN pragma_foreign_key_list(s.name, 'main') AS fk
WHERE s.type = 'table'
  AND s.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND s.sql NOT LIKE 'CREATE VIRTUAL %'
ORDER BY s.name, fk.id, fk.seq
