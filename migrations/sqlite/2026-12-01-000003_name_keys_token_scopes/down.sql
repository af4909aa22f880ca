ALTER TABLE api_tokens DROP COLUMN expires_at;
ALTER TABLE api_tokens DROP COLUMN scope;

DROP INDEX ux_users_username;
ALTER TABLE users DROP COLUMN username_key;
CREATE UNIQUE INDEX ux_users_username ON users (lower(username));

DROP INDEX ux_categories_name;
ALTER TABLE categories DROP COLUMN name_key;
CREATE UNIQUE INDEX ux_categories_name ON categories (lower(name));

DROP INDEX ux_locations_sibling_name;
ALTER TABLE locations DROP COLUMN name_key;
CREATE UNIQUE INDEX ux_locations_sibling_name ON locations (COALESCE(parent_id, 0), lower(name));
