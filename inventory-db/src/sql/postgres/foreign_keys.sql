SELECT cl.relname::text AS table_name,
       a.attname::text AS column_name,
       fcl.relname::text AS foreign_table,
       CASE con.confdeltype
           WHEN 'c' THEN 'CASCADE'
           WHEN 'n' THEN 'SET NULL'
           WHEN 'r' THEN 'RESTRICT'
           WHEN 'd' THEN 'SET DEFAULT'
           ELSE 'NO ACTION'
       END AS on_delete,
       EXISTS (
           SELECT 1 FROM pg_index i
           WHERE i.indrelid = con.conrelid AND i.indkey[0] = con.conkey[1]
       ) AS indexed
FROM pg_constraint con
JOIN pg_class cl ON cl.oid = con.conrelid
JOIN pg_class fcl ON fcl.oid = con.confrelid
JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
WHERE con.contype = 'f' AND cl.relnamespace = current_schema()::regnamespace
ORDER BY 1, 2
