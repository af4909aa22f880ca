-- Deletes the entries of the subtree of location :root in the search index and its kept
-- totals, and, where the items go with it (between the markers, left out otherwise), the
-- items' search entries, the items themselves, and their share of their categories'
-- counts: one statement each, for a delete of a large subtree that runs with the triggers
-- dropped (a trigger does the same one row at a time, in the cascade's order, ten times
-- slower). The locations themselves are deleted after this, by the cascade from :root.
CREATE TEMP TABLE IF NOT EXISTS doomed_locations (id INTEGER PRIMARY KEY);
DELETE FROM temp.doomed_locations;
INSERT INTO temp.doomed_locations
WITH RECURSIVE sub (id, depth) AS (
    SELECT id, 0 FROM locations WHERE id = :root
    UNION ALL
    SELECT l.id, s.depth + 1 FROM locations l JOIN sub s ON l.parent_id = s.id
    WHERE s.depth < 100000
)
SELECT id FROM sub;
-- items: begin
DELETE FROM search_fts WHERE rowid IN (
    SELECT 2 * id FROM items WHERE location_id IN (SELECT id FROM temp.doomed_locations)
);
UPDATE categories
SET item_count = item_count - doomed.n
FROM (
    SELECT category_id, count(*) AS n FROM items
    WHERE location_id IN (SELECT id FROM temp.doomed_locations) AND category_id IS NOT NULL
    GROUP BY category_id
) AS doomed
WHERE categories.id = doomed.category_id;
DELETE FROM items WHERE location_id IN (SELECT id FROM temp.doomed_locations);
-- items: end
DELETE FROM search_fts WHERE rowid IN (SELECT 2 * id + 1 FROM temp.doomed_locations);
DELETE FROM location_totals WHERE location_id IN (SELECT id FROM temp.doomed_locations);
DROP TABLE temp.doomed_locations;
