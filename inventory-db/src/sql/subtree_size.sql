-- How many locations the subtree of $1 holds, itself included.
WITH RECURSIVE sub (id, depth) AS (
    SELECT id, 0 FROM locations WHERE id = $1
    UNION ALL
    SELECT l.id, s.depth + 1
    FROM locations l
    JOIN sub s ON l.parent_id = s.id
    WHERE s.depth < 100000
)
SELECT count(*) AS n FROM sub
