-- Primary keys, unique, foreign key and check constraints (NOT NULL is a column property in PG 15).
-- Columns come as attnums (conkey, confkey), named in Python from the columns query; names are
-- looked up here only for a referenced table that query does not read (another schema).
SELECT c.relname AS table_name,
       con.conname AS name,
       con.contype AS kind,
       con.conkey AS keys,
       rc.relname AS ref_table,
       CASE WHEN rn.nspname <> current_schema() THEN rn.nspname END AS ref_schema,
       con.confkey AS ref_keys,
       CASE WHEN rn.nspname <> current_schema() OR rc.relispartition THEN
            array(SELECT a.attname
                  FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, pos)
                  JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
                  ORDER BY k.pos)
       END AS ref_names,
       con.confupdtype AS on_update,
       con.confdeltype AS on_delete,
       con.confmatchtype AS match_type,
       con.condeferrable AS deferrable,
       con.condeferred AS deferred,
       CASE WHEN con.contype = 'c' THEN pg_get_constraintdef(con.oid, true) END AS definition
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE n.nspname = current_schema()
  AND c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND con.contype IN ('p', 'u', 'f', 'c')
ORDER BY c.relname, con.conname
