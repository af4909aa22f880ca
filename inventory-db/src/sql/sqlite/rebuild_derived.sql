-- What the rows derive, computed from the tables in one pass for a load that ran without
-- the triggers that keep it: the search index (just created again, empty) gets the entries
-- the search triggers write row by row (a test compares the two).
INSERT INTO search_fts (rowid, kind, ref_id, name, body)
SELECT 2 * id + 1, 'location', id, name, coalesce(description, '')
FROM locations ORDER BY id;
INSERT INTO search_fts (rowid, kind, ref_id, name, body)
SELECT 2 * id, 'item', id, name,
       coalesce(description, '') || ' ' || coalesce(notes, '') || ' ' || coalesce(serial_number, '')
FROM items ORDER BY id;
-- Each category's number of items, as the count triggers keep it.
UPDATE categories
SET item_count = (SELECT count(*) FROM items WHERE items.category_id = categories.id);
