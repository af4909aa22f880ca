-- After a restore: AUTOINCREMENT continues from the largest restored id (explicit inserts
-- only ever raise sqlite_sequence, and the rows deleted before the load left it higher).
UPDATE sqlite_sequence SET seq = COALESCE((SELECT MAX(id) FROM locations), 0) WHERE name = 'locations';
UPDATE sqlite_sequence SET seq = COALESCE((SELECT MAX(id) FROM categories), 0) WHERE name = 'categories';
UPDATE sqlite_sequence SET seq = COALESCE((SELECT MAX(id) FROM items), 0) WHERE name = 'items';
UPDATE sqlite_sequence SET seq = COALESCE((SELECT MAX(id) FROM users), 0) WHERE name = 'users';
UPDATE sqlite_sequence SET seq = COALESCE((SELECT MAX(id) FROM api_tokens), 0) WHERE name = 'api_tokens';
