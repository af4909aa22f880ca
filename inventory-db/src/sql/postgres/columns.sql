SELECT c.table_name::text AS table_name,
       c.column_name::text AS column_name,
       c.data_type::text AS data_type,
       (c.is_nullable = 'YES') AS nullable,
       EXISTS (
           SELECT 1
           FROM information_schema.table_constraints tc
           JOIN information_schema.key_column_usage k
             ON k.constraint_name = tc.constraint_name
            AND k.table_schema = tc.table_schema
            AND k.table_name = tc.table_name
           WHERE tc.constraint_type = 'PRIMARY KEY'
             AND tc.table_schema = c.table_schema
             AND tc.table_name = c.table_name
             AND k.column_name = c.column_name
       ) AS primary_key
FROM information_schema.columns c
WHERE c.table_schema = current_schema()
ORDER BY c.table_name, c.ordinal_position
