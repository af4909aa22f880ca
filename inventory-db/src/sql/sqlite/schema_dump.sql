SELECT type || ' ' || name || ': ' || coalesce(sql, '(automatic)') AS v
FROM sqlite_master
WHERE name NOT LIKE 'sqlite_%'
