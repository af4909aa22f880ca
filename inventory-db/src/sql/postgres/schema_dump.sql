SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type
       || coalesce('(' || character_maximum_length || ')', '')
       || CASE WHEN is_nullable = 'NO' THEN ' not null' ELSE '' END
       || coalesce(' default ' || column_default, '') AS v
FROM information_schema.columns
WHERE table_schema = current_schema()
UNION ALL
SELECT 'constraint ' || cl.relname || ' ' || con.conname || ' ' || pg_get_constraintdef(con.oid)
FROM pg_constraint con
JOIN pg_class cl ON cl.oid = con.conrelid
WHERE cl.relnamespace = current_schema()::regnamespace
UNION ALL
SELECT 'index ' || indexdef
FROM pg_indexes
WHERE schemaname = current_schema()
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid)
FROM pg_trigger t
JOIN pg_class cl ON cl.oid = t.tgrelid
WHERE NOT t.tgisinternal AND cl.relnamespace = current_schema()::regnamespace
