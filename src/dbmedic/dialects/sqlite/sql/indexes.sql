-- Key columns of every index (origin c = CREATE INDEX, u = UNIQUE constraint, pk = PRIMARY KEY);
-- cid -2 marks an expression, whose text is read from the CREATE INDEX statement:
-- https://www.sqlite.org/pragma.html#pragma_index_list, #pragma_index_xinfo
SELECT s.name AS table_name, il.name AS index_name, il."unique", il.origin, il.partial,
       ix.seqno, ix.cid, ix.name AS column_name, ix."desc", ix.coll
FROM sqlite_schema AS s
JOIN pragma_index_list(s.name, 'main') AS il
JOIN pragma_index_xinfo(il.name, 'main') AS ix
WHERE s.type = 'table'
  AND s.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND s.sql NOT LIKE 'CREATE VIRTUAL %'
  AND ix.key = 1
ORDER BY s.name, il.name, ix.seqno
