-- Every location reachable from a root, with the root it is under (its house) and the
-- child of that root it is under (its room; NULL for the root itself). The depth bound
-- stops the walk on damaged data that contains a cycle. The same text on both engines;
-- the statement that includes it goes on with its SELECT.
WITH RECURSIVE walk (id, house_id, room_id, depth) AS (
    SELECT id, id, CAST(NULL AS BIGINT), 0
    FROM locations
    WHERE parent_id IS NULL
    UNION ALL
    SELECT l.id, w.house_id, CASE WHEN w.depth = 0 THEN l.id ELSE w.room_id END, w.depth + 1
    FROM locations l
    JOIN walk w ON l.parent_id = w.id
    WHERE w.depth < 100000
)
