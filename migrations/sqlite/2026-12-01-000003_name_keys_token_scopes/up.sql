-- Name keys: sibling location names, category names and user names are unique by the key
-- inventory-core computes (trimmed, NFC, full Unicode case folding), stored beside the
-- name with a unique index, identically on both backends (SQLite's lower() folds ASCII
-- only, so the old lower(name) indexes did not hold). The keys of existing rows are filled
-- in by the program right after this migration (`Database::migrate`); until then each row
-- holds a placeholder that no real name can have (a control character and its id).
ALTER TABLE locations ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE locations SET name_key = char(1) || id;
DROP INDEX ux_locations_sibling_name;
CREATE UNIQUE INDEX ux_locations_sibling_name ON locations (COALESCE(parent_id, 0), name_key);

ALTER TABLE categories ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE categories SET name_key = char(1) || id;
DROP INDEX ux_categories_name;
CREATE UNIQUE INDEX ux_categories_name ON categories (name_key);

ALTER TABLE users ADD COLUMN username_key TEXT NOT NULL DEFAULT '';
UPDATE users SET username_key = char(1) || id;
DROP INDEX ux_users_username;
CREATE UNIQUE INDEX ux_users_username ON users (username_key);

-- Tokens: what they may do (read: GET only; write: what the user's role allows) and when
-- they stop working. Tokens made before this migration keep working as before (write, no expiry).
ALTER TABLE api_tokens ADD COLUMN scope VARCHAR(5) NOT NULL DEFAULT 'write' CHECK (scope IN ('read', 'write'));
ALTER TABLE api_tokens ADD COLUMN expires_at DATETIME;
