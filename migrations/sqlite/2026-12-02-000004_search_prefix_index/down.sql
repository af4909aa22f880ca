DROP TABLE search_fts;
CREATE VIRTUAL TABLE search_fts USING fts5 (
    kind UNINDEXED,
    ref_id UNINDEXED,
    name,
    body,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO search_fts (rowid, kind, ref_id, name, body)
SELECT 2 * id + 1, 'location', id, name, coalesce(description, '')
FROM locations ORDER BY id;
INSERT INTO search_fts (rowid, kind, ref_id, name, body)
SELECT 2 * id, 'item', id, name,
       coalesce(description, '') || ' ' || coalesce(notes, '') || ' ' || coalesce(serial_number, '')
FROM items ORDER BY id;
