-- A location and its descendants down to a depth limit ($2), with each row's depth and
-- its type as its position in `LocationType::ALL` (the text only for another value): the
-- program appends the SELECT from `sub` (`outline_walk!` in models/location.rs). The
-- walk carries every column, so that no join back to `locations` follows it (SQLite's
-- planner would otherwise scan the whole table and probe the walk with a Bloom filter).
WITH RECURSIVE sub (id, name, description, location_type, parent_id, created_at, updated_at, name_key, depth) AS (
    SELECT id, name, description, location_type, parent_id, created_at, updated_at, name_key, 0
    FROM locations
    WHERE id = $1
    UNION ALL
    SELECT l.id, l.name, l.description, l.location_type, l.parent_id, l.created_at, l.updated_at, l.name_key, s.depth + 1
    FROM sub s
    JOIN locations l ON l.parent_id = s.id
    WHERE s.depth < $2
)
