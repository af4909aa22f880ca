-- After a restore: the next generated id of each table follows the largest restored id.
SELECT setval(pg_get_serial_sequence('locations', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM locations;
SELECT setval(pg_get_serial_sequence('categories', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM categories;
SELECT setval(pg_get_serial_sequence('items', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM items;
SELECT setval(pg_get_serial_sequence('users', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM users;
SELECT setval(pg_get_serial_sequence('api_tokens', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM api_tokens;
