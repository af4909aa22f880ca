-- A location and its descendants down to a depth limit ($2), with each row's depth.
WITH RECURSIVE sub (id, depth) AS (
    SELECT id, 0
    FROM locations
    WHERE id = $1
    UNION ALL
    SELECT l.id, s.depth + 1
    FROM locations l
    JOIN sub s ON l.parent_id = s.id
    WHERE s.depth < $2
)
SELECT l.id, l.name, l.description, l.location_type, l.parent_id, l.created_at, l.updated_at, l.name_key, s.depth
FROM sub s
JOIN locations l ON l.id = s.id
