-- All columns of all ordinary tables, generated columns included (hidden 2 = virtual, 3 = stored):
-- https://www.sqlite.org/pragma.html#pragma_table_xinfo
SELECT s.name AS table_name, c.cid, c.name, c.type, c."notnull", c.dflt_value, c.pk, c.hidden
FROM sqlite_schema AS s
JOIN pragma_table_xinfo(s.name, 'main') AS c
WHERE s.type = 'table'
  AND s.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND s.sql NOT LIKE 'CREATE VIRTUAL %'
ORDER BY s.name, c.cid
