-- The search index (just created again, empty) filled from the tables in one pass, for a
-- load that ran without it: the entries the triggers of the items and categories migration
-- write row by row (a test compares the two).
INSERT INTO search_fts (rowid, kind, ref_id, name, body)
SELECT 2 * id + 1, 'location', id, name, coalesce(description, '')
FROM locations ORDER BY id;
INSERT INTO search_fts (rowid, kind, ref_id, name, body)
SELECT 2 * id, 'item', id, name,
       coalesce(description, '') || ' ' || coalesce(notes, '') || ' ' || coalesce(serial_number, '')
FROM items ORDER BY id;
