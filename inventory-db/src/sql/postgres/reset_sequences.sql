-- After a restore: the next generated id of each table follows the largest restored id.
SELECT setval(pg_get_serial_sequence('locations', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM locations;
