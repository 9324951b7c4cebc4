-- User triggers (not the internal ones behind foreign keys) with their definition and, when the
-- trigger function lives in the current schema, that function's definition too.
SELECT tg.tgname AS name,
       c.relname AS table_name,
       pg_get_triggerdef(tg.oid, true) AS definition,
       tg.tgattr::int2[] AS update_keys,
       CASE WHEN pn.nspname = current_schema() THEN pg_get_functiondef(p.oid) END AS function_def,
       quote_ident(pn.nspname) AS function_schema
FROM pg_trigger tg
JOIN pg_class c ON c.oid = tg.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_proc p ON p.oid = tg.tgfoid
JOIN pg_namespace pn ON pn.oid = p.pronamespace
WHERE n.nspname = current_schema()
  AND NOT tg.tgisinternal
ORDER BY tg.tgname, c.relname
