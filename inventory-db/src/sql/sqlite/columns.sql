SELECT m.name AS table_name,
       p.name AS column_name,
       lower(p.type) AS data_type,
       (p."notnull" = 0 AND p.pk = 0) AS nullable,
       (p.pk > 0) AS primary_key
FROM sqlite_master m
JOIN pragma_table_info(m.name) p
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
  AND m.name NOT LIKE 'search_fts%' -- the full-text index: derived data, not part of schema.rs
ORDER BY m.name, p.cid
