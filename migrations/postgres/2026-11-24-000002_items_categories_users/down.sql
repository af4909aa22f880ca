DROP TABLE api_tokens;
DROP TABLE users;
DROP INDEX ix_locations_search;
DROP TABLE items;
DROP TABLE categories;
