-- The ancestor chain of each seed location, root first: one row per (seed, ancestor).
-- The depth bound stops the walk on damaged data that contains a cycle. `= ANY (ARRAY(…))`
-- rather than `IN (SELECT …)`: the planner takes the array for a few ids and walks the
-- primary key; for the set-returning function it assumes 100 rows and scans the table.
WITH RECURSIVE chain (seed, id, parent_id, name, location_type, depth) AS (
    SELECT id, id, parent_id, name, location_type, 0
    FROM locations
    WHERE id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::bigint))
    UNION ALL
    SELECT c.seed, l.id, l.parent_id, l.name, l.location_type, c.depth + 1
    FROM chain c
    JOIN locations l ON l.id = c.parent_id
    WHERE c.depth < 100000
)
SELECT seed, id, name, location_type, depth
FROM chain
ORDER BY seed, depth DESC
