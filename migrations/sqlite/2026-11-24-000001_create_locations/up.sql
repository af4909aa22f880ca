-- Locations: the tree of places (house > rooms > containers and shelves).
-- AUTOINCREMENT so that the id of a deleted location is never handed out again.
CREATE TABLE locations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    location_type VARCHAR(9) NOT NULL,
    parent_id INTEGER REFERENCES locations (id) ON DELETE CASCADE,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL,
    CONSTRAINT ck_locations_location_type CHECK (location_type IN ('HOUSE', 'ROOM', 'CONTAINER', 'SHELF')),
    CONSTRAINT ck_locations_name_not_blank CHECK (length(trim(name)) > 0)
);

CREATE INDEX ix_locations_name ON locations (name);
CREATE INDEX ix_locations_location_type ON locations (location_type);
CREATE INDEX ix_locations_parent_id ON locations (parent_id);
-- Sibling names are unique case-insensitively; roots (parent_id NULL) count as siblings.
-- SQLite's lower() folds ASCII only; inventory-db also checks Unicode case under the write lock.
CREATE UNIQUE INDEX ux_locations_sibling_name ON locations (COALESCE(parent_id, 0), lower(name));
