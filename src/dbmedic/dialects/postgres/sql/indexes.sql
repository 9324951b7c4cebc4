-- Indexes that do not back a PRIMARY KEY, UNIQUE or EXCLUDE constraint.
-- Per column: its attnum (indkey; 0 for an expression, whose text pg_get_indexdef(oid, k, true)
-- gives), indoption bits (1 = DESC, 2 = NULLS FIRST), non-default operator class. Columns are
-- named in Python from the columns query.
SELECT t.relname AS table_name,
       ic.relname AS name,
       i.indisunique AS is_unique,
       am.amname AS method,
       pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
       i.indnkeyatts AS key_count,
       i.indisvalid AS valid,
       i.indkey::int2[] AS keys,
       CASE WHEN i.indexprs IS NOT NULL THEN
            array(SELECT CASE WHEN i.indkey[k - 1] = 0 THEN pg_get_indexdef(i.indexrelid, k, true) END
                  FROM generate_series(1, i.indnatts) AS k ORDER BY k)
       END AS expressions,
       array(SELECT i.indoption[k - 1]
             FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k) AS options,
       array(SELECT CASE WHEN opc.opcdefault THEN '' ELSE opc.opcname END
             FROM generate_series(1, i.indnkeyatts) AS k
             JOIN pg_opclass opc ON opc.oid = i.indclass[k - 1]
             ORDER BY k) AS opclasses
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = ic.relam
WHERE n.nspname = current_schema()
  AND t.relkind IN ('r', 'p')
  AND NOT t.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                  WHERE con.conrelid = i.indrelid AND con.conindid = i.indexrelid
                    AND con.contype IN ('p', 'u', 'x'))
ORDER BY t.relname, ic.relname
