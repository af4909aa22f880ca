-- The houses (root locations) and rooms (locations directly under a root). The same text
-- on both engines.
SELECT id, name, location_type, parent_id, name_key
FROM locations
WHERE parent_id IS NULL
   OR parent_id IN (SELECT id FROM locations WHERE parent_id IS NULL)
