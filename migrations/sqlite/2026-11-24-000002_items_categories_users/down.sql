DROP TABLE api_tokens;
DROP TABLE users;
DROP TRIGGER trg_locations_search_delete;
DROP TRIGGER trg_locations_search_update;
DROP TRIGGER trg_locations_search_insert;
DROP TABLE search_fts;
DROP TABLE items;
DROP TABLE categories;
