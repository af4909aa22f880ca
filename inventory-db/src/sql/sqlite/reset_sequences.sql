-- After a restore: AUTOINCREMENT continues from the largest restored id (explicit inserts
-- only ever raise sqlite_sequence, and the rows deleted before the load left it higher).
UPDATE sqlite_sequence SET seq = COALESCE((SELECT MAX(id) FROM locations), 0) WHERE name = 'locations';
